//! Walks a parsed statement and records every table it names, with the
//! columns that the WHERE clause governing that table binds to `:caller`.
//!
//! The walk accepts only the syntax it understands: any expression, FROM
//! item or clause it does not know is reported as unsupported, so no
//! subquery can hide where the walk does not look.

use sqlparser::ast::{
    Assignment, AssignmentTarget, BinaryOperator, Delete, Distinct, Expr, FromTable, Function,
    FunctionArg, FunctionArgExpr, FunctionArgumentClause, FunctionArguments, GroupByExpr, Ident,
    InTarget, JoinConstraint, JoinOperator, LimitClause, NamedWindowExpr, ObjectName,
    ObjectNamePart, OrderByExpr, OrderByKind, Query, Select, SelectFlavor, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, TableAlias, TableFactor, TableWithJoins, Update,
    UpdateTableFromKind, Value, WildcardAdditionalOptions, WindowFrameBound, WindowSpec,
    WindowType,
};
use sqlparser::tokenizer::Span;

use super::text::Source;

/// The kind of access a table reference makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// A FROM item of a SELECT, or of an UPDATE's FROM clause.
    Read,
    /// The target of an UPDATE.
    Update,
    /// The target of a DELETE.
    Delete,
    /// `x IN table`, which reads every row of the table.
    InTable,
}

/// The likely reason that a table reference is not bound, added to its error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Hint {
    /// The owner condition is in `JOIN ... ON`, not in the WHERE clause.
    JoinCondition,
    /// `:caller` appears in the WHERE clause, but not in a top-level `column = :caller`.
    NotTopLevel,
    /// An unqualified `column = :caller` in a scope with a USING or NATURAL
    /// join, where the column may belong to either side.
    Unqualified,
}

/// A place where the statement names a table.
#[derive(Debug, Clone)]
pub(super) struct TableReference {
    /// The table name without quotes.
    pub(super) table: String,
    pub(super) access: Access,
    pub(super) has_where: bool,
    /// The columns that a top-level condition of the WHERE clause binds to
    /// `:caller` and that belong to this reference.
    pub(super) bound_columns: Vec<String>,
    /// How to qualify the owner column in the suggested condition
    /// (the alias or table name as written), when the scope needs it.
    pub(super) qualifier: Option<String>,
    pub(super) hint: Option<Hint>,
}

/// The `*` or `alias.*` of a SELECT whose rows the statement returns, with
/// the table that it selects.
#[derive(Debug, Clone)]
pub(super) struct ResultColumns {
    pub(super) span: Span,
    /// The alias or table name as written, used to qualify each column.
    pub(super) qualifier: String,
    /// The table name without quotes.
    pub(super) table: String,
}

/// A column written as `column` or `qualifier.column`.
#[derive(Debug, Clone)]
struct ColumnName {
    qualifier: Option<String>,
    column: String,
}

/// A FROM item of one SELECT, UPDATE or DELETE.
struct Relation<'a> {
    /// The table, or `None` for a subquery or table-valued function.
    table: Option<&'a Ident>,
    alias: Option<&'a Ident>,
}

impl Relation<'_> {
    /// Returns the name that qualifies this item's columns: its alias, else its table.
    fn name(&self) -> Option<&Ident> {
        self.alias.or(self.table)
    }
}

/// The FROM items of one SELECT, UPDATE or DELETE, and its join conditions.
#[derive(Default)]
struct Scope<'a> {
    relations: Vec<Relation<'a>>,
    join_conditions: Vec<&'a Expr>,
    has_using_or_natural: bool,
}

/// Whether a SELECT's rows are the statement's result, or feed a subquery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Position {
    Result,
    Nested,
}

