//! The route manifest: every route's security posture, for review.

use std::fmt::Write as _;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::pipeline::RouteMeta;

/// Every mounted route with its method, path, authentication, rate limit
/// policy, scoping and body schema, sorted by path and method.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    routes: Vec<RouteMeta>,
}

impl Manifest {
    pub(crate) fn new(mut routes: Vec<RouteMeta>) -> Self {
        routes
            .sort_by(|a, b| (&a.path, a.method.to_string()).cmp(&(&b.path, b.method.to_string())));
        Manifest { routes }
    }

    /// Returns the routes.
    pub fn routes(&self) -> &[RouteMeta] {
        &self.routes
    }

    /// Renders the manifest as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Compares the manifest with a committed JSON copy and lists every
    /// difference: routes added or removed, and each changed field of a
    /// route, such as `public` or `unscoped_reason`. An empty list means the
    /// security posture is unchanged.
    pub fn differences(&self, committed_json: &str) -> Result<Vec<String>, serde_json::Error> {
        let committed: Value = serde_json::from_str(committed_json)?;
        let current = serde_json::to_value(self)?;
        let committed = routes_by_key(&committed);
        let current = routes_by_key(&current);

        let mut differences = Vec::new();
        for (key, route) in &current {
            match committed.get(key) {
                None => {
                    differences.push(format!("{key}: new route, not in the committed manifest"))
                }
                Some(before) => {
                    let fields: BTreeSet<&String> = route
                        .as_object()
                        .into_iter()
                        .chain(before.as_object())
                        .flat_map(|object| object.keys())
                        .collect();
                    for field in fields {
                        let (old, new) = (&before[field], &route[field]);
                        if old != new {
                            differences.push(format!("{key}: {field} changed from {old} to {new}"));
                        }
                    }
                }
            }
        }
        for key in committed.keys() {
            if !current.contains_key(key) {
                differences.push(format!(
                    "{key}: removed, but still in the committed manifest"
                ));
            }
        }
        Ok(differences)
    }

    /// Renders the manifest as an aligned plain-text table.
    pub fn to_table(&self) -> String {
        let header = [
            "METHOD",
            "PATH",
            "AUTH",
            "ROLE",
            "RATE LIMIT",
            "SCOPE",
            "BODY",
        ];
        let rows: Vec<[String; 7]> = self
            .routes
            .iter()
            .map(|route| {
                let auth = if route.public { "public" } else { "required" };
                let scope = match (&route.unscoped_reason, route.database) {
                    (Some(reason), _) if route.issues_tokens => {
                        format!("unscoped, issues tokens: {reason}")
                    }
                    (Some(reason), _) => format!("unscoped: {reason}"),
                    (None, true) => match &route.scoped_to {
                        Some(scope) => format!("scoped to {scope}"),
                        None => "scoped".to_string(),
                    },
                    (None, false) => "-".to_string(),
                };
                [
                    route.method.to_string(),
                    route.path.to_string(),
                    auth.to_string(),
                    route.role.as_deref().unwrap_or("-").to_string(),
                    route.rate_limit.to_string(),
                    scope,
                    route.body_schema.as_deref().unwrap_or("-").to_string(),
                ]
            })
            .collect();

        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.len());
            }
        }

        let mut table = String::new();
        let mut push_row = |cells: &[&str]| {
            let line: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            let _ = writeln!(table, "{}", line.join("  ").trim_end());
        };
        push_row(&header);
        for row in &rows {
            push_row(&row.each_ref().map(String::as_str));
        }
        table
    }
}

/// Indexes a manifest's routes by `METHOD path`.
fn routes_by_key(manifest: &Value) -> BTreeMap<String, Value> {
    let routes = manifest["routes"].as_array().cloned().unwrap_or_default();
    routes
        .into_iter()
        .map(|route| {
            let key = format!(
                "{} {}",
                route["method"].as_str().unwrap_or("?"),
                route["path"].as_str().unwrap_or("?")
            );
            (key, route)
        })
        .collect()
}

/// The traits that only the macros implement. An `impl` of one of them in
/// user source goes around the checks the macros make.
const SEALED_TRAITS: [&str; 10] = [
    "ResourceSql",
    "Resource",
    "SchemaSealed",
    "Schema",
    "Creatable",
    "Writable",
    "HandlerArg",
    "Reply",
    "OwnerColumn",
    "IdColumn",
];

