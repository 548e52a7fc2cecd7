//! Error accumulation and suggestions shared by the macros.

use proc_macro2::{Span, TokenStream};
use std::fmt::Display;

/// Collects errors so that one compile reports every mistake in an item.
#[derive(Default)]
pub(crate) struct Errors {
    errors: Vec<syn::Error>,
}

impl Errors {
    pub(crate) fn push(&mut self, span: Span, message: impl Display) {
        self.errors.push(syn::Error::new(span, message));
    }

    /// Combines the errors into one, or `Ok` when there are none.
    pub(crate) fn finish(self) -> Result<(), syn::Error> {
        let mut errors = self.errors.into_iter();
        let Some(mut first) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            first.combine(error);
        }
        Err(first)
    }
}

/// Finds the candidate closest to `word` by edit distance, when it is close
/// enough to be a likely typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(word, candidate), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// " (did you mean `x`?)" or nothing.
pub(crate) fn suggestion<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match closest(word, candidates) {
        Some(candidate) => format!(" (did you mean `{candidate}`?)"),
        None => String::new(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            let insertion = current[j] + 1;
            let deletion = previous[j + 1] + 1;
            current.push(substitution.min(insertion).min(deletion));
        }
        previous = current;
    }
    previous[b.len()]
}

/// Finds a free-form JSON type anywhere in `ty` (`Json<T>`, `Value`, a map),
/// whose keys would escape a schema's unknown-field check.
pub(crate) fn free_form_json(ty: &syn::Type) -> Option<&syn::Ident> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let segment = path.path.segments.last()?;
    let name = segment.ident.to_string();
    if matches!(
        name.as_str(),
        "Json" | "Value" | "HashMap" | "BTreeMap" | "IndexMap" | "Map"
    ) {
        return Some(&segment.ident);
    }
    let syn::PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return None;
    };
    arguments.args.iter().find_map(|argument| match argument {
        syn::GenericArgument::Type(inner) => free_form_json(inner),
        _ => None,
    })
}

/// The message for [`free_form_json`] in a request body.
pub(crate) const FREE_FORM_MESSAGE: &str = "a request body field cannot hold free-form JSON: the keys of a `Json<T>`, `serde_json::Value` or map would escape the check that rejects unknown fields; declare the nested object as a `#[derive(Schema)]` struct and validate it with `#[garde(dive)]`";

/// Builds the output for an item whose attribute had errors: the errors,
/// plus a fallback so the rest of the crate does not pile up follow-on errors.
pub(crate) fn with_fallback(error: syn::Error, fallback: TokenStream) -> TokenStream {
    let mut output = error.to_compile_error();
    output.extend(fallback);
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_one_letter_typos() {
        assert_eq!(closest("due_dat", ["note", "due_date"]), Some("due_date"));
        assert_eq!(
            closest("rate_limt", ["public", "rate_limit", "unscoped"]),
            Some("rate_limit")
        );
    }

    #[test]
    fn closest_ignores_unrelated_words() {
        assert_eq!(closest("color", ["note", "due_date"]), None);
    }
}
