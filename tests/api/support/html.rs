//! CSS-selector helpers, so tests assert on structure rather than substrings.

use scraper::{Html, Selector};

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap_or_else(|e| panic!("bad selector {s}: {e:?}"))
}

/// Texts (trimmed) of every element matching `selector`.
pub fn texts(doc: &Html, selector: &str) -> Vec<String> {
    doc.select(&sel(selector))
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

/// Text of the single element matching `selector` (panics if none).
pub fn text(doc: &Html, selector: &str) -> String {
    texts(doc, selector)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("nothing matches {selector}"))
}

/// Values of attribute `attr` on every element matching `selector`.
pub fn attrs(doc: &Html, selector: &str, attr: &str) -> Vec<String> {
    doc.select(&sel(selector))
        .filter_map(|e| e.value().attr(attr).map(str::to_string))
        .collect()
}

/// How many elements match.
pub fn count(doc: &Html, selector: &str) -> usize {
    doc.select(&sel(selector)).count()
}

/// Escapes a value for use inside a double-quoted CSS attribute selector.
pub fn css_str(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