/// Scans the Rust files under `root` for the ways around Gauntlet's
/// compile-time guarantees: naming the macros' private module
/// `gauntlet::__private`, or implementing one of the sealed traits by hand.
/// Each finding is `file:line: explanation`.
///
/// This is a text scan for reviewers, run next to the manifest check; code
/// generated by the derives is not in the source and is not reported.
pub fn scan_for_bypasses(root: &std::path::Path) -> std::io::Result<Vec<String>> {
    let mut findings = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    let mut files = Vec::new();
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                pending.push(entry?.path());
            }
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            files.push(path);
        }
    }
    files.sort();

    for file in files {
        let text = without_comments(&std::fs::read_to_string(&file)?);
        for (index, line) in text.lines().enumerate() {
            if line.contains("__private") {
                findings.push(format!(
                    "{}:{}: names `gauntlet::__private`, the macros' private module",
                    file.display(),
                    index + 1
                ));
            }
        }

        // An impl header may span several lines, so each one is read up to
        // its opening brace with the line breaks folded into spaces.
        let mut search = 0;
        while let Some(found) = text[search..].find("impl") {
            let start = search + found;
            search = start + "impl".len();
            let before = text[..start].chars().next_back();
            let after = text[search..].chars().next();
            let is_keyword = !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                && after.is_some_and(|c| c.is_whitespace() || c == '<');
            if !is_keyword {
                continue;
            }
            let end = text[start..]
                .find(['{', ';'])
                .map_or(text.len(), |offset| start + offset);
            let header = text[start..end]
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(name) = implemented_sealed_trait(&header) {
                let line = text[..start].matches('\n').count() + 1;
                findings.push(format!(
                    "{}:{line}: implements `{name}` by hand instead of deriving it",
                    file.display()
                ));
            }
        }
    }
    Ok(findings)
}

/// Replaces comments with spaces, keeping line breaks, so that commented-out
/// code is not reported and line numbers stay right. String literals are
/// not parsed; a `//` inside one blanks the rest of its line.
fn without_comments(text: &str) -> String {
    let mut output = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut block_depth = 0usize;
    while let Some(c) = chars.next() {
        if block_depth > 0 {
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                block_depth -= 1;
                output.push_str("  ");
            } else if c == '/' && chars.peek() == Some(&'*') {
                chars.next();
                block_depth += 1;
                output.push_str("  ");
            } else {
                output.push(if c == '\n' { '\n' } else { ' ' });
            }
            continue;
        }
        if c == '/' && chars.peek() == Some(&'*') {
            chars.next();
            block_depth = 1;
            output.push_str("  ");
        } else if c == '/' && chars.peek() == Some(&'/') {
            for rest in chars.by_ref() {
                if rest == '\n' {
                    output.push('\n');
                    break;
                }
            }
        } else {
            output.push(c);
        }
    }
    output
}

/// Returns the sealed trait named in an `impl ... Trait for ...` header, if
/// any.
fn implemented_sealed_trait(code: &str) -> Option<&'static str> {
    let rest = code.trim_start().strip_prefix("impl")?;

    // Skip the impl's own generic parameters, such as `<'a, T>`.
    let mut depth = 0usize;
    let mut start = 0;
    for (index, c) in rest.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            c if depth == 0 && !c.is_whitespace() => {
                start = index;
                break;
            }
            _ => {}
        }
    }

    let (trait_path, _) = rest[start..].split_once(" for ")?;
    let without_arguments = trait_path.split('<').next().unwrap_or_default();
    let name = without_arguments
        .rsplit("::")
        .next()
        .unwrap_or_default()
        .trim();
    SEALED_TRAITS.iter().copied().find(|sealed| *sealed == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_impls_are_recognised() {
        assert_eq!(
            implemented_sealed_trait("impl gauntlet::__private::ResourceSql for Invoice {"),
            Some("ResourceSql")
        );
        assert_eq!(
            implemented_sealed_trait("    impl<'a> Reply<AuthRequired> for Mine<'a> {"),
            Some("Reply")
        );
        assert_eq!(implemented_sealed_trait("impl Display for Invoice {"), None);
        assert_eq!(
            implemented_sealed_trait("let x = 1; // impl Reply for X"),
            None
        );
    }

    #[test]
    fn scan_reports_private_module_and_sealed_impls() {
        let directory = tempfile::tempdir().expect("creating a temporary directory");
        let nested = directory.path().join("nested");
        std::fs::create_dir(&nested).expect("creating a folder");
        std::fs::write(
            nested.join("bypass.rs"),
            "use gauntlet::__private::ResourceSql;\n// __private in a comment is fine\nimpl gauntlet::Schema for Login {}\n/* impl Reply<X>\n for Y {} */\nimpl<'a>\n    Reply<AuthPublic>\n    for Mine<'a>\n{\n}\n",
        )
        .expect("writing a source file");
        std::fs::write(directory.path().join("clean.rs"), "fn main() {}\n")
            .expect("writing a source file");

        let findings = scan_for_bypasses(directory.path()).expect("scanning");

        assert_eq!(findings.len(), 3, "{findings:?}");
        assert!(findings[0]
            .ends_with("bypass.rs:1: names `gauntlet::__private`, the macros' private module"));
        assert!(findings[1]
            .ends_with("bypass.rs:3: implements `Schema` by hand instead of deriving it"));
    }
}
