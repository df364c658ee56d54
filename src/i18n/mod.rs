//! The interface's languages: message catalogues, the choice of a request's language, and the
//! lookups templates and views make.
//!
//! Every string a person reads on a page comes from a catalogue in `locales/`: one TOML file per
//! language (`locales/en.toml`, `locales/zh-CN.toml`), `key = "text"` pairs (a `[section]` only
//! prefixes its keys: `[nav] queues = …` is the key `nav.queues`), with `{name}` placeholders.
//! The files are compiled in and parsed once. English is the reference: a key missing from
//! another catalogue falls back to English (and a test fails on it), a key missing everywhere
//! shows the key itself; nothing panics at run time.
//!
//! A request's language ([`negotiate`]): the `lang` cookie when it names a known language, else
//! the best `Accept-Language` entry by q-value that matches one (`zh`, `zh-CN`, `zh-Hans`,
//! `zh-SG`, and `zh-TW`/`zh-Hant` too for want of a Traditional catalogue, match Simplified
//! Chinese), else English. [`crate::http::middleware`] runs each request inside [`scope`], so
//! views and templates read it with [`current`]; machine answers (JSON, metrics) stay English.
//!
//! Adding a language: write `locales/<code>.toml` with every key of `en.toml`, and add one line
//! to [`REGISTRY`].

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::{Display, Write as _};
use std::future::Future;
use std::sync::{Mutex, OnceLock};

/// The languages: BCP 47 code and catalogue source. The first is English, the reference and the
/// fallback.
pub const REGISTRY: &[(&str, &str)] = &[
    ("en", include_str!("../../locales/en.toml")),
    ("zh-CN", include_str!("../../locales/zh-CN.toml")),
];

/// The name of the cookie that holds a viewer's chosen language.
pub const COOKIE: &str = "lang";

/// A language of the interface: an index into [`REGISTRY`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Lang(usize);

/// One parsed catalogue.
#[derive(Debug)]
pub struct Catalogue {
    /// Its language's code (`en`, `zh-CN`).
    pub code: &'static str,
    /// Its messages, by key.
    pub messages: HashMap<String, String>,
}

/// Parses a catalogue's source into flat keys (sections prefix their keys with `section.`).
///
/// # Errors
/// When the TOML does not parse or a value is not a string.
pub fn parse(source: &str) -> Result<HashMap<String, String>, String> {
    fn walk(
        prefix: &str,
        t: &toml::Table,
        out: &mut HashMap<String, String>,
    ) -> Result<(), String> {
        for (k, v) in t {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::String(s) => {
                    out.insert(key, s.clone());
                }
                toml::Value::Table(t) => walk(&key, t, out)?,
                _ => return Err(format!("{key}: not a string")),
            }
        }
        Ok(())
    }
    let table: toml::Table = source.parse().map_err(|e| format!("{e}"))?;
    let mut out = HashMap::new();
    walk("", &table, &mut out)?;
    Ok(out)
}

/// Every catalogue, parsed on first use. A catalogue that does not parse is empty (every lookup
/// then falls back to English; the catalogue test names the error).
pub fn catalogues() -> &'static [Catalogue] {
    static ALL: OnceLock<Vec<Catalogue>> = OnceLock::new();
    ALL.get_or_init(|| {
        REGISTRY
            .iter()
            .map(|(code, src)| Catalogue {
                code,
                messages: parse(src).unwrap_or_else(|e| {
                    tracing::error!(language = code, error = %e, "message catalogue does not parse");
                    HashMap::new()
                }),
            })
            .collect()
    })
}

impl Lang {
    /// English, the reference language.
    pub const EN: Lang = Lang(0);

    /// Every language, in registry order.
    pub fn all() -> impl Iterator<Item = Lang> {
        (0..REGISTRY.len()).map(Lang)
    }

    /// Its BCP 47 code, for `<html lang>` and the cookie.
    pub fn code(self) -> &'static str {
        REGISTRY[self.0].0
    }

    /// The language with this code (case-insensitive), if there is one.
    pub fn from_code(code: &str) -> Option<Lang> {
        REGISTRY
            .iter()
            .position(|(c, _)| c.eq_ignore_ascii_case(code.trim()))
            .map(Lang)
    }

    /// The message `key` in this language, else in English, else the key itself.
    pub fn get(self, key: &str) -> &'static str {
        let all = catalogues();
        if let Some(m) = all[self.0].messages.get(key) {
            return m;
        }
        if let Some(m) = all[0].messages.get(key) {
            return m;
        }
        // Unknown keys are a bug a test catches; show the key rather than nothing.
        tracing::warn!(key, "message key missing from every catalogue");
        intern(key)
    }

    /// The message `key` with its `{name}` placeholders replaced by `args`.
    pub fn fmt(self, key: &str, args: &[(&str, &dyn Display)]) -> String {
        fill(self.get(key), args, false)
    }
}

