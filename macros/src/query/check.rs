//! Parses a scoped query's SQL and checks it into a [`CheckedQuery`].

use std::ops::ControlFlow;

use sqlparser::ast::{visit_relations, Statement};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use super::model::{
    AssignedColumn, CheckedQuery, Message, MessagePart, OwnerRequirement, ProtectedColumn, Segment,
    StatementKind,
};
use super::scope::{same_name, Access, Hint, Position, ResultColumns, TableReference, Walker};
use super::text::{self, Edit, Replacement, Source};

/// Checks a statement as far as the macro can without knowing the
/// resource, and returns every problem found.
pub(crate) fn check(sql: &str) -> Result<CheckedQuery, Vec<String>> {
    let dialect = SQLiteDialect {};
    let source = Source::new(sql);

    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|error| vec![format!("the SQL does not parse: {error}")])?;
    let placeholders = text::scan_placeholders(&source, &tokens)?;

    let mut statements = Parser::new(&dialect)
        .with_tokens_with_locations(tokens.clone())
        .parse_statements()
        .map_err(|error| vec![format!("the SQL does not parse: {error}")])?;
    let statement = match statements.len() {
        1 => statements.remove(0),
        0 => return Err(vec!["the SQL contains no statement".to_string()]),
        count => {
            return Err(vec![format!(
                "a scoped query is one statement, but this SQL contains {count}"
            )])
        }
    };

    let mut walker = Walker::new(&source);
    let (kind, table) = match &statement {
        Statement::Query(query) => {
            walker.query(query, Position::Result);
            (StatementKind::Select, result_table(&mut walker))
        }
        Statement::Update(update) => (StatementKind::Update, walker.update(update)),
        Statement::Delete(delete) => (StatementKind::Delete, walker.delete(delete)),
        _ => return Err(vec![unsupported_statement(&tokens)]),
    };

    let mut errors = std::mem::take(&mut walker.errors);
    check_completeness(&statement, &walker, &placeholders, &mut errors);
    let Some(table) = table else {
        return Err(errors);
    };
    for cte in &walker.cte_names {
        if same_name(cte, &table) {
            errors.push(format!(
                "the common table expression `{cte}` has the name of the table `{table}`, so the statement could read it in place of the table; rename it"
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    // Another table can hold other callers' rows or another resource's
    // secret columns, and the macro cannot tell which tables those are, so
    // a scoped query reads its resource's table and its own CTEs only.
    let mut others: Vec<&str> = Vec::new();
    for reference in &walker.references {
        let local = walker
            .cte_names
            .iter()
            .any(|cte| same_name(cte, &reference.table));
        let repeated = others
            .iter()
            .any(|other| same_name(other, &reference.table));
        if !same_name(&reference.table, &table) && !local && !repeated {
            others.push(&reference.table);
        }
    }
    for other in others {
        errors.push(format!(
            "`scoped_query!` reads only the table `{table}`, but the statement also names `{other}`, which may hold other callers' rows or secret columns; read `{other}` through its own resource's scoped operations instead"
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let requirements = walker
        .references
        .iter()
        .filter(|reference| same_name(&reference.table, &table))
        .map(owner_requirement)
        .collect();
    let assigned_columns = walker
        .assigned_columns
        .iter()
        .flat_map(|column| assigned_column_checks(column))
        .collect();

    let segments = build_segments(&source, placeholders.edits, &walker.result_columns)
        .map_err(|error| vec![error])?;

    Ok(CheckedQuery {
        kind,
        table_message: table_message(kind, &table),
        table,
        requirements,
        assigned_columns,
        segments,
        arguments: placeholders.arguments,
    })
}

/// Splits the SQL into the segments of the expansion: placeholders
/// renumbered, `;` dropped and each result `*` replaced by the columns.
fn build_segments(
    source: &Source<'_>,
    mut edits: Vec<Edit>,
    result_columns: &[ResultColumns],
) -> Result<Vec<Segment>, String> {
    for columns in result_columns {
        let (Some(start), Some(end)) = (
            source.offset(columns.span.start),
            source.offset(columns.span.end),
        ) else {
            return Err("internal error: cannot locate `*` in the SQL text".to_string());
        };
        edits.push(Edit {
            start,
            end,
            replacement: Replacement::Columns(columns.qualifier.clone()),
        });
    }
    text::segments(source.sql(), edits)
}

/// Returns the table that every SELECT arm of the result reads, which the
/// rows are decoded from.
fn result_table(walker: &mut Walker<'_>) -> Option<String> {
    let first = walker.result_columns.first()?.table.clone();
    let mismatch = walker
        .result_columns
        .iter()
        .find(|columns| !same_name(&columns.table, &first))
        .map(|columns| columns.table.clone());
    if let Some(other) = mismatch {
        walker.errors.push(format!(
            "every SELECT of a compound query must return rows of the same table, but one returns `{first}` and another `{other}`"
        ));
    }
    Some(first)
}

/// Confirms that the walk saw every table and placeholder that the parser
/// and tokenizer found, so that nothing went unchecked.
fn check_completeness(
    statement: &Statement,
    walker: &Walker<'_>,
    placeholders: &text::Placeholders,
    errors: &mut Vec<String>,
) {
    if !errors.is_empty() {
        // An unsupported construct stops the walk early, so the counts
        // would only repeat that error.
        return;
    }
    let mut relations = 0;
    let _ = visit_relations(statement, |_| {
        relations += 1;
        ControlFlow::<()>::Continue(())
    });
    if relations != walker.relations_seen {
        errors.push(format!(
            "`scoped_query!` cannot check this statement: it names {relations} tables, but only {} are in places the check understands",
            walker.relations_seen
        ));
    }
    let tokens = placeholders.arguments + placeholders.callers;
    if tokens != walker.placeholders_seen {
        errors.push(format!(
            "`scoped_query!` cannot check this statement: it has {tokens} placeholders, but only {} are in places the check understands",
            walker.placeholders_seen
        ));
    }
}

/// Returns the message for a statement other than SELECT, UPDATE or DELETE.
fn unsupported_statement(tokens: &[TokenWithSpan]) -> String {
    let keyword = tokens.iter().find_map(|token| match &token.token {
        Token::Word(word) => Some(word.keyword),
        _ => None,
    });
    match keyword {
        Some(Keyword::INSERT | Keyword::REPLACE) => {
            "INSERT is not supported: create rows with `owned_by(&caller).create(...)`, which sets the owner from the token".to_string()
        }
        Some(Keyword::CREATE | Keyword::ALTER | Keyword::DROP | Keyword::TRUNCATE) => {
            "schema changes are not supported in a scoped query; put them in a migration".to_string()
        }
        _ => "a scoped query must be a SELECT, UPDATE or DELETE statement".to_string(),
    }
}

fn table_message(kind: StatementKind, table: &str) -> Message {
    let verb = match kind {
        StatementKind::Select => "selects from",
        StatementKind::Update => "updates",
        StatementKind::Delete => "deletes from",
    };
    let mut message = Message::text(format!("this query {verb} `{table}`, but `"));
    message.push(MessagePart::ResourceName);
    message.push_text("` rows are stored in table `");
    message.push(MessagePart::ResourceTable);
    message.push_text("`");
    message
}

/// Builds the requirement that a reference to the resource's table binds
/// the owner column, with the message shown when it does not.
fn owner_requirement(reference: &TableReference) -> OwnerRequirement {
    let table = &reference.table;
    let (problem, fix, after) = match (reference.access, reference.has_where) {
        (Access::InTable, _) => (
            format!("`IN {table}` reads every row of `{table}`"),
            format!("write `IN (SELECT ... FROM {table} WHERE "),
            ")`",
        ),
        (Access::Read, false) => (
            format!("the SELECT that reads `{table}` has no WHERE clause, so it reads the rows of every owner"),
            "add `WHERE ".to_string(),
            "`",
        ),
        (Access::Update, false) => (
            format!("this UPDATE of `{table}` has no WHERE clause, so it changes the rows of every owner"),
            "add `WHERE ".to_string(),
            "`",
        ),
        (Access::Delete, false) => (
            format!("this DELETE from `{table}` has no WHERE clause, so it deletes the rows of every owner"),
            "add `WHERE ".to_string(),
            "`",
        ),
        (Access::Read, true) => (
            format!("the WHERE clause that reads `{table}` does not bind the owner column to the caller"),
            "add `AND ".to_string(),
            "` as a top-level condition",
        ),
        (Access::Update, true) => (
            format!("the WHERE clause of this UPDATE of `{table}` does not bind the owner column to the caller"),
            "add `AND ".to_string(),
            "` as a top-level condition",
        ),
        (Access::Delete, true) => (
            format!("the WHERE clause of this DELETE from `{table}` does not bind the owner column to the caller"),
            "add `AND ".to_string(),
            "` as a top-level condition",
        ),
    };

    let mut message = Message::text(format!("{problem}; {fix}"));
    if let Some(qualifier) = &reference.qualifier {
        message.push_text(format!("{qualifier}."));
    }
    message.push(MessagePart::OwnerColumn);
    message.push_text(format!(" = :caller{after}"));

    if !reference.bound_columns.is_empty() {
        let columns = reference
            .bound_columns
            .iter()
            .map(|column| format!("`{column}`"))
            .collect::<Vec<_>>()
            .join(", ");
        message.push_text(format!(
            " ({columns} bound to `:caller` here is not the owner column of `"
        ));
        message.push(MessagePart::ResourceName);
        message.push_text("`)");
    }
    match reference.hint {
        None => {}
        Some(Hint::JoinCondition) => message.push_text(
            " (a condition in `JOIN ... ON` does not count: an outer join keeps rows that fail it, so move the condition to the WHERE clause)",
        ),
        Some(Hint::NotTopLevel) => message.push_text(
            " (`:caller` appears in this WHERE clause only under OR, NOT, CASE or another expression, where it does not restrict every row)",
        ),
        Some(Hint::Unqualified) => message.push_text(
            " (with a USING or NATURAL join, an unqualified column may belong to either table, so qualify the owner column)",
        ),
    }

    OwnerRequirement {
        bound_columns: reference.bound_columns.clone(),
        message,
    }
}

/// The checks on a column assigned by UPDATE: it must be neither the owner
/// column (rows would move to another owner) nor the id column (like the
/// `writable(...)` fields of a resource).
fn assigned_column_checks(column: &str) -> [AssignedColumn; 2] {
    let owner = {
        let mut message = Message::text(format!(
            "this UPDATE sets `{column}`, the owner column of `"
        ));
        message.push(MessagePart::ResourceName);
        message.push_text("`; a scoped query cannot give rows to another owner");
        AssignedColumn {
            column: column.to_string(),
            protected: ProtectedColumn::Owner,
            message,
        }
    };
    let id = {
        let mut message = Message::text(format!("this UPDATE sets `{column}`, the id column of `"));
        message.push(MessagePart::ResourceName);
        message.push_text("`; ids cannot change once a row exists");
        AssignedColumn {
            column: column.to_string(),
            protected: ProtectedColumn::Id,
            message,
        }
    };
    [owner, id]
}
