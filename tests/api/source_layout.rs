//! The source layout: no two files under `src/` reach each other, directly or round a circle
//! (the style's sign of a room that is too big; the fix is to move the one name the lower file
//! needs down).
//!
//! The checker reads every `.rs` file under `src/`, follows the module tree from each crate root
//! (`lib.rs`, `main.rs`) through its `mod` declarations, and resolves every path to the file it
//! reaches: each path of a `use` (groups expanded) and each path written in code, when it starts
//! at `crate::`, `super::`, `self::`, a child module or a name a `use` brought in. A path reaches
//! the file of the deepest module its segments name; when it goes on to a name that module
//! re-exports (`pub use`), it is followed to where that name comes from, so
//! `crate::rq::Repository` reaches `rq/repository/mod.rs`, not `rq/mod.rs`. Each resolved path is
//! an edge from the file it is written in; the test fails listing every circle of edges between
//! two or more files, each hop with the line that makes it.
//!
//! The rules, and why:
//! - A module owns its subtree: a file naming a file below its own module (`history/mod.rs`
//!   using `recorder::Recorder`, or re-exporting it) is no edge. Rust's module tree already puts
//!   the parent above its children, and a child using what its parent shares (`super::History`,
//!   a `tests.rs` child's `use super::*`) is the usual shape, not a circle. The circles guarded
//!   are between files side by side or further apart.
//! - Test code counts like the rest, as part of the file it tests: a file's inline `mod tests`
//!   is part of that file, and so is a test file declared by `#[cfg(test)] mod tests;` (its
//!   `use super::*` names that file itself, which is no edge). A test that reaches up to a file
//!   depending on the one it tests closes a circle like any other code: the test belongs in the
//!   higher file.
//! - Comments, doc comments included, and string and character literals are skipped: a doc link
//!   names a page to read, not something the code needs.
//! - A file naming itself is no edge; paths into other crates (`std`, `actix_web`) are not
//!   followed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One token of Rust source, comments and literals already gone.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Sep,
    Punct(char),
}