/// `s` as a `&'static str`, each distinct value kept once (unknown keys: a bug, and a finite
/// set, since keys are written in the code).
fn intern(s: &str) -> &'static str {
    static SEEN: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut set = match SEEN.get_or_init(Default::default).lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    match set.get(s) {
        Some(k) => k,
        None => {
            let k: &'static str = Box::leak(s.to_string().into_boxed_str());
            set.insert(k);
            k
        }
    }
}

/// Replaces each `{name}` of `text` by its argument (HTML-escaped when `escape`); unknown
/// placeholders stay as they are.
fn fill(text: &str, args: &[(&str, &dyn Display)], escape: bool) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(n, _)| *n == name) {
                    Some((_, v)) if escape => out.push_str(&escape_html(&v.to_string())),
                    Some((_, v)) => {
                        let _ = write!(out, "{v}");
                    }
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// The `{name}` placeholders of a message, in order.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        out.push(&after[..close]);
        rest = &after[close + 1..];
    }
    out
}

/// The language of a request: the `lang` cookie's if it names a known language, else the best
/// match of `Accept-Language`, else English.
pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
    if let Some(l) = cookie.and_then(Lang::from_code) {
        return l;
    }
    accept_language.map_or(Lang::EN, from_accept_language)
}

/// The best language of an `Accept-Language` header: entries by falling q-value (ties keep their
/// order), the first that matches a language exactly or by its primary subtag (`zh-TW` →
/// `zh-CN`); `*` and unknown languages match nothing, so English.
pub fn from_accept_language(header: &str) -> Lang {
    let mut entries: Vec<(&str, f32)> = header
        .split(',')
        .take(32)
        .filter_map(|part| {
            let mut it = part.split(';');
            let tag = it.next()?.trim();
            let mut q = 1.0f32;
            for p in it {
                if let Some(v) = p.trim().strip_prefix("q=") {
                    q = v.trim().parse().unwrap_or(0.0);
                }
            }
            (!tag.is_empty() && q > 0.0).then_some((tag, q))
        })
        .collect();
    entries.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (tag, _) in entries {
        if let Some(l) = Lang::from_code(tag) {
            return l;
        }
        let primary = tag.split(['-', '_']).next().unwrap_or("");
        if let Some(i) = REGISTRY.iter().position(|(c, _)| {
            c.split('-')
                .next()
                .is_some_and(|p| p.eq_ignore_ascii_case(primary))
        }) {
            return Lang(i);
        }
    }
    Lang::EN
}

tokio::task_local! {
    static LANG: Lang;
}

/// The current request's language (English outside a request: background tasks, logs).
pub fn current() -> Lang {
    LANG.try_with(|l| *l).unwrap_or(Lang::EN)
}

/// Runs `f` with `lang` as the current language.
pub async fn scope<F: Future>(lang: Lang, f: F) -> F::Output {
    LANG.scope(lang, f).await
}

/// Runs `f` synchronously with `lang` as the current language (tests, renders outside a request).
pub fn sync_scope<R>(lang: Lang, f: impl FnOnce() -> R) -> R {
    LANG.sync_scope(lang, f)
}

/// The message `key` in the current language.
pub fn t(key: &str) -> &'static str {
    current().get(key)
}

/// The message `key` in the current language with its placeholders filled.
pub fn tf(key: &str, args: &[(&str, &dyn Display)]) -> String {
    current().fmt(key, args)
}

/// For templates: `key` with one placeholder filled (the result is escaped by the template).
pub fn t1(key: &str, a: &str, av: impl Display) -> String {
    tf(key, &[(a, &av)])
}

/// For templates: `key` with two placeholders filled.
pub fn t2(key: &str, a: &str, av: impl Display, b: &str, bv: impl Display) -> String {
    tf(key, &[(a, &av), (b, &bv)])
}

/// For templates: `key` with three placeholders filled.
pub fn t3(
    key: &str,
    a: &str,
    av: impl Display,
    b: &str,
    bv: impl Display,
    c: &str,
    cv: impl Display,
) -> String {
    tf(key, &[(a, &av), (b, &bv), (c, &cv)])
}

