//! The README's translations keep to the README: every command a translation gives is one the
//! README gives, word for word, the README's quick-start commands are all in each translation,
//! and every link into the README names a heading it has.

use std::collections::BTreeSet;
use std::path::Path;

/// A file at the repository's root.
fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The commands of a Markdown text's fenced code blocks, in order: each non-empty line with its
/// trailing shell comment (` # …`, which a translation may translate) taken off.
fn commands(markdown: &str) -> Vec<Vec<String>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some(Vec::new()),
            }
        } else if let Some(block) = current.as_mut() {
            let command = match line.find(" #") {
                Some(i) => &line[..i],
                None => line,
            };
            if !command.trim().is_empty() {
                block.push(command.trim_end().to_string());
            }
        }
    }
    assert!(current.is_none(), "a code block is not closed");
    blocks
}

/// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn the_chinese_quick_start_gives_the_readmes_commands_word_for_word() {
    let readme = read("README.md");
    let zh = read("README.zh-CN.md");
    let english: BTreeSet<String> = commands(&readme).into_iter().flatten().collect();
    let chinese: Vec<String> = commands(&zh).into_iter().flatten().collect();
    assert!(
        chinese.len() >= 3,
        "README.zh-CN.md gives its commands in code blocks: {chinese:?}"
    );
    for command in &chinese {
        assert!(
            english.contains(command),
            "README.zh-CN.md gives `{command}`, which README.md does not give word for word"
        );
    }
    // The README's quick start (its first three blocks: run, demo, tests) is all there.
    for command in commands(&readme).into_iter().take(3).flatten() {
        assert!(
            chinese.contains(&command),
            "README.md's quick start gives `{command}`, README.zh-CN.md does not"
        );
    }
}

#[test]
fn the_readme_and_its_translation_link_to_each_other_and_to_headings_that_exist() {
    let readme = read("README.md");
    let zh = read("README.zh-CN.md");
    let top = |text: &str| text.lines().take(5).collect::<Vec<_>>().join("\n");
    assert!(
        top(&readme).contains("[简体中文](README.zh-CN.md)"),
        "README.md links to the Chinese quick start at its top"
    );
    assert!(
        top(&zh).contains("[English](README.md)"),
        "README.zh-CN.md links back at its top"
    );
    let headings: BTreeSet<String> = readme
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect();
    let mut links = 0;
    for part in zh.split("(README.md#").skip(1) {
        let target = &part[..part.find(')').expect("a closed link")];
        assert!(
            headings.contains(target),
            "README.zh-CN.md links to README.md#{target}, a heading README.md does not have"
        );
        links += 1;
    }
    assert!(links > 5, "README.zh-CN.md points to the README's sections");
}
