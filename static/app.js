// rqdash: the little behaviour htmx does not give for free. No inline scripts (CSP-friendly).
(function () {
  "use strict";
  var alerts = function () { return document.getElementById("alerts"); };
  // Words shown from here come from the page's language: the layout puts them on <body> as
  // data-msg-* attributes (from the message catalogue); English is the fallback.
  function msg(name, fallback) {
    var v = document.body && document.body.getAttribute("data-msg-" + name);
    return v || fallback;
  }

  function showAlert(text) {
    var box = alerts();
    if (!box) return;
    box.textContent = "";
    var p = document.createElement("p");
    p.className = "banner error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    box.appendChild(p);
  }

  function clearAlert() {
    var box = alerts();
    if (box && box.firstChild) box.textContent = "";
  }

  var refreshPaused = false;

  // Keyboard shortcuts: "/" jump to a job, "f" filter the list, "g q" queues, "g w" workers, "r" pause/resume refresh, "?" help.
  var pendingG = false;
  function showPaused() {
    var p = document.getElementById("paused");
    if (p) {
      p.hidden = !(refreshPaused || document.hidden);
      p.textContent = refreshPaused
        ? msg("refresh-paused", "(refresh paused: press r to resume)")
        : msg("paused-hidden", "(paused while hidden)");
    }
  }
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (t && t.closest && t.closest("input, textarea, select, [contenteditable]")) return;
    var go = function (sel) {
      var a = document.querySelector(sel);
      if (a) window.location.href = a.href;
    };
    if (pendingG) {
      pendingG = false;
      if (e.key === "q") { go("header nav a[data-nav=queues]"); e.preventDefault(); }
      else if (e.key === "w") { go("header nav a[data-nav=workers]"); e.preventDefault(); }
      return;
    }
    if (e.key === "/") {
      var box = document.getElementById("jump-id");
      if (box) { box.focus(); e.preventDefault(); }
    } else if (e.key === "f") {
      var filter = document.getElementById("list-filter");
      if (filter) { filter.focus(); filter.select(); e.preventDefault(); }
    } else if (e.key === "g") {
      pendingG = true;
      setTimeout(function () { pendingG = false; }, 1500);
    } else if (e.key === "r") {
      refreshPaused = !refreshPaused;
      showPaused();
      if (!refreshPaused && window.htmx) {
        document.querySelectorAll("[data-poll]").forEach(function (el) {
          window.htmx.trigger(el, "rqdash:refresh");
        });
      }
    } else if (e.key === "?") {
      var d = document.getElementById("shortcuts");
      if (d && d.showModal && !d.open) d.showModal();
    }
  });

  // Pause polling while the tab is hidden; refresh at once when it comes back.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var el = evt.detail && evt.detail.elt;
    if (!el || !el.hasAttribute || !el.hasAttribute("data-poll")) return;
    // Hidden tab, refresh paused with "r", or rows ticked for a bulk action: keep what is shown.
    if (document.hidden || refreshPaused || el.querySelector("input[name=ids]:checked")) {
      evt.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    showPaused();
    if (!document.hidden && !refreshPaused && window.htmx) {
      document.querySelectorAll("[data-poll]").forEach(function (el) {
        window.htmx.trigger(el, "rqdash:refresh");
      });
    }
  });

  // A failed refresh keeps the last good data on screen and says why above it.
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var text = msg("refresh-failed", "Refresh failed ({status})").replace("{status}", String(xhr.status));
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var msg = doc.body && doc.body.textContent.trim();
      if (msg) text = msg;
    } catch (e) { /* keep the generic text */ }
    showAlert(text + msg("last-data", " — showing the last data read."));
  });
  document.addEventListener("htmx:sendError", function () {
    showAlert(msg("not-answering", "The dashboard server is not answering") + msg("last-data", " — showing the last data read."));
  });
  document.addEventListener("htmx:afterSwap", clearAlert);

  // An error page that may go away by itself (Redis down or slow) checks again every few
  // seconds and reloads once the page answers.
  var retry = document.querySelector("[data-retry]");
  if (retry && window.fetch) {
    var every = Math.max(1000, parseInt(retry.getAttribute("data-retry-ms"), 10) || 3000);
    var check = function () {
      if (document.hidden) return;
      window.fetch(window.location.href, { method: "HEAD", cache: "no-store", credentials: "same-origin" })
        .then(function (r) { if (r.ok) window.location.reload(); })
        .catch(function () { /* still down: try again later */ });
    };
    setInterval(check, every);
  }
})();
