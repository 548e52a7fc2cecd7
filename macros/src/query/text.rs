//! The SQL text: byte offsets of parser locations, the placeholders that
//! SQLite will see, and the final text with its replacements.
//!
//! Placeholders are found in the token stream rather than the syntax tree,
//! so none can hide in a part of the tree that the checks do not walk.
//! `:caller` becomes `?1` and the n-th `?` becomes `?{n + 1}`: every
//! parameter carries its number, so the caller's id is bound to the owner
//! conditions whatever else the text contains.

use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Word};

use super::model::Segment;

/// The SQL string with the byte offset of each line start.
pub(super) struct Source<'a> {
    sql: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Source<'a> {
    pub(super) fn new(sql: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(sql.match_indices('\n').map(|(index, _)| index + 1));
        Source { sql, line_starts }
    }

    pub(super) fn sql(&self) -> &'a str {
        self.sql
    }

    /// Converts a parser location (1-based line and character column) to a
    /// byte offset; the column after the last character maps to the end.
    pub(super) fn offset(&self, location: Location) -> Option<usize> {
        let line = usize::try_from(location.line).ok()?.checked_sub(1)?;
        let column = usize::try_from(location.column).ok()?.checked_sub(1)?;
        let start = *self.line_starts.get(line)?;
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(self.sql.len(), |next| next - 1);
        let text = &self.sql[start..end];
        text.char_indices()
            .map(|(index, _)| index)
            .chain(std::iter::once(text.len()))
            .nth(column)
            .map(|index| start + index)
    }

    /// Returns the text a span covers, such as an identifier with its quotes.
    pub(super) fn slice(&self, span: Span) -> Option<&'a str> {
        let start = self.offset(span.start)?;
        let end = self.offset(span.end)?;
        self.sql.get(start..end)
    }
}

/// The replacement of a byte range of the SQL.
#[derive(Debug)]
pub(super) enum Replacement {
    Text(String),
    Columns(String),
}

/// A byte range of the SQL and its replacement.
#[derive(Debug)]
pub(super) struct Edit {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) replacement: Replacement,
}

/// The placeholders of a statement, as SQLite will number them.
#[derive(Debug, Default)]
pub(super) struct Placeholders {
    pub(super) edits: Vec<Edit>,
    /// The number of `?` placeholders.
    pub(super) arguments: usize,
    /// The number of `:caller` placeholders.
    pub(super) callers: usize,
}

/// Finds every placeholder and statement separator, rejecting parameter
/// forms other than `?` and `:caller` (`?1`, `$x`, `@x`, `:other`), whose
/// numbering would no longer match the arguments.
pub(super) fn scan_placeholders(
    source: &Source<'_>,
    tokens: &[TokenWithSpan],
) -> Result<Placeholders, Vec<String>> {
    let mut placeholders = Placeholders::default();
    let mut errors = Vec::new();
    let mut index = 0;

    while let Some(token) = tokens.get(index) {
        index += 1;
        let edit = match &token.token {
            Token::Placeholder(placeholder) if placeholder == "?" => {
                placeholders.arguments += 1;
                // `?1` is the caller, so the n-th argument is `?{n + 1}`.
                Some((token.span, format!("?{}", placeholders.arguments + 1)))
            }
            Token::Colon => match tokens.get(index) {
                Some(next) if is_caller_name(next) && next.span.start == token.span.end => {
                    index += 1;
                    placeholders.callers += 1;
                    Some((Span::new(token.span.start, next.span.end), "?1".to_string()))
                }
                _ => {
                    errors.push(
                        "`:` may appear only in the placeholder `:caller`; bind other values with `?`"
                            .to_string(),
                    );
                    None
                }
            },
            // `parse_statements` has confirmed there is one statement, so a
            // `;` can only end it; dropping it keeps SQLite from seeing more.
            Token::SemiColon => Some((token.span, String::new())),
            Token::Placeholder(other) => {
                errors.push(format!(
                    "the placeholder `{other}` is not supported; use `?` for arguments, bound in order, and `:caller` for the caller's id"
                ));
                None
            }
            other if looks_like_parameter(other) => {
                errors.push(format!(
                    "`{other}` is not supported in a scoped query; use `?` for arguments and `:caller` for the caller's id"
                ));
                None
            }
            _ => None,
        };

        if let Some((span, text)) = edit {
            match (source.offset(span.start), source.offset(span.end)) {
                (Some(start), Some(end)) => placeholders.edits.push(Edit {
                    start,
                    end,
                    replacement: Replacement::Text(text),
                }),
                _ => errors.push(format!(
                    "internal error: cannot locate `{}` in the SQL text",
                    token.token
                )),
            }
        }
    }

    if errors.is_empty() {
        Ok(placeholders)
    } else {
        Err(errors)
    }
}

fn is_caller_name(token: &TokenWithSpan) -> bool {
    matches!(
        &token.token,
        Token::Word(Word { value, quote_style: None, .. }) if value == "caller"
    )
}

/// Returns whether a token outside strings, identifiers and comments
/// contains a character that starts a parameter in SQLite (`?`, `:`, `@`,
/// `$`, `#`).
fn looks_like_parameter(token: &Token) -> bool {
    match token {
        Token::Word(_)
        | Token::Number(..)
        | Token::Whitespace(_)
        | Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::NationalStringLiteral(_)
        | Token::HexStringLiteral(_) => false,
        other => other.to_string().contains(['?', ':', '@', '$', '#']),
    }
}

/// Applies the edits to the SQL and splits it where the resource's columns go.
pub(super) fn segments(sql: &str, mut edits: Vec<Edit>) -> Result<Vec<Segment>, String> {
    edits.sort_by_key(|edit| edit.start);

    let mut segments = Vec::new();
    let mut text = String::new();
    let mut cursor = 0;
    for edit in edits {
        let Some(before) = sql.get(cursor..edit.start) else {
            return Err("internal error: overlapping replacements in the SQL text".to_string());
        };
        text.push_str(before);

        match edit.replacement {
            Replacement::Text(replacement) => {
                let number = replacement
                    .strip_prefix('?')
                    .and_then(|digits| digits.parse::<usize>().ok());
                match number {
                    Some(number) => {
                        if !text.is_empty() {
                            segments.push(Segment::Sql(std::mem::take(&mut text)));
                        }
                        segments.push(Segment::Param(number));
                    }
                    None => text.push_str(&replacement),
                }
            }
            Replacement::Columns(qualifier) => {
                // The column list is spliced between the neighbouring
                // tokens, so it needs whitespace on both sides in `SELECT*FROM`.
                if !text.is_empty() && !text.ends_with(char::is_whitespace) {
                    text.push(' ');
                }
                if !text.is_empty() {
                    segments.push(Segment::Sql(std::mem::take(&mut text)));
                }
                segments.push(Segment::Columns(qualifier));
                if sql[edit.end..].starts_with(|c: char| !c.is_whitespace()) {
                    text.push(' ');
                }
            }
        }
        cursor = edit.end;
    }
    text.push_str(&sql[cursor..]);
    if !text.is_empty() {
        segments.push(Segment::Sql(text));
    }
    Ok(segments)
}