pub(super) struct Walker<'s> {
    source: &'s Source<'s>,
    pub(super) references: Vec<TableReference>,
    pub(super) result_columns: Vec<ResultColumns>,
    /// The names of every common table expression, anywhere in the statement.
    pub(super) cte_names: Vec<String>,
    /// UPDATE ... SET targets, without quotes.
    pub(super) assigned_columns: Vec<String>,
    pub(super) errors: Vec<String>,
    /// Tables and table-valued functions walked, to compare with the
    /// parser's own count.
    pub(super) relations_seen: usize,
    /// `?` and `:caller` placeholders walked, to compare with the tokens.
    pub(super) placeholders_seen: usize,
    /// `:caller` placeholders walked so far outside subqueries, for [`Hint::NotTopLevel`].
    caller_uses: usize,
}

impl<'s> Walker<'s> {
    pub(super) fn new(source: &'s Source<'s>) -> Self {
        Walker {
            source,
            references: Vec::new(),
            result_columns: Vec::new(),
            cte_names: Vec::new(),
            assigned_columns: Vec::new(),
            errors: Vec::new(),
            relations_seen: 0,
            placeholders_seen: 0,
            caller_uses: 0,
        }
    }

    fn unsupported(&mut self, construct: impl std::fmt::Display) {
        self.errors.push(format!(
            "`scoped_query!` cannot check {construct}; rewrite the statement without it"
        ));
    }

