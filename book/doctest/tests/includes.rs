//! Checks of the guide that `mdbook build` does not make.
//!
//! Every `{{#include}}` must name an anchor or line range that exists,
//! because mdbook silently includes nothing for an unknown anchor. Every
//! relative link to a chapter must resolve, and every test that the guide
//! names must exist. A Rust block marked `ignore` may only include code.
//! Every chapter must be listed in SUMMARY.md and doctested by `src/lib.rs`.

use std::fs;
use std::path::{Path, PathBuf};

fn book_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../src")
}

/// Lists every Markdown file under `book/src`, sorted.
fn chapters() -> Vec<PathBuf> {
    let mut pending = vec![book_src()];
    let mut files = Vec::new();
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            for entry in fs::read_dir(&path).expect("reading a book folder") {
                pending.push(entry.expect("reading a folder entry").path());
            }
        } else if path.extension().is_some_and(|extension| extension == "md") {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(book_src())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Returns the arguments of every `{{#include ...}}` and `{{#rustdoc_include ...}}`.
fn includes(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for directive in ["{{#include ", "{{#rustdoc_include "] {
        let mut rest = text;
        while let Some(start) = rest.find(directive) {
            rest = &rest[start + directive.len()..];
            let end = rest
                .find("}}")
                .expect("an include directive ends with `}}`");
            found.push(rest[..end].trim().to_string());
            rest = &rest[end..];
        }
    }
    found
}

/// Checks one include argument, `path`, `path:anchor` or `path:start:end`,
/// and returns a description of what is wrong with it.
fn check_include(chapter: &Path, argument: &str) -> Option<String> {
    let mut parts = argument.splitn(2, ':');
    let file = parts.next().unwrap_or_default();
    let selector = parts.next();
    let target = chapter.parent().expect("a chapter has a folder").join(file);
    let Ok(text) = fs::read_to_string(&target) else {
        return Some(format!("`{argument}`: cannot read {}", target.display()));
    };
    let lines: Vec<&str> = text.lines().collect();

    match selector {
        None => None,
        Some(selector)
            if selector
                .split(':')
                .all(|part| part.chars().all(|c| c.is_ascii_digit())) =>
        {
            let mut bounds = selector.split(':');
            let start: usize = bounds.next().and_then(|n| n.parse().ok()).unwrap_or(1);
            let end: usize = bounds
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(lines.len());
            (start == 0 || end > lines.len() || start > end).then(|| {
                format!(
                    "`{argument}`: lines {start} to {end} are not within the file's {} lines",
                    lines.len()
                )
            })
        }
        Some(anchor) => {
            let is_marker = |line: &str, marker: &str| {
                line.split_once(marker)
                    .is_some_and(|(_, name)| name.trim() == anchor)
            };
            let start = lines.iter().position(|line| is_marker(line, "ANCHOR:"));
            let end = lines.iter().position(|line| is_marker(line, "ANCHOR_END:"));
            match (start, end) {
                (Some(start), Some(end)) if end > start + 1 => None,
                (Some(_), Some(_)) => Some(format!("`{argument}`: the anchor encloses no line")),
                _ => Some(format!(
                    "`{argument}`: {} lacks `ANCHOR: {anchor}` or `ANCHOR_END: {anchor}`",
                    target.display()
                )),
            }
        }
    }
}

#[test]
fn includes_name_existing_anchors() {
    let mut problems = Vec::new();
    let mut count = 0;
    for chapter in chapters() {
        let text = fs::read_to_string(&chapter).expect("reading a chapter");
        for argument in includes(&text) {
            count += 1;
            if let Some(problem) = check_include(&chapter, &argument) {
                problems.push(format!("{}: {problem}", relative(&chapter)));
            }
        }
    }
    assert!(count > 0, "the guide includes no code at all");
    assert!(
        problems.is_empty(),
        "broken includes:\n{}",
        problems.join("\n")
    );
}

/// Returns the targets of Markdown links `](target)` that are relative `.md` paths.
fn chapter_links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(|target| target.split('#').next().unwrap_or_default().to_string())
        .filter(|target| target.ends_with(".md") && !target.contains("://"))
        .collect()
}

