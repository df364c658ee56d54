// rqdash: the little behaviour htmx does not give for free. No inline scripts (CSP-friendly).
(function () {
  "use strict";
  var alerts = function () { return document.getElementById("alerts"); };

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

  // Pause polling while the tab is hidden; refresh at once when it comes back.
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var el = evt.detail && evt.detail.elt;
    if (!el || !el.hasAttribute || !el.hasAttribute("data-poll")) return;
    // Hidden tab, or rows ticked for a bulk action: keep what is on screen.
    if (document.hidden || el.querySelector("input[name=ids]:checked")) {
      evt.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    var paused = document.getElementById("paused");
    if (paused) paused.hidden = !document.hidden;
    if (!document.hidden && window.htmx) {
      document.querySelectorAll("[data-poll]").forEach(function (el) {
        window.htmx.trigger(el, "rqdash:refresh");
      });
    }
  });

  // A failed refresh keeps the last good data on screen and says why above it.
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var text = "Refresh failed (" + xhr.status + ")";
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var msg = doc.body && doc.body.textContent.trim();
      if (msg) text = msg;
    } catch (e) { /* keep the generic text */ }
    showAlert(text + " — showing the last data read.");
  });
  document.addEventListener("htmx:sendError", function () {
    showAlert("The dashboard server is not answering — showing the last data read.");
  });
  document.addEventListener("htmx:afterSwap", clearAlert);
})();