    /// Walks a query in `position`: the statement itself, or a subquery, CTE
    /// or derived table.
    pub(super) fn query(&mut self, query: &Query, position: Position) {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                self.cte_names.push(cte.alias.name.value.clone());
                if cte.from.is_some() {
                    self.unsupported("`FROM` after a common table expression");
                }
                self.nested_query(&cte.query);
            }
        }

        self.set_expr(&query.body, position);

        if let Some(order_by) = &query.order_by {
            match &order_by.kind {
                OrderByKind::Expressions(expressions) => self.order_by(expressions),
                OrderByKind::All(_) => self.unsupported("`ORDER BY ALL`"),
            }
            if order_by.interpolate.is_some() {
                self.unsupported("`INTERPOLATE`");
            }
        }
        match &query.limit_clause {
            None => {}
            Some(LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            }) => {
                if let Some(limit) = limit {
                    self.expr(limit);
                }
                if let Some(offset) = offset {
                    self.expr(&offset.value);
                }
                if !limit_by.is_empty() {
                    self.unsupported("`LIMIT ... BY`");
                }
            }
            Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
                self.expr(offset);
                self.expr(limit);
            }
        }
        if query.fetch.is_some()
            || !query.locks.is_empty()
            || query.for_clause.is_some()
            || query.settings.is_some()
            || query.format_clause.is_some()
            || !query.pipe_operators.is_empty()
        {
            self.unsupported(format!("the clauses of `{query}`"));
        }
    }

    /// Walks a subquery. Its `:caller` uses do not count toward the
    /// enclosing WHERE clause.
    fn nested_query(&mut self, query: &Query) {
        let outer_uses = self.caller_uses;
        self.query(query, Position::Nested);
        self.caller_uses = outer_uses;
    }

    fn set_expr(&mut self, body: &SetExpr, position: Position) {
        match body {
            SetExpr::Select(select) => self.select(select, position),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left, position);
                self.set_expr(right, position);
            }
            SetExpr::Query(query) if position == Position::Nested => self.nested_query(query),
            SetExpr::Insert(_) => self.errors.push(
                "INSERT is not supported: create rows with `owned_by(&caller).create(...)`, which sets the owner from the token"
                    .to_string(),
            ),
            SetExpr::Update(_) | SetExpr::Delete(_) => {
                self.unsupported("`WITH` before UPDATE or DELETE")
            }
            other => self.unsupported(format!("`{other}` here")),
        }
    }

    fn select(&mut self, select: &Select, position: Position) {
        self.check_select_clauses(select);

        let mut scope = Scope::default();
        self.walk_from_clause(&select.from, &mut scope);

        match position {
            Position::Nested => {
                for item in &select.projection {
                    self.select_item(item);
                }
            }
            Position::Result => self.result_projection(select, &scope),
        }

        let filter = self.where_clause(select.selection.as_ref());

        match &select.group_by {
            GroupByExpr::Expressions(expressions, modifiers) => {
                for expression in expressions {
                    self.expr(expression);
                }
                if !modifiers.is_empty() {
                    self.unsupported("`GROUP BY` modifiers");
                }
            }
            GroupByExpr::All(_) => self.unsupported("`GROUP BY ALL`"),
        }
        if let Some(having) = &select.having {
            self.expr(having);
        }
        for window in &select.named_window {
            if let NamedWindowExpr::WindowSpec(spec) = &window.1 {
                self.window_spec(spec);
            }
        }

        self.add_references(&scope, &filter, Access::Read);
    }

    /// Rejects the SELECT clauses of other SQL dialects, whose contents the
    /// walk does not visit.
    fn check_select_clauses(&mut self, select: &Select) {
        let foreign = !select.optimizer_hints.is_empty()
            || select.select_modifiers.is_some()
            || select.top.is_some()
            || select.exclude.is_some()
            || select.into.is_some()
            || !select.lateral_views.is_empty()
            || select.prewhere.is_some()
            || !select.connect_by.is_empty()
            || !select.cluster_by.is_empty()
            || !select.distribute_by.is_empty()
            || !select.sort_by.is_empty()
            || select.qualify.is_some()
            || select.value_table_mode.is_some()
            || select.flavor != SelectFlavor::Standard
            || matches!(select.distinct, Some(Distinct::On(_)));
        if foreign {
            self.unsupported(format!("the clauses of `{select}`"));
        }
    }

    fn select_item(&mut self, item: &SelectItem) {
        match item {
            SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => {
                self.expr(expr)
            }
            SelectItem::Wildcard(options)
            | SelectItem::QualifiedWildcard(
                SelectItemQualifiedWildcardKind::ObjectName(_),
                options,
            ) if plain_wildcard(options) => {}
            other => self.unsupported(format!("the select item `{other}`")),
        }
    }

    /// Checks that a SELECT whose rows are returned selects `*` or
    /// `alias.*` of a table, and records where that is.
    fn result_projection(&mut self, select: &Select, scope: &Scope<'_>) {
        let (span, relation) = match select.projection.as_slice() {
            [SelectItem::Wildcard(options)] if plain_wildcard(options) => {
                (options.wildcard_token.0.span, scope.relations.first())
            }
            [SelectItem::QualifiedWildcard(
                SelectItemQualifiedWildcardKind::ObjectName(name),
                options,
            )] if plain_wildcard(options) => {
                let Some(qualifier) = single_identifier(name) else {
                    self.errors.push(format!(
                        "`{name}.*` is not supported; qualify `*` with a table name or alias from the FROM clause"
                    ));
                    return;
                };
                let mut matches = scope.relations.iter().filter(|relation| {
                    relation
                        .name()
                        .is_some_and(|name| same_name(&name.value, &qualifier.value))
                });
                let relation = matches.next();
                if relation.is_some() && matches.next().is_some() {
                    self.errors.push(format!(
                        "`{qualifier}.*` is ambiguous: several FROM items are named `{}`; give them distinct aliases",
                        qualifier.value
                    ));
                    return;
                }
                if relation.is_none() {
                    self.errors.push(format!(
                        "`{qualifier}.*` names no table or alias of this FROM clause"
                    ));
                    return;
                }
                (
                    Span::new(qualifier.span.start, options.wildcard_token.0.span.end),
                    relation,
                )
            }
            _ => {
                self.errors.push(format!(
                    "a scoped query returns whole resource rows, so it must select `*` (or `alias.*`), which Gauntlet replaces with the resource's columns; found `SELECT {}`",
                    display_list(&select.projection)
                ));
                return;
            }
        };

        let Some(relation) = relation else {
            if !select.from.is_empty() {
                // The FROM item was rejected already, such as `schema.table`.
                return;
            }
            self.errors.push(
                "a scoped query selects from its resource's table; add a FROM clause naming it"
                    .to_string(),
            );
            return;
        };
        let (Some(table), Some(name)) = (relation.table, relation.name()) else {
            self.errors.push(
                "the `*` of a scoped query must stand for a table, not a subquery or table-valued function; select from the resource's table directly"
                    .to_string(),
            );
            return;
        };
        let Some(qualifier) = self.source.slice(name.span) else {
            self.errors.push(format!(
                "internal error: cannot locate `{name}` in the SQL text"
            ));
            return;
        };
        self.result_columns.push(ResultColumns {
            span,
            qualifier: qualifier.to_string(),
            table: table.value.clone(),
        });
    }

    fn walk_from_clause<'a>(&mut self, items: &'a [TableWithJoins], scope: &mut Scope<'a>) {
        for item in items {
            self.walk_from_item(&item.relation, scope);
            for join in &item.joins {
                self.join_operator(&join.join_operator, scope);
                self.walk_from_item(&join.relation, scope);
            }
        }
    }

    fn join_operator<'a>(&mut self, operator: &'a JoinOperator, scope: &mut Scope<'a>) {
        let constraint = match operator {
            JoinOperator::Join(constraint)
            | JoinOperator::Inner(constraint)
            | JoinOperator::Left(constraint)
            | JoinOperator::LeftOuter(constraint)
            | JoinOperator::Right(constraint)
            | JoinOperator::RightOuter(constraint)
            | JoinOperator::FullOuter(constraint)
            | JoinOperator::CrossJoin(constraint) => constraint,
            _ => {
                self.unsupported("this kind of join");
                return;
            }
        };
        match constraint {
            JoinConstraint::On(condition) => {
                self.expr(condition);
                scope.join_conditions.push(condition);
            }
            JoinConstraint::Using(_) | JoinConstraint::Natural => {
                scope.has_using_or_natural = true;
            }
            JoinConstraint::None => {}
            JoinConstraint::UsingAlias(..) => self.unsupported("`USING (...) AS`"),
        }
    }

    fn walk_from_item<'a>(&mut self, item: &'a TableFactor, scope: &mut Scope<'a>) {
        match item {
            TableFactor::Table {
                name,
                alias,
                args,
                with_hints,
                version,
                with_ordinality,
                partitions,
                json_path,
                sample,
                index_directives: _,
                inheritance,
            } => {
                self.relations_seen += 1;
                if !with_hints.is_empty()
                    || version.is_some()
                    || *with_ordinality
                    || !partitions.is_empty()
                    || json_path.is_some()
                    || sample.is_some()
                    || inheritance.is_some()
                {
                    self.unsupported(format!("the FROM item `{item}`"));
                }
                let alias = self.alias(alias.as_ref());
                let Some(table) = self.table_name(name) else {
                    return;
                };
                match args {
                    None => scope.relations.push(Relation {
                        table: Some(table),
                        alias,
                    }),
                    Some(function) => {
                        if function.settings.is_some() {
                            self.unsupported(format!("the FROM item `{item}`"));
                        }
                        for argument in &function.args {
                            self.function_arg(argument);
                        }
                        scope.relations.push(Relation { table: None, alias });
                    }
                }
            }
            TableFactor::Derived {
                lateral: false,
                subquery,
                alias,
                sample: None,
            } => {
                self.nested_query(subquery);
                let alias = self.alias(alias.as_ref());
                scope.relations.push(Relation { table: None, alias });
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } => self.walk_from_clause(std::slice::from_ref(&**table_with_joins), scope),
            other => self.unsupported(format!("the FROM item `{other}`")),
        }
    }

    fn alias<'a>(&mut self, alias: Option<&'a TableAlias>) -> Option<&'a Ident> {
        let alias = alias?;
        if !alias.columns.is_empty() || alias.at.is_some() {
            self.unsupported(format!("the alias `{alias}`"));
        }
        Some(&alias.name)
    }

    /// Returns the table of a one-part name. It rejects `schema.table`,
    /// because the schema decides which table SQLite reads and the checks
    /// compare table names only.
    fn table_name<'a>(&mut self, name: &'a ObjectName) -> Option<&'a Ident> {
        let table = single_identifier(name);
        if table.is_none() {
            self.errors.push(format!(
                "`{name}` is not supported: name tables without a schema"
            ));
        }
        table
    }

    /// Walks a WHERE clause and collects its top-level `column = :caller`
    /// conditions.
    fn where_clause(&mut self, selection: Option<&Expr>) -> Filter {
        let Some(selection) = selection else {
            return Filter::default();
        };
        let uses_before = self.caller_uses;
        self.expr(selection);
        let uses = self.caller_uses - uses_before;

        let bindings = caller_bindings(selection);
        Filter {
            present: true,
            caller_elsewhere: uses > bindings.len(),
            bindings,
        }
    }

    /// Records a reference for each table of a scope. The first FROM item
    /// gets `first_access`, which marks the target of an UPDATE or DELETE,
    /// and the others are read.
    fn add_references(&mut self, scope: &Scope<'_>, filter: &Filter, first_access: Access) {
        let join_bindings: Vec<ColumnName> = scope
            .join_conditions
            .iter()
            .flat_map(|condition| caller_bindings(condition))
            .collect();
        let several = scope.relations.len() > 1;

        for (index, relation) in scope.relations.iter().enumerate() {
            let (Some(table), Some(name)) = (relation.table, relation.name()) else {
                continue;
            };
            let access = if index == 0 {
                first_access
            } else {
                Access::Read
            };

            let belongs = |binding: &&ColumnName, unqualified_counts: bool| match &binding.qualifier
            {
                Some(qualifier) => same_name(qualifier, &name.value),
                None => unqualified_counts,
            };
            let bound_columns: Vec<String> = filter
                .bindings
                .iter()
                .filter(|binding| belongs(binding, !scope.has_using_or_natural))
                .map(|binding| binding.column.clone())
                .collect();

            let hint = if !bound_columns.is_empty() {
                None
            } else if join_bindings.iter().any(|binding| belongs(&binding, true)) {
                Some(Hint::JoinCondition)
            } else if filter
                .bindings
                .iter()
                .any(|binding| belongs(&binding, true))
            {
                Some(Hint::Unqualified)
            } else if filter.caller_elsewhere {
                Some(Hint::NotTopLevel)
            } else {
                None
            };

            let qualifier = if several || scope.has_using_or_natural {
                self.source.slice(name.span).map(str::to_string)
            } else {
                None
            };

            self.references.push(TableReference {
                table: table.value.clone(),
                access,
                has_where: filter.present,
                bound_columns,
                qualifier,
                hint,
            });
        }
    }

    pub(super) fn update(&mut self, update: &Update) -> Option<String> {
        if !update.optimizer_hints.is_empty()
            || update.on_cluster.is_some()
            || update.output.is_some()
            || update.settings.is_some()
        {
            self.unsupported("the clauses of this UPDATE");
        }
        if update.returning.is_some() {
            self.errors.push(
                "`RETURNING` is not supported: `execute` returns the number of rows changed; read rows with a SELECT"
                    .to_string(),
            );
        }
        if let Some(conflict) = &update.or {
            self.errors.push(format!(
                "`UPDATE {conflict}` is not supported: a conflict clause such as `OR REPLACE` can delete rows of other owners that conflict with the update"
            ));
        }

        let mut scope = Scope::default();
        let target = self.target(&update.table, &mut scope, "UPDATE");
        match &update.from {
            None => {}
            Some(UpdateTableFromKind::AfterSet(items)) => self.walk_from_clause(items, &mut scope),
            Some(UpdateTableFromKind::BeforeSet(_)) => self.unsupported("`UPDATE FROM ... SET`"),
        }

        for assignment in &update.assignments {
            self.assignment(assignment);
        }
        let filter = self.where_clause(update.selection.as_ref());
        self.order_by(&update.order_by);
        if let Some(limit) = &update.limit {
            self.expr(limit);
        }

        self.add_references(&scope, &filter, Access::Update);
        target
    }

    pub(super) fn delete(&mut self, delete: &Delete) -> Option<String> {
        if !delete.optimizer_hints.is_empty()
            || !delete.tables.is_empty()
            || delete.using.is_some()
            || delete.on_cluster.is_some()
            || delete.output.is_some()
            || delete.settings.is_some()
        {
            self.unsupported("the clauses of this DELETE");
        }
        if delete.returning.is_some() {
            self.errors.push(
                "`RETURNING` is not supported: `execute` returns the number of rows deleted"
                    .to_string(),
            );
        }

        let mut scope = Scope::default();
        let target = match &delete.from {
            FromTable::WithFromKeyword(items) | FromTable::WithoutKeyword(items) => {
                match items.as_slice() {
                    [item] => self.target(item, &mut scope, "DELETE"),
                    _ => {
                        self.unsupported("a DELETE from several tables");
                        None
                    }
                }
            }
        };

        let filter = self.where_clause(delete.selection.as_ref());
        self.order_by(&delete.order_by);
        if let Some(limit) = &delete.limit {
            self.expr(limit);
        }

        self.add_references(&scope, &filter, Access::Delete);
        target
    }

    /// Walks the target table of an UPDATE or DELETE and returns its name.
    fn target<'a>(
        &mut self,
        item: &'a TableWithJoins,
        scope: &mut Scope<'a>,
        statement: &str,
    ) -> Option<String> {
        if !item.joins.is_empty() {
            self.unsupported(format!("a join in the target of an {statement}"));
        }
        self.walk_from_item(&item.relation, scope);
        match scope.relations.first() {
            Some(Relation {
                table: Some(table), ..
            }) => Some(table.value.clone()),
            Some(_) => {
                self.errors.push(format!(
                    "the target of an {statement} must be a table, not `{}`",
                    item.relation
                ));
                None
            }
            None => None,
        }
    }

    fn assignment(&mut self, assignment: &Assignment) {
        let columns = match &assignment.target {
            AssignmentTarget::ColumnName(name) => std::slice::from_ref(name),
            AssignmentTarget::Tuple(names) => names.as_slice(),
        };
        for column in columns {
            if let Some(ObjectNamePart::Identifier(ident)) = column.0.last() {
                self.assigned_columns.push(ident.value.clone());
            } else {
                self.unsupported(format!("the assignment target `{column}`"));
            }
        }
        self.expr(&assignment.value);
    }

    fn order_by(&mut self, expressions: &[OrderByExpr]) {
        for expression in expressions {
            self.expr(&expression.expr);
            if expression.with_fill.is_some() {
                self.unsupported("`WITH FILL`");
            }
        }
    }

    fn window_spec(&mut self, spec: &WindowSpec) {
        for expression in &spec.partition_by {
            self.expr(expression);
        }
        self.order_by(&spec.order_by);
        if let Some(frame) = &spec.window_frame {
            for bound in std::iter::once(&frame.start_bound).chain(frame.end_bound.as_ref()) {
                if let WindowFrameBound::Preceding(Some(offset))
                | WindowFrameBound::Following(Some(offset)) = bound
                {
                    self.expr(offset);
                }
            }
        }
    }

    fn function(&mut self, function: &Function) {
        if function.uses_odbc_syntax
            || !matches!(function.parameters, FunctionArguments::None)
            || function.null_treatment.is_some()
        {
            self.unsupported(format!("the function call `{function}`"));
        }
        match &function.args {
            FunctionArguments::None => {}
            FunctionArguments::Subquery(query) => self.nested_query(query),
            FunctionArguments::List(list) => {
                for argument in &list.args {
                    self.function_arg(argument);
                }
                for clause in &list.clauses {
                    match clause {
                        FunctionArgumentClause::OrderBy(expressions) => self.order_by(expressions),
                        other => self.unsupported(format!("`{other}` in a function call")),
                    }
                }
            }
        }
        self.order_by(&function.within_group);
        if let Some(filter) = &function.filter {
            self.expr(filter);
        }
        if let Some(WindowType::WindowSpec(spec)) = &function.over {
            self.window_spec(spec);
        }
    }

    fn function_arg(&mut self, argument: &FunctionArg) {
        let value = match argument {
            FunctionArg::Unnamed(value) | FunctionArg::Named { arg: value, .. } => value,
            FunctionArg::ExprNamed { name, arg, .. } => {
                self.expr(name);
                arg
            }
        };
        match value {
            FunctionArgExpr::Expr(expr) => self.expr(expr),
            FunctionArgExpr::Wildcard | FunctionArgExpr::QualifiedWildcard(_) => {}
            FunctionArgExpr::WildcardWithOptions(_) => {
                self.unsupported(format!("the function argument `{argument}`"))
            }
        }
    }

    fn value(&mut self, value: &Value) {
        if let Value::Placeholder(placeholder) = value {
            if placeholder == "?" || placeholder == ":caller" {
                self.placeholders_seen += 1;
            }
            if placeholder == ":caller" {
                self.caller_uses += 1;
            }
        }
    }

    fn expr(&mut self, expr: &Expr) {
        match expr {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) | Expr::TypedString(_) => {}
            Expr::Value(value) => self.value(&value.value),
            Expr::IsFalse(inner)
            | Expr::IsNotFalse(inner)
            | Expr::IsTrue(inner)
            | Expr::IsNotTrue(inner)
            | Expr::IsNull(inner)
            | Expr::IsNotNull(inner)
            | Expr::IsUnknown(inner)
            | Expr::IsNotUnknown(inner)
            | Expr::Nested(inner)
            | Expr::UnaryOp { expr: inner, .. }
            | Expr::Collate { expr: inner, .. } => self.expr(inner),
            Expr::IsDistinctFrom(left, right)
            | Expr::IsNotDistinctFrom(left, right)
            | Expr::BinaryOp { left, right, .. } => {
                self.expr(left);
                self.expr(right);
            }
            Expr::In { expr, target, .. } => {
                self.expr(expr);
                self.in_target(target);
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                self.expr(expr);
                self.expr(low);
                self.expr(high);
            }
            Expr::Like {
                expr,
                pattern,
                escape_char,
                ..
            }
            | Expr::ILike {
                expr,
                pattern,
                escape_char,
                ..
            }
            | Expr::SimilarTo {
                expr,
                pattern,
                escape_char,
                ..
            } => {
                self.expr(expr);
                self.expr(pattern);
                if let Some(escape) = escape_char {
                    self.expr(escape);
                }
            }
            Expr::RLike { expr, pattern, .. } => {
                self.expr(expr);
                self.expr(pattern);
            }
            Expr::Cast {
                expr, format: None, ..
            } => self.expr(expr),
            Expr::Function(function) => self.function(function),
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                if let Some(operand) = operand {
                    self.expr(operand);
                }
                for branch in conditions {
                    self.expr(&branch.condition);
                    self.expr(&branch.result);
                }
                if let Some(else_result) = else_result {
                    self.expr(else_result);
                }
            }
            Expr::Exists { subquery, .. } | Expr::Subquery(subquery) => self.nested_query(subquery),
            Expr::Tuple(items) => {
                for item in items {
                    self.expr(item);
                }
            }
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                self.expr(expr);
                for part in [substring_from, substring_for].into_iter().flatten() {
                    self.expr(part);
                }
            }
            Expr::Trim {
                expr,
                trim_what,
                trim_characters,
                ..
            } => {
                self.expr(expr);
                if let Some(what) = trim_what {
                    self.expr(what);
                }
                for character in trim_characters.iter().flatten() {
                    self.expr(character);
                }
            }
            Expr::Position { expr, r#in } => {
                self.expr(expr);
                self.expr(r#in);
            }
            other => self.unsupported(format!("the expression `{other}`")),
        }
    }

    fn in_target(&mut self, target: &InTarget) {
        match target {
            InTarget::List(items) => {
                for item in items {
                    self.expr(item);
                }
            }
            InTarget::Subquery(query) => self.nested_query(query),
            InTarget::Table { name, args } => {
                self.relations_seen += 1;
                match args {
                    // `x IN table` reads the whole table, like a FROM item
                    // without a WHERE clause.
                    None => {
                        if let Some(table) = self.table_name(name) {
                            self.references.push(TableReference {
                                table: table.value.clone(),
                                access: Access::InTable,
                                has_where: false,
                                bound_columns: Vec::new(),
                                qualifier: None,
                                hint: None,
                            });
                        }
                    }
                    Some(arguments) => {
                        for argument in arguments {
                            self.function_arg(argument);
                        }
                    }
                }
            }
            InTarget::Unnest(_) => self.unsupported("`IN UNNEST(...)`"),
        }
    }
}