#[test]
fn chapter_links_resolve() {
    let mut problems = Vec::new();
    for chapter in chapters() {
        let text = fs::read_to_string(&chapter).expect("reading a chapter");
        for target in chapter_links(&text) {
            let path = chapter
                .parent()
                .expect("a chapter has a folder")
                .join(&target);
            if !path.is_file() {
                problems.push(format!("{}: link to missing {target}", relative(&chapter)));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_chapter_is_listed_and_doctested() {
    let summary = fs::read_to_string(book_src().join("SUMMARY.md")).expect("reading SUMMARY.md");
    let library = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("reading src/lib.rs");
    let mut problems = Vec::new();
    for chapter in chapters() {
        let name = relative(&chapter);
        if name == "SUMMARY.md" {
            continue;
        }
        if !summary.contains(&format!("]({name})")) {
            problems.push(format!("{name} is not listed in SUMMARY.md"));
        }
        if !library.contains(&format!("include_str!(\"../../src/{name}\")")) {
            problems.push(format!("{name} is not doctested by src/lib.rs"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn is_identifier(span: &str) -> bool {
    span.contains('_')
        && span
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks references such as `` `tests/tokens.rs`: `hs256_rotation`, `es256_rotation` ``.
///
/// A code span that names a `.rs` file is a path from the repository root,
/// or a bare file name in the folder of the previous path. Each code span of
/// a test name that follows it, separated only by punctuation, must be a
/// function in that file.
fn check_test_references(chapter: &Path, text: &str, problems: &mut Vec<String>) {
    let spans: Vec<(usize, usize)> = {
        let mut spans = Vec::new();
        let mut open = None;
        for (index, c) in text.char_indices() {
            if c == '`' {
                match open.take() {
                    None => open = Some(index),
                    Some(start) => spans.push((start + 1, index)),
                }
            }
        }
        spans
    };

    let mut folder: Option<PathBuf> = None;
    let mut current: Option<(PathBuf, String)> = None;
    let mut previous_end = 0;
    for (start, end) in spans {
        let span = &text[start..end];
        let between = &text[previous_end..start.saturating_sub(1)];
        previous_end = end + 1;
        let only_separators = between
            .chars()
            .all(|c| c.is_whitespace() || matches!(c, ':' | ',' | ';' | '(' | ')'));
        if !only_separators {
            current = None;
        }

        if span.ends_with(".rs") && !span.contains('*') && !span.contains(' ') {
            let path = if span.contains('/') {
                repository_root().join(span)
            } else {
                match &folder {
                    Some(folder) => folder.join(span),
                    None => continue,
                }
            };
            folder = path.parent().map(Path::to_path_buf);
            match fs::read_to_string(&path) {
                Ok(source) => current = Some((path, source)),
                Err(_) => {
                    problems.push(format!("{}: names missing file {span}", relative(chapter)));
                    current = None;
                }
            }
        } else if let (Some((path, source)), true) = (&current, is_identifier(span)) {
            if !source.contains(&format!("fn {span}(")) {
                problems.push(format!(
                    "{}: `{span}` is not a function of {}",
                    relative(chapter),
                    path.display()
                ));
            }
        } else {
            current = None;
        }
    }
}

#[test]
fn named_tests_exist() {
    let mut problems = Vec::new();
    for chapter in chapters() {
        let text = fs::read_to_string(&chapter).expect("reading a chapter");
        check_test_references(&chapter, &text, &mut problems);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Rust blocks marked `ignore` are not doctested, so each may only include
/// code that is compiled where it lives.
#[test]
fn ignored_blocks_only_include() {
    let mut problems = Vec::new();
    for chapter in chapters() {
        let text = fs::read_to_string(&chapter).expect("reading a chapter");
        let mut in_ignored_block = false;
        for (index, line) in text.lines().enumerate() {
            if in_ignored_block {
                if line.starts_with("```") {
                    in_ignored_block = false;
                } else if !line.trim().is_empty() && !line.starts_with("{{#include ") {
                    problems.push(format!(
                        "{}:{}: an `ignore` block contains code that is not included: {line}",
                        relative(&chapter),
                        index + 1
                    ));
                }
            } else if line.starts_with("```rust") && line.contains("ignore") {
                in_ignored_block = true;
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
