//! The catalogue's guards: every language has exactly English's keys and placeholders, every key
//! the code and templates ask for exists, and no template holds English outside the catalogue.

use super::{catalogues, parse, placeholders, REGISTRY};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

/// The problems of each catalogue against English: missing and extra keys, placeholders lost.
fn catalogue_problems(en: &str, other_code: &str, other: &str) -> Vec<String> {
    let en = parse(en).expect("en.toml parses");
    let other = match parse(other) {
        Ok(o) => o,
        Err(e) => return vec![format!("{other_code}: does not parse: {e}")],
    };
    let mut problems = Vec::new();
    let en_keys: BTreeSet<&String> = en.keys().collect();
    let other_keys: BTreeSet<&String> = other.keys().collect();
    for k in en_keys.difference(&other_keys) {
        problems.push(format!("{other_code}: missing key {k}"));
    }
    for k in other_keys.difference(&en_keys) {
        problems.push(format!("{other_code}: key {k} is not in en.toml"));
    }
    for (k, text) in &en {
        if let Some(t) = other.get(k) {
            for p in placeholders(text) {
                if !placeholders(t).contains(&p) {
                    problems.push(format!("{other_code}: {k} lacks the placeholder {{{p}}}"));
                }
            }
        }
    }
    problems
}

#[test]
fn every_catalogue_has_exactly_the_english_keys_and_placeholders() {
    let en = REGISTRY[0].1;
    let mut problems = Vec::new();
    for (code, src) in &REGISTRY[1..] {
        problems.extend(catalogue_problems(en, code, src));
    }
    assert!(problems.is_empty(), "{problems:#?}");
    for c in catalogues() {
        assert!(!c.messages.is_empty(), "{} is empty", c.code);
    }
}

#[test]
fn the_catalogue_check_catches_a_missing_key_and_a_lost_placeholder() {
    let en = "[a]\nx = \"{n} jobs\"\ny = \"hello\"\n";
    let zh = "[a]\nx = \"任务\"\n";
    let p = catalogue_problems(en, "zz", zh);
    assert!(p.iter().any(|p| p.contains("missing key a.y")), "{p:?}");
    assert!(
        p.iter().any(|p| p.contains("lacks the placeholder {n}")),
        "{p:?}"
    );
}

/// The keys of `i18n::t("…")`-style calls in a source text.
fn used_keys(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for f in ["t", "tf", "t1", "t2", "t3", "h1", "h2", "try_t"] {
        let needle = format!("i18n::{f}(");
        let mut rest = src;
        while let Some(i) = rest.find(&needle) {
            rest = &rest[i + needle.len()..];
            let trimmed = rest.trim_start();
            if let Some(lit) = trimmed.strip_prefix('"') {
                if let Some(end) = lit.find('"') {
                    out.push(lit[..end].to_string());
                }
            }
        }
    }
    out
}

#[test]
fn every_key_the_code_and_templates_use_is_in_english() {
    let en = parse(REGISTRY[0].1).unwrap();
    let mut paths = Vec::new();
    files(&root().join("templates"), "html", &mut paths);
    files(&root().join("src"), "rs", &mut paths);
    let mut missing = Vec::new();
    let mut seen = 0;
    for p in paths {
        if p.ends_with("i18n/checks.rs") {
            continue;
        }
        let src = std::fs::read_to_string(&p).unwrap();
        for k in used_keys(&src) {
            seen += 1;
            if !en.contains_key(&k) {
                missing.push(format!("{}: {k}", p.display()));
            }
        }
    }
    assert!(seen > 100, "only {seen} lookups found: is the scan broken?");
    assert!(
        missing.is_empty(),
        "keys missing from en.toml: {missing:#?}"
    );
    // Keys built at run time.
    for r in crate::rq::model::Registry::ALL {
        assert!(en.contains_key(&format!("registry.{r}")), "registry.{r}");
        if let Some(m) = r.score_meaning() {
            assert!(en.contains_key(&format!("score.{m}")), "score.{m}");
        }
    }
}

/// Words that are names, not language: allowed in templates as they are.
const ALLOWED: &[&str] = &["RQ", "Redis", "rqdash", "JSON", "CSV"];

/// Attributes whose values people read (and `data-msg-*`, the words `static/app.js` shows).
const HUMAN_ATTRS: &[&str] = &["title", "placeholder", "aria-label", "alt", "hx-confirm"];