/// The `:caller` conditions of a WHERE clause.
#[derive(Default)]
struct Filter {
    present: bool,
    bindings: Vec<ColumnName>,
    /// `:caller` appears in the clause outside the top-level bindings.
    caller_elsewhere: bool,
}

/// The `column = :caller` (or `:caller = column`) conditions among the
/// top-level conjuncts of `condition`: the terms of its AND chain, looking
/// through parentheses but never through OR, NOT, CASE or a function.
fn caller_bindings(condition: &Expr) -> Vec<ColumnName> {
    let mut conjuncts = Vec::new();
    collect_conjuncts(condition, &mut conjuncts);
    conjuncts.into_iter().filter_map(caller_binding).collect()
}

fn collect_conjuncts<'a>(condition: &'a Expr, conjuncts: &mut Vec<&'a Expr>) {
    match condition {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            collect_conjuncts(left, conjuncts);
            collect_conjuncts(right, conjuncts);
        }
        Expr::Nested(inner) => collect_conjuncts(inner, conjuncts),
        other => conjuncts.push(other),
    }
}

fn caller_binding(condition: &Expr) -> Option<ColumnName> {
    let Expr::BinaryOp {
        left,
        op: BinaryOperator::Eq,
        right,
    } = condition
    else {
        return None;
    };
    match (column_name(left), column_name(right)) {
        (Some(column), None) if is_caller(right) => Some(column),
        (None, Some(column)) if is_caller(left) => Some(column),
        _ => None,
    }
}