/// Splits Rust source into identifiers, `::` and single punctuation, with their lines. Comments
/// (nested block comments too), strings (raw, byte and C strings too), character literals,
/// lifetimes and numbers produce nothing.
fn lex(src: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let n = c.len();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let ident_start = |ch: char| ch == '_' || ch.is_alphabetic();
    let ident_char = |ch: char| ch == '_' || ch.is_alphanumeric();
    while i < n {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < n && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < n {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if let Some(len) = raw_string_start(&c, i) {
            // r"…", r#"…"#, br#"…"#, cr"…": no escapes, ends at `"` and as many `#`.
            let hashes = len - 1 - usize::from(c[i] != 'r') - 1;
            i += len;
            while i < n {
                if c[i] == '"' && (0..hashes).all(|k| at(i + 1 + k) == '#') {
                    i += 1 + hashes;
                    break;
                }
                if c[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
        } else if ch == '"' || ((ch == 'b' || ch == 'c') && at(i + 1) == '"') {
            i += if ch == '"' { 1 } else { 2 };
            while i < n && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                if at(i) == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 1;
        } else if ch == '\'' || (ch == 'b' && at(i + 1) == '\'') {
            let q = if ch == '\'' { i } else { i + 1 };
            if at(q + 1) == '\\' {
                // An escaped character literal: '\n', '\'', '\u{..}'.
                i = q + 3;
                while i < n && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(q + 2) == '\'' {
                i = q + 3;
            } else {
                // A lifetime or a label: 'a, 'static.
                i = q + 1;
                while i < n && ident_char(c[i]) {
                    i += 1;
                }
            }
        } else if ch.is_ascii_digit() {
            while i < n && ident_char(c[i]) {
                i += 1;
            }
        } else if ident_start(ch) {
            let start = if ch == 'r' && at(i + 1) == '#' && ident_start(at(i + 2)) {
                i + 2
            } else {
                i
            };
            i = start;
            while i < n && ident_char(c[i]) {
                i += 1;
            }
            out.push((Tok::Ident(c[start..i].iter().collect()), line));
        } else if ch == ':' && at(i + 1) == ':' {
            out.push((Tok::Sep, line));
            i += 2;
        } else {
            out.push((Tok::Punct(ch), line));
            i += 1;
        }
    }
    out
}

/// The length of a raw string's opening (`r#"` is 3) when one starts at `i`.
fn raw_string_start(c: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    if matches!(c.get(j), Some('b' | 'c')) {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    if i > 0 && (c[i - 1] == '_' || c[i - 1].is_alphanumeric()) {
        return None;
    }
    j += 1;
    while c.get(j) == Some(&'#') {
        j += 1;
    }
    (c.get(j) == Some(&'"')).then_some(j + 1 - i)
}

/// A path written in a file, where it was written.
#[derive(Debug, Clone)]
struct Reference {
    /// The module the path is written in (the file's module, plus any inline modules).
    module: Vec<String>,
    /// The path's segments as written.
    segments: Vec<String>,
    line: usize,
}

/// A name a `use` brings into a module: `use a::b::C as D;` binds `D` to `a::b::C`.
#[derive(Debug, Clone)]
struct Binding {
    module: Vec<String>,
    name: String,
    segments: Vec<String>,
}

/// What one file says about the module tree and what it names.
#[derive(Debug, Default)]
struct Parsed {
    /// `mod x;`: the module paths of the children declared in files of their own, and whether
    /// each is test code (`#[cfg(test)] mod tests;`).
    children: Vec<(Vec<String>, bool)>,
    /// `mod x { .. }`: the module paths of inline modules.
    inline: Vec<Vec<String>>,
    /// Every path: each path of a `use` and each `a::b` written in code.
    references: Vec<Reference>,
    /// The names its `use` declarations bring in.
    bindings: Vec<Binding>,
}

/// Reads one file whose module path is `module`.
fn parse(src: &str, module: &[String]) -> Parsed {
    let toks = lex(src);
    let mut parsed = Parsed::default();
    // Each open brace: the inline module it opens, if it does.
    let mut braces: Vec<Option<String>> = Vec::new();
    let here = |braces: &[Option<String>]| -> Vec<String> {
        let mut m = module.to_vec();
        m.extend(braces.iter().flatten().cloned());
        m
    };
    let tok = |i: usize| toks.get(i).map(|t| &t.0);
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].0 {
            Tok::Punct('{') => braces.push(None),
            Tok::Punct('}') => {
                braces.pop();
            }
            Tok::Ident(w) if w == "mod" => {
                if let Some(Tok::Ident(name)) = tok(i + 1) {
                    let mut path = here(&braces);
                    path.push(name.clone());
                    match tok(i + 2) {
                        Some(Tok::Punct(';')) => {
                            parsed.children.push((path, test_only(&toks, i)));
                            i += 3;
                            continue;
                        }
                        Some(Tok::Punct('{')) => {
                            parsed.inline.push(path);
                            braces.push(Some(name.clone()));
                            i += 3;
                            continue;
                        }
                        _ => {}
                    }
                }
            }
            // `use<'a>` (precise capturing) is no declaration.
            Tok::Ident(w) if w == "use" && tok(i + 1) != Some(&Tok::Punct('<')) => {
                let mut j = i + 1;
                while j < toks.len() && toks[j].0 != Tok::Punct(';') {
                    j += 1;
                }
                let mut paths = Vec::new();
                use_tree(&toks[i + 1..j], &mut Vec::new(), &mut paths);
                let m = here(&braces);
                for (segments, name, line) in paths {
                    if let Some(name) = name {
                        parsed.bindings.push(Binding {
                            module: m.clone(),
                            name,
                            segments: segments.clone(),
                        });
                    }
                    parsed.references.push(Reference {
                        module: m.clone(),
                        segments,
                        line,
                    });
                }
                i = j + 1;
                continue;
            }
            // A path in code: `a::b::c`, not the tail of a longer one (`x::a::b`).
            Tok::Ident(w)
                if tok(i + 1) == Some(&Tok::Sep) && (i == 0 || toks[i - 1].0 != Tok::Sep) =>
            {
                let line = toks[i].1;
                let mut segments = vec![w.clone()];
                let mut j = i + 1;
                while tok(j) == Some(&Tok::Sep) {
                    match tok(j + 1) {
                        Some(Tok::Ident(s)) => {
                            segments.push(s.clone());
                            j += 2;
                        }
                        _ => break,
                    }
                }
                parsed.references.push(Reference {
                    module: here(&braces),
                    segments,
                    line,
                });
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parsed
}

/// Whether the item whose keyword is at `i` carries `#[cfg(test)]` (its visibility skipped).
fn test_only(toks: &[(Tok, usize)], mut i: usize) -> bool {
    let skip = |t: &Tok| match t {
        Tok::Ident(w) => matches!(w.as_str(), "pub" | "crate" | "super" | "self" | "in"),
        Tok::Punct(c) => matches!(c, '(' | ')'),
        Tok::Sep => true,
    };
    while i > 0 && skip(&toks[i - 1].0) {
        i -= 1;
    }
    let mut test = false;
    // Each attribute before it, from the last: `#[ .. ]`.
    while i > 0 && toks[i - 1].0 == Tok::Punct(']') {
        let mut depth = 0;
        let mut j = i - 1;
        loop {
            match toks[j].0 {
                Tok::Punct(']') => depth += 1,
                Tok::Punct('[') => depth -= 1,
                _ => {}
            }
            if depth == 0 || j == 0 {
                break;
            }
            j -= 1;
        }
        if j == 0 || toks[j - 1].0 != Tok::Punct('#') {
            break;
        }
        let attr: Vec<&Tok> = toks[j + 1..i - 1].iter().map(|t| &t.0).collect();
        let names = |w: &str| attr.iter().any(|t| **t == Tok::Ident(w.into()));
        test |= attr.first() == Some(&&Tok::Ident("cfg".into())) && names("test") && !names("not");
        i = j - 1;
    }
    test
}

/// One path of a `use` tree: its segments, the name it binds (none for a glob or `as _`), and
/// its line.
type UsePath = (Vec<String>, Option<String>, usize);

/// Expands a `use` tree (the tokens between `use` and `;`) into its paths.
fn use_tree(toks: &[(Tok, usize)], prefix: &mut Vec<String>, out: &mut Vec<UsePath>) {
    let depth = prefix.len();
    // A leading `::` (`use ::std::..`) names an external crate.
    if toks.first().map(|t| &t.0) == Some(&Tok::Sep) {
        return;
    }
    let mut line = toks.first().map_or(0, |t| t.1);
    let mut name = None;
    let mut glob = false;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].0 {
            // `a::{self, ..}` names `a` itself.
            Tok::Ident(s) if s == "self" && prefix.len() == depth && depth > 0 => i += 1,
            Tok::Ident(s) if s == "as" => {
                name = match toks.get(i + 1) {
                    Some((Tok::Ident(alias), _)) => Some(alias.clone()),
                    _ => None,
                };
                glob = name.is_none();
                break;
            }
            Tok::Ident(s) => {
                line = toks[i].1;
                prefix.push(s.clone());
                i += 1;
            }
            Tok::Punct('*') => {
                glob = true;
                i += 1;
            }
            Tok::Punct('{') => {
                // Each item of the group, split at top-level commas.
                let mut inner = 0;
                let mut start = i + 1;
                let mut j = i + 1;
                while j < toks.len() {
                    match toks[j].0 {
                        Tok::Punct('{') => inner += 1,
                        Tok::Punct('}') if inner == 0 => break,
                        Tok::Punct('}') => inner -= 1,
                        Tok::Punct(',') if inner == 0 => {
                            if j > start {
                                use_tree(&toks[start..j], prefix, out);
                            }
                            start = j + 1;
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if j > start {
                    use_tree(&toks[start..j], prefix, out);
                }
                prefix.truncate(depth);
                return;
            }
            _ => i += 1,
        }
    }
    if !prefix.is_empty() {
        if name.is_none() && !glob {
            name = prefix.last().cloned();
        }
        out.push((prefix.clone(), name, line));
    }
    prefix.truncate(depth);
}

/// One crate's module tree: each module path to the file that holds it, and the names each
/// module's `use` declarations bring in.
#[derive(Debug, Default)]
struct Tree {
    modules: BTreeMap<Vec<String>, usize>,
    bindings: BTreeMap<(Vec<String>, String), Vec<String>>,
}

impl Tree {
    /// The file holding what `segments`, written in module `here`, name: the file of the
    /// deepest module they reach, or where the name they end at comes from when that module
    /// brought it in with a `use` (so `crate::rq::Repository`, re-exported by `rq/mod.rs`,
    /// is `rq/repository/mod.rs`). `None` for what is not this crate's (`std::..`, a local
    /// type's `Self::new`).
    fn resolve(&self, here: &[String], segments: &[String], hops: usize) -> Option<usize> {
        if hops > 16 {
            return None;
        }
        let first = segments.first()?;
        let mut cur: Vec<String>;
        let mut rest = &segments[1..];
        match first.as_str() {
            "crate" => cur = Vec::new(),
            "self" => cur = here.to_vec(),
            "super" => {
                cur = here.to_vec();
                cur.pop()?;
                while rest.first().map(String::as_str) == Some("super") {
                    cur.pop()?;
                    rest = &rest[1..];
                }
            }
            name => {
                let mut child = here.to_vec();
                child.push(name.to_string());
                if self.modules.contains_key(&child) {
                    cur = child;
                } else {
                    let bound = self.bindings.get(&(here.to_vec(), name.to_string()))?;
                    let mut path = bound.clone();
                    path.extend_from_slice(rest);
                    return self.resolve(here, &path, hops + 1);
                }
            }
        }
        for (k, seg) in rest.iter().enumerate() {
            cur.push(seg.clone());
            if self.modules.contains_key(&cur) {
                continue;
            }
            cur.pop();
            if let Some(bound) = self.bindings.get(&(cur.clone(), seg.clone())) {
                let mut path = bound.clone();
                path.extend_from_slice(&rest[k + 1..]);
                return self.resolve(&cur, &path, hops + 1);
            }
            break;
        }
        self.modules.get(&cur).copied()
    }
}

/// The file-level graph of a source tree.
#[derive(Debug)]
pub struct Layout {
    /// The files, relative to the source folder.
    files: Vec<PathBuf>,
    /// Edges between two distinct files, each with the first place that makes it: the file it
    /// is written in (the edge's first file, or a test file that is part of it), the line and
    /// the path.
    edges: BTreeMap<(usize, usize), (usize, usize, String)>,
    /// `.rs` files no crate root reaches.
    unreached: Vec<PathBuf>,
}

/// Reads every `.rs` file under `src` and builds the graph.
pub fn scan(src: &Path) -> Result<Layout, String> {
    let mut all = Vec::new();
    collect(src, &mut all)?;
    all.sort();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut edges = BTreeMap::new();
    for root in ["lib.rs", "main.rs"] {
        let root_path = src.join(root);
        if !root_path.exists() {
            continue;
        }
        // Walk the module tree from this crate root.
        let mut tree = Tree::default();
        let mut parsed: Vec<(usize, Parsed)> = Vec::new();
        let mut file_modules: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        // The file each file is part of: itself, or for a test file its parent's.
        let mut owner: BTreeMap<usize, usize> = BTreeMap::new();
        let mut queue = vec![(root_path, Vec::<String>::new(), None)];
        while let Some((path, module, part_of)) = queue.pop() {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let rel = path.strip_prefix(src).unwrap().to_path_buf();
            let id = match files.iter().position(|f| *f == rel) {
                Some(id) => id,
                None => {
                    files.push(rel);
                    files.len() - 1
                }
            };
            tree.modules.insert(module.clone(), id);
            file_modules.insert(id, module.clone());
            owner.insert(id, part_of.unwrap_or(id));
            let p = parse(&text, &module);
            for m in &p.inline {
                tree.modules.insert(m.clone(), id);
            }
            for b in &p.bindings {
                tree.bindings
                    .entry((b.module.clone(), b.name.clone()))
                    .or_insert_with(|| b.segments.clone());
            }
            // A `mod x;` in a.rs (not mod.rs, lib.rs or main.rs) lives in a/x.rs.
            let name = path.file_name().unwrap().to_string_lossy();
            let dir = if module.is_empty() || name == "mod.rs" {
                path.parent().unwrap().to_path_buf()
            } else {
                path.with_extension("")
            };
            for (child, test) in &p.children {
                let mut d = dir.clone();
                for inline in &child[module.len()..child.len() - 1] {
                    d.push(inline);
                }
                let last = child.last().unwrap();
                let flat = d.join(format!("{last}.rs"));
                let nested = d.join(last).join("mod.rs");
                let file = if flat.exists() {
                    flat
                } else if nested.exists() {
                    nested
                } else {
                    return Err(format!(
                        "{}: `mod {last};` has no file ({} or {})",
                        path.display(),
                        flat.display(),
                        nested.display()
                    ));
                };
                // A test file (`#[cfg(test)] mod tests;`) is part of its parent, as an inline
                // `mod tests { .. }` is.
                queue.push((file, child.clone(), test.then_some(owner[&id])));
            }
            parsed.push((id, p));
        }
        for (written, p) in &parsed {
            let from = owner[written];
            for r in &p.references {
                let Some(to) = tree.resolve(&r.module, &r.segments, 0) else {
                    continue;
                };
                let to = owner[&to];
                // A module owns what it contains: naming a file of its own subtree is no edge.
                let below = |a: &[String], b: &[String]| b.len() > a.len() && b.starts_with(a);
                if to != from && !below(&file_modules[&from], &file_modules[&to]) {
                    edges
                        .entry((from, to))
                        .or_insert_with(|| (*written, r.line, r.segments.join("::")));
                }
            }
        }
    }
    let unreached = all
        .into_iter()
        .map(|f| f.strip_prefix(src).unwrap().to_path_buf())
        .filter(|f| !files.contains(f))
        .collect();
    Ok(Layout {
        files,
        edges,
        unreached,
    })
}

/// Every `.rs` file under `dir`.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

impl Layout {
    /// Every circle: each group of files that reach each other (a strongly connected component),
    /// with its elementary circles (at most 50 a group), each hop with where it is written.
    pub fn circles(&self) -> Vec<String> {
        let n = self.files.len();
        let mut next: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(a, b) in self.edges.keys() {
            next[a].push(b);
        }
        let mut report = Vec::new();
        for group in components(&next) {
            if group.len() < 2 {
                continue;
            }
            let names: Vec<String> = group
                .iter()
                .map(|&f| format!("src/{}", self.files[f].display()))
                .collect();
            let mut text = format!("files reaching each other: {}\n", names.join(", "));
            let inside: BTreeSet<usize> = group.iter().copied().collect();
            let found = elementary(&next, &inside, 50);
            for circle in &found {
                let hops: Vec<String> = circle
                    .iter()
                    .zip(circle.iter().cycle().skip(1))
                    .map(|(&a, &b)| {
                        let (file, line, path) = &self.edges[&(a, b)];
                        format!("src/{}:{line} uses {path}", self.files[*file].display())
                    })
                    .collect();
                text.push_str(&format!("  circle: {}\n", hops.join(" → ")));
            }
            if found.len() == 50 {
                text.push_str("  (and maybe more circles)\n");
            }
            report.push(text);
        }
        report
    }
}

/// The strongly connected components of a graph (Tarjan's algorithm, iterative).
fn components(next: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = next.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    let mut counter = 0;
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        let mut work = vec![(start, 0usize)];
        index[start] = counter;
        low[start] = counter;
        counter += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (v, ref mut k)) = work.last_mut() {
            if let Some(&w) = next[v].get(*k) {
                *k += 1;
                if index[w] == usize::MAX {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut group = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        group.push(w);
                        if w == v {
                            break;
                        }
                    }
                    group.sort_unstable();
                    out.push(group);
                }
            }
        }
    }
    out.sort();
    out
}

/// The elementary circles inside `group`, each once (starting at its smallest file), at most
/// `limit`.
fn elementary(next: &[Vec<usize>], group: &BTreeSet<usize>, limit: usize) -> Vec<Vec<usize>> {
    fn walk(
        next: &[Vec<usize>],
        group: &BTreeSet<usize>,
        start: usize,
        path: &mut Vec<usize>,
        out: &mut Vec<Vec<usize>>,
        limit: usize,
    ) {
        let v = *path.last().unwrap();
        for &w in &next[v] {
            if out.len() >= limit {
                return;
            }
            if w == start {
                out.push(path.clone());
            } else if w > start && group.contains(&w) && !path.contains(&w) {
                path.push(w);
                walk(next, group, start, path, out, limit);
                path.pop();
            }
        }
    }
    let mut out = Vec::new();
    for &start in group {
        walk(next, group, start, &mut vec![start], &mut out, limit);
    }
    out
}

#[test]
fn no_two_source_files_reach_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let layout = scan(&src).unwrap();
    assert!(
        layout.files.len() > 50,
        "the whole tree was read: {:?}",
        layout.files
    );
    assert!(
        layout.unreached.is_empty(),
        "files under src/ that no crate root declares: {:?}",
        layout.unreached
    );
    let circles = layout.circles();
    assert!(
        circles.is_empty(),
        "source files that reach each other (move the name the lower file needs down, \
         see tests/api/source_layout.rs):\n{}",
        circles.join("\n")
    );
}

/// A folder under the temporary directory holding `files`, removed on drop.
struct Planted(PathBuf);

impl Planted {
    fn new(name: &str, files: &[(&str, &str)]) -> Planted {
        let dir = std::env::temp_dir().join(format!(
            "rqdash-layout-{name}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Planted(dir)
    }
}

impl Drop for Planted {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_layout_check_reports_a_planted_circle() {
    let tree = Planted::new(
        "circle",
        &[
            ("lib.rs", "pub mod low;\npub mod high;\n"),
            (
                "high.rs",
                "//! Uses the lower file.\nuse crate::low::Low;\n\
                 pub struct High(pub Low);\n",
            ),
            (
                "low.rs",
                "pub struct Low;\n\
                 pub fn up() -> usize {\n    std::mem::size_of::<super::high::High>()\n}\n",
            ),
        ],
    );
    let circles = scan(&tree.0).unwrap().circles();
    assert_eq!(circles.len(), 1, "{circles:?}");
    assert!(
        circles[0].contains("src/high.rs:2 uses crate::low::Low")
            && circles[0].contains("src/low.rs:3 uses super::high::High"),
        "{}",
        circles[0]
    );
}

#[test]
fn the_layout_check_follows_groups_and_re_exports_and_spares_parents_and_literals() {
    let tree = Planted::new(
        "rules",
        &[
            ("lib.rs", "pub mod a;\npub mod b;\npub mod d;\n"),
            // A group inside a group reaching b/c.rs; a re-export of its own child.
            (
                "a/mod.rs",
                "pub mod inner;\nuse crate::{b::{c::{self, C}}};\npub use inner::I;\n\
                 pub struct A;\n",
            ),
            // Uses its parent, which re-exports it: no circle, the parent owns it.
            ("a/inner.rs", "pub struct I(pub super::A);\n"),
            ("b/mod.rs", "pub mod c;\n#[cfg(test)]\nmod tests;\n"),
            // Strings, comments, doc links and its own tests' `super::*` do not count.
            (
                "b/c.rs",
                "//! See [`crate::a::A`].\npub struct C;\n\
                 pub const S: &str = \"crate::a::A\";\n\
                 pub const R: &str = r#\"super::super::a::A\"#;\n\
                 pub fn f<'a>(x: &'a str) -> char { let _ = x; '\"' }\n\
                 /* crate::a /* nested */ crate::a::A */\n\
                 #[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
            ),
            // A test file: part of b/mod.rs, its reach is b/mod.rs's.
            ("b/tests.rs", "use super::c::C;\nuse crate::a::A;\n"),
            // Through a name the parent re-exports, to the file that defines it.
            (
                "d.rs",
                "pub fn d() -> usize { std::mem::size_of::<crate::a::I>() }\n",
            ),
        ],
    );
    let edges = |layout: &Layout| -> BTreeSet<(String, String)> {
        layout
            .edges
            .keys()
            .map(|&(a, b)| {
                (
                    layout.files[a].display().to_string(),
                    layout.files[b].display().to_string(),
                )
            })
            .collect()
    };
    let layout = scan(&tree.0).unwrap();
    assert!(layout.unreached.is_empty(), "{:?}", layout.unreached);
    assert_eq!(layout.circles(), Vec::<String>::new());
    let want: BTreeSet<(String, String)> = [
        ("a/mod.rs", "b/c.rs"),
        ("a/inner.rs", "a/mod.rs"),
        // b/tests.rs is part of b/mod.rs, which owns b/c.rs.
        ("b/mod.rs", "a/mod.rs"),
        ("d.rs", "a/inner.rs"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(edges(&layout), want);
    // A test in c that reaches back closes a circle a/mod.rs → b/c.rs → a/mod.rs.
    std::fs::write(
        tree.0.join("b/c.rs"),
        "pub struct C;\n#[cfg(test)]\nmod tests {\n    use crate::a::A;\n}\n",
    )
    .unwrap();
    let circles = scan(&tree.0).unwrap().circles();
    assert_eq!(circles.len(), 1, "{circles:?}");
    assert!(
        circles[0].contains("src/b/c.rs:4 uses crate::a::A")
            && circles[0].contains("src/a/mod.rs:2 uses crate::b::c"),
        "{}",
        circles[0]
    );
}

#[test]
fn the_layout_check_finds_files_no_module_declares() {
    let tree = Planted::new(
        "stray",
        &[("lib.rs", "pub mod a;\n"), ("a.rs", ""), ("b.rs", "")],
    );
    let layout = scan(&tree.0).unwrap();
    assert_eq!(layout.unreached, vec![PathBuf::from("b.rs")]);
}