/// Removes askama's tags (`{{ }}`, `{% %}`, `{# #}`), each replaced by a space.
fn strip_askama(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let next = ["{{", "{%", "{#"]
            .iter()
            .filter_map(|o| rest.find(o).map(|i| (i, *o)))
            .min();
        let Some((i, open)) = next else { break };
        out.push_str(&rest[..i]);
        let close = match open {
            "{{" => "}}",
            "{%" => "%}",
            _ => "#}",
        };
        match rest[i + 2..].find(close) {
            Some(j) => {
                out.push(' ');
                rest = &rest[i + 2 + j + 2..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Removes the contents of elements that hold no UI text (`script`, `style`) and keyboard keys
/// (`<kbd>?</kbd>`, `<kbd>Esc</kbd>`).
fn strip_non_text(s: &str) -> String {
    let mut s = s.to_string();
    for tag in ["script", "style", "kbd"] {
        let open = format!("<{tag}");
        let close = format!("</{tag}>");
        while let Some(i) = s.find(&open) {
            let Some(j) = s[i..].find(&close) else { break };
            s.replace_range(i..i + j + close.len(), " ");
        }
    }
    s
}

/// English words of `text` that are not allowed names.
fn english_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty() && !ALLOWED.contains(w))
        .map(str::to_string)
        .collect()
}

/// The English a template shows outside the catalogue: text nodes and human-text attributes.
fn english_in_template(src: &str) -> Vec<String> {
    let s = strip_non_text(&strip_askama(src));
    let mut found = Vec::new();
    let mut rest = s.as_str();
    while !rest.is_empty() {
        let (text, after) = match rest.find('<') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if let Some(w) = english_words(text).first() {
            found.push(format!("text “{}”: {w}", text.trim()));
        }
        if after.is_empty() {
            break;
        }
        let end = tag_end(after);
        let tag = &after[..end];
        for (name, value) in attributes(tag) {
            if HUMAN_ATTRS.contains(&name.as_str()) || name.starts_with("data-msg-") {
                if let Some(w) = english_words(&value).first() {
                    found.push(format!("{name}=“{value}”: {w}"));
                }
            }
        }
        rest = &after[end..];
    }
    found
}

/// Where the tag starting `s` ends (after its `>`, quotes respected).
fn tag_end(s: &str) -> usize {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return i + 1,
            _ => {}
        }
    }
    s.len()
}

/// The quoted attributes of a tag.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = tag;
    while let Some(eq) = rest.find('=') {
        let name = rest[..eq]
            .rsplit(|c: char| c.is_whitespace())
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let after = &rest[eq + 1..];
        let Some(q) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            rest = after;
            continue;
        };
        let Some(close) = after[1..].find(q) else {
            break;
        };
        out.push((name, after[1..1 + close].to_string()));
        rest = &after[1 + close + 1..];
    }
    out
}

#[test]
fn no_template_holds_english_outside_the_catalogue() {
    let mut paths = Vec::new();
    files(&root().join("templates"), "html", &mut paths);
    assert!(paths.len() > 10, "templates not found");
    let mut problems = Vec::new();
    for p in paths {
        let src = std::fs::read_to_string(&p).unwrap();
        for f in english_in_template(&src) {
            problems.push(format!("{}: {f}", p.display()));
        }
    }
    assert!(
        problems.is_empty(),
        "English in templates (put it in locales/en.toml): {problems:#?}"
    );
}

#[test]
fn the_template_check_catches_planted_english() {
    let ok = r#"<p class="muted" id="x" data-x="Hello">{{ i18n::t("a.b") }} {{ n }} · RQ <kbd>?</kbd>{% if x %}{% endif %}</p><input type="hidden" name="queue" value="failed"><a href="{{ u }}" title="{{ i18n::t("c") }}">#{{ n }}</a>"#;
    assert!(
        english_in_template(ok).is_empty(),
        "{:?}",
        english_in_template(ok)
    );
    for bad in [
        "<p>{{ n }} jobs</p>",
        r#"<input placeholder="Filter queues">"#,
        r#"<a title='Redis instance'>x</a>"#,
        r#"<span aria-label="Main">{{ x }}</span>"#,
        r#"<form hx-confirm="Stop it?"></form>"#,
        r#"<body data-msg-offline="Server gone">"#,
        "<td>{% if x %}none{% endif %}</td>",
    ] {
        assert!(!english_in_template(bad).is_empty(), "not caught: {bad}");
    }
}