fn column_name(expr: &Expr) -> Option<ColumnName> {
    match expr {
        Expr::Nested(inner) => column_name(inner),
        Expr::Identifier(column) => Some(ColumnName {
            qualifier: None,
            column: column.value.clone(),
        }),
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [qualifier, column] => Some(ColumnName {
                qualifier: Some(qualifier.value.clone()),
                column: column.value.clone(),
            }),
            _ => None,
        },
        _ => None,
    }
}

fn is_caller(expr: &Expr) -> bool {
    match expr {
        Expr::Nested(inner) => is_caller(inner),
        Expr::Value(value) => matches!(&value.value, Value::Placeholder(name) if name == ":caller"),
        _ => false,
    }
}

fn plain_wildcard(options: &WildcardAdditionalOptions) -> bool {
    options.opt_ilike.is_none()
        && options.opt_exclude.is_none()
        && options.opt_except.is_none()
        && options.opt_replace.is_none()
        && options.opt_rename.is_none()
        && options.opt_alias.is_none()
}

fn single_identifier(name: &ObjectName) -> Option<&Ident> {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(ident)] => Some(ident),
        _ => None,
    }
}

/// SQLite compares identifiers without regard to ASCII case, quoted or not.
pub(super) fn same_name(left: &str, right: &str) -> bool {
    left.eq_ignore_ascii_case(right)
}

fn display_list(items: &[SelectItem]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