/// For templates, a message holding markup (trusted: it is ours) with one placeholder filled and
/// HTML-escaped; output with `|safe`.
pub fn h1(key: &str, a: &str, av: impl Display) -> String {
    fill(current().get(key), &[(a, &av)], true)
}

/// For templates, a message holding markup with two placeholders filled and HTML-escaped; output
/// with `|safe`.
pub fn h2(key: &str, a: &str, av: impl Display, b: &str, bv: impl Display) -> String {
    fill(current().get(key), &[(a, &av), (b, &bv)], true)
}

/// The message `key` in the current language or English, `None` when no catalogue has it.
pub fn try_t(key: &str) -> Option<&'static str> {
    let all = catalogues();
    let cur = current();
    all[cur.0]
        .messages
        .get(key)
        .or_else(|| all[0].messages.get(key))
        .map(String::as_str)
}

/// A job status (`failed`, `started`…) for people: translated when the catalogue knows it
/// (`status.<name>`), else as RQ wrote it. Attributes and JSON keep RQ's word.
pub fn status(name: impl AsRef<str>) -> Cow<'static, str> {
    word("status", name.as_ref())
}

/// A registry name (`failed`, `scheduled`…) for people, like [`status`] (`registry.<name>`).
pub fn registry(name: impl AsRef<str>) -> Cow<'static, str> {
    word("registry", name.as_ref())
}

/// The name of a job page field (`timeout (s)`, `created`…) for people, like [`status`]
/// (`field.<name>`); `data-field` attributes keep the English name.
pub fn field(name: impl AsRef<str>) -> Cow<'static, str> {
    word("field", name.as_ref())
}

/// A word of a closed set RQ or the dashboard writes (`kind` is `status`, `registry`,
/// `severity`…) for people: `<kind>.<name>` from the catalogue, else the word as written.
pub fn word(kind: &str, name: impl AsRef<str>) -> Cow<'static, str> {
    let name = name.as_ref();
    match try_t(&format!("{kind}.{name}")) {
        Some(w) => Cow::Borrowed(w),
        // A word the catalogue does not know (a status a newer RQ adds, or anything a hostile
        // writer put in Redis) is kept as written, and not kept after.
        None => Cow::Owned(name.to_string()),
    }
}

/// The current language's code, for `<html lang>`.
pub fn code() -> &'static str {
    current().code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_honours_q_values_and_chinese_variants() {
        let zh = Lang::from_code("zh-CN").unwrap();
        for h in [
            "zh-CN",
            "zh",
            "zh-Hans",
            "zh-SG",
            "zh-TW",
            "zh-Hant-TW",
            "ZH-cn",
            "en;q=0.5, zh;q=0.9",
            "fr, zh-CN;q=0.8, en;q=0.7",
        ] {
            assert_eq!(from_accept_language(h), zh, "{h}");
        }
        for h in [
            "en",
            "en-US,en;q=0.9",
            "fr",
            "*",
            "",
            "zh;q=0, en",
            "de, zh;q=0.1, en;q=0.2",
        ] {
            assert_eq!(from_accept_language(h), Lang::EN, "{h}");
        }
    }

    #[test]
    fn the_cookie_wins_when_it_names_a_language() {
        let zh = Lang::from_code("zh-CN").unwrap();
        assert_eq!(negotiate(Some("zh-CN"), Some("en")), zh);
        assert_eq!(negotiate(Some("en"), Some("zh-CN")), Lang::EN);
        assert_eq!(negotiate(Some("klingon"), Some("zh")), zh);
        assert_eq!(negotiate(None, None), Lang::EN);
    }

    #[test]
    fn placeholders_are_filled_and_escaped_in_markup() {
        let n = 3;
        assert_eq!(fill("{n} jobs", &[("n", &n)], false), "3 jobs");
        assert_eq!(
            fill("a {x} b {y}", &[("x", &"<i>")], true),
            "a &lt;i&gt; b {y}"
        );
        assert_eq!(placeholders("{a} of {b}"), vec!["a", "b"]);
    }

    #[test]
    fn missing_keys_fall_back_without_panicking() {
        let zh = Lang::from_code("zh-CN").unwrap();
        assert_eq!(zh.get("no.such.key"), "no.such.key");
    }
}

#[cfg(test)]
mod checks;
