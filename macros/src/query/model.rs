//! The checked form of a `scoped_query!` statement, from which the
//! expansion is generated.
//!
//! The macro receives only tokens, so it cannot know the resource's table,
//! owner column or id column. The model therefore records what the statement
//! binds, and the expansion turns each record into a constant assertion
//! against `ResourceSql`, evaluated by the compiler.

/// What the statement does, which decides the type it expands to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StatementKind {
    Select,
    Update,
    Delete,
}

/// One piece of the SQL text sent to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Text sent as is.
    Sql(String),
    /// The resource's columns, each qualified with this table name or alias
    /// as written in the statement (quotes included).
    Columns(String),
    /// A numbered parameter: `?n` on SQLite, `$n` on PostgreSQL.
    Param(usize),
}

/// A part of a compile-time error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MessagePart {
    Text(String),
    /// The resource's struct name (`ResourceSql::NAME`).
    ResourceName,
    /// The resource's table, without quotes.
    ResourceTable,
    /// The resource's owner column, without quotes.
    OwnerColumn,
}

/// An error message whose resource-specific parts are filled in by the
/// compiler when the assertion that carries it fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message(pub(crate) Vec<MessagePart>);

impl Message {
    pub(crate) fn text(text: impl Into<String>) -> Self {
        Message(vec![MessagePart::Text(text.into())])
    }

    /// Appends text, joining it to the previous part when that is text too.
    pub(crate) fn push_text(&mut self, text: impl Into<String>) {
        let text = text.into();
        match self.0.last_mut() {
            Some(MessagePart::Text(previous)) => previous.push_str(&text),
            _ => self.0.push(MessagePart::Text(text)),
        }
    }

    pub(crate) fn push(&mut self, part: MessagePart) {
        self.0.push(part);
    }
}

/// A place that reads or changes the resource's table: the statement is
/// accepted only if the owner column is among `bound_columns`, the columns
/// that a top-level condition of the governing WHERE clause binds to
/// `:caller`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OwnerRequirement {
    pub(crate) bound_columns: Vec<String>,
    pub(crate) message: Message,
}

/// The resource column that an UPDATE must not assign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProtectedColumn {
    Owner,
    Id,
}

/// A column assigned by `UPDATE ... SET`, rejected when it is the owner or
/// id column of the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssignedColumn {
    pub(crate) column: String,
    pub(crate) protected: ProtectedColumn,
    pub(crate) message: Message,
}

/// A statement that passed every check the macro can make on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CheckedQuery {
    pub(crate) kind: StatementKind,
    /// The table whose rows the statement returns or changes, as named in
    /// the SQL; it must be the resource's table.
    pub(crate) table: String,
    pub(crate) table_message: Message,
    pub(crate) requirements: Vec<OwnerRequirement>,
    pub(crate) assigned_columns: Vec<AssignedColumn>,
    pub(crate) segments: Vec<Segment>,
    /// The number of `?` placeholders, which take the macro's arguments in order.
    pub(crate) arguments: usize,
}

/// A resource's names as `ResourceSql` contains them (unquoted), for
/// evaluating the assertions in unit tests.
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResourceNames<'a> {
    pub(crate) name: &'a str,
    pub(crate) table: &'a str,
    pub(crate) owner: &'a str,
    pub(crate) id: &'a str,
}

#[cfg(test)]
impl Message {
    pub(crate) fn render(&self, resource: ResourceNames<'_>) -> String {
        self.0
            .iter()
            .map(|part| match part {
                MessagePart::Text(text) => text.as_str(),
                MessagePart::ResourceName => resource.name,
                MessagePart::ResourceTable => resource.table,
                MessagePart::OwnerColumn => resource.owner,
            })
            .collect()
    }
}

#[cfg(test)]
impl CheckedQuery {
    /// Evaluates the assertions that the expansion leaves to the compiler,
    /// with the same rules as the `const fn`s in `gauntlet::__private::query`,
    /// and returns the messages of those that fail.
    pub(crate) fn violations(&self, resource: ResourceNames<'_>) -> Vec<String> {
        if !self.table.eq_ignore_ascii_case(resource.table) {
            return vec![self.table_message.render(resource)];
        }
        let mut messages = Vec::new();
        for requirement in &self.requirements {
            let bound = requirement
                .bound_columns
                .iter()
                .any(|column| column.eq_ignore_ascii_case(resource.owner));
            if !bound {
                messages.push(requirement.message.render(resource));
            }
        }
        for assigned in &self.assigned_columns {
            let protected = match assigned.protected {
                ProtectedColumn::Owner => resource.owner,
                ProtectedColumn::Id => resource.id,
            };
            if assigned.column.eq_ignore_ascii_case(protected) {
                messages.push(assigned.message.render(resource));
            }
        }
        messages
    }
}
