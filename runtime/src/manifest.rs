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
                let scope = match &route.unscoped_reason {
                    Some(reason) => format!("unscoped: {reason}"),
                    None => "scoped".to_string(),
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
