//! The checks of `scoped_query!` on SQL strings. A statement is accepted
//! when `check` succeeds and none of the assertions left to the compiler
//! fails for the resource. `CheckedQuery::violations` evaluates those
//! assertions with the rules of `gauntlet::__private::query`.

use super::check::check;
use super::model::{CheckedQuery, ResourceNames, Segment, StatementKind};

const INVOICE: ResourceNames<'static> = ResourceNames {
    name: "Invoice",
    table: "invoices",
    owner: "owner_id",
    id: "id",
};

/// A resource owned by itself, like the invoices example's `User`.
const USER: ResourceNames<'static> = ResourceNames {
    name: "User",
    table: "users",
    owner: "id",
    id: "id",
};

fn accepted_for(resource: ResourceNames<'_>, sql: &str) -> CheckedQuery {
    let checked = match check(sql) {
        Ok(checked) => checked,
        Err(errors) => {
            panic!("expected {sql:?} to be accepted, but the macro rejected it: {errors:#?}")
        }
    };
    let violations = checked.violations(resource);
    assert!(
        violations.is_empty(),
        "expected {sql:?} to be accepted for {}, but the compiler would reject it: {violations:#?}",
        resource.name
    );
    checked
}

fn accepted(sql: &str) -> CheckedQuery {
    accepted_for(INVOICE, sql)
}

/// Returns the errors for `sql`, from the macro itself or from the
/// assertions it leaves to the compiler.
fn rejected_for(resource: ResourceNames<'_>, sql: &str) -> Vec<String> {
    match check(sql) {
        Err(errors) => errors,
        Ok(checked) => {
            let violations = checked.violations(resource);
            assert!(
                !violations.is_empty(),
                "expected {sql:?} to be rejected for {}, but it was accepted",
                resource.name
            );
            violations
        }
    }
}

fn rejected(sql: &str) -> Vec<String> {
    rejected_for(INVOICE, sql)
}

/// Asserts one error, containing `expected`.
fn assert_rejected(sql: &str, expected: &str) {
    let errors = rejected(sql);
    assert_eq!(
        errors.len(),
        1,
        "expected one error for {sql:?}: {errors:#?}"
    );
    assert!(
        errors[0].contains(expected),
        "the error for {sql:?} does not contain {expected:?}: {}",
        errors[0]
    );
}

/// Renders the SQL sent to SQLite, with `<columns of q>` for the resource's columns.
fn rendered(checked: &CheckedQuery) -> String {
    checked
        .segments
        .iter()
        .map(|segment| match segment {
            Segment::Sql(text) => text.clone(),
            Segment::Columns(qualifier) => format!("<columns of {qualifier}>"),
            Segment::Param(number) => format!("?{number}"),
        })
        .collect()
}

// Accepted statements.

#[test]
fn select_with_owner_condition() {
    let checked =
        accepted("SELECT * FROM invoices WHERE owner_id = :caller AND is_paid = ? ORDER BY id");
    assert_eq!(checked.kind, StatementKind::Select);
    assert_eq!(checked.table, "invoices");
    assert_eq!(checked.arguments, 1);
    assert_eq!(
        checked.segments,
        vec![
            Segment::Sql("SELECT ".to_string()),
            Segment::Columns("invoices".to_string()),
            Segment::Sql(" FROM invoices WHERE owner_id = ".to_string()),
            Segment::Param(1),
            Segment::Sql(" AND is_paid = ".to_string()),
            Segment::Param(2),
            Segment::Sql(" ORDER BY id".to_string()),
        ]
    );
}

#[test]
fn caller_on_the_left() {
    accepted("SELECT * FROM invoices WHERE :caller = owner_id");
}

#[test]
fn double_equals() {
    accepted("SELECT * FROM invoices WHERE owner_id == :caller");
}

#[test]
fn owner_condition_inside_parenthesized_and() {
    accepted("SELECT * FROM invoices WHERE (is_paid = ? AND (owner_id = :caller)) AND note <> ''");
}

#[test]
fn owner_condition_after_other_conditions() {
    let checked = accepted(
        "SELECT * FROM invoices WHERE note LIKE ? AND total_cents > ? AND owner_id = :caller",
    );
    assert_eq!(checked.arguments, 2);
    assert!(
        rendered(&checked).ends_with("WHERE note LIKE ?2 AND total_cents > ?3 AND owner_id = ?1"),
        "{}",
        rendered(&checked)
    );
}

#[test]
fn qualified_owner_column() {
    accepted("SELECT * FROM invoices WHERE invoices.owner_id = :caller");
}

#[test]
fn aliased_table() {
    let checked = accepted("SELECT i.* FROM invoices AS i WHERE i.owner_id = :caller");
    assert_eq!(
        rendered(&checked),
        "SELECT <columns of i> FROM invoices AS i WHERE i.owner_id = ?1"
    );
}

#[test]
fn unqualified_star_uses_the_alias() {
    let checked = accepted("SELECT * FROM invoices i WHERE owner_id = :caller");
    assert_eq!(
        rendered(&checked),
        "SELECT <columns of i> FROM invoices i WHERE owner_id = ?1"
    );
}

#[test]
fn quoted_and_differently_cased_names() {
    let checked =
        accepted("SELECT \"I\".* FROM \"Invoices\" AS \"I\" WHERE \"i\".\"OWNER_ID\" = :caller");
    assert_eq!(checked.table, "Invoices");
    assert!(rendered(&checked).starts_with("SELECT <columns of \"I\"> FROM"));
}

#[test]
fn star_without_spaces_is_padded() {
    let checked = accepted("SELECT*FROM invoices WHERE owner_id=:caller");
    assert_eq!(
        rendered(&checked),
        "SELECT <columns of invoices> FROM invoices WHERE owner_id=?1"
    );
}

#[test]
fn other_tables_are_rejected() {
    for (sql, other) in [
        (
            "SELECT i.* FROM invoices i JOIN users u ON u.id = i.owner_id \
             WHERE i.owner_id = :caller AND u.display_name = ?",
            "users",
        ),
        (
            "SELECT * FROM invoices JOIN users ON users.id = invoices.owner_id WHERE owner_id = :caller",
            "users",
        ),
        (
            "SELECT * FROM invoices WHERE owner_id = :caller \
             AND customer_name IN (SELECT name FROM customers WHERE active)",
            "customers",
        ),
        (
            "UPDATE invoices SET customer_name = (SELECT group_concat(password_hash) FROM users) \
             WHERE owner_id = :caller AND id = ?",
            "users",
        ),
    ] {
        let errors = rejected(sql);
        assert!(
            errors
                .iter()
                .any(|error| error.contains(&format!("also names `{other}`"))),
            "{sql}: {errors:#?}"
        );
    }
}

#[test]
fn scoped_subquery() {
    let checked = accepted(
        "SELECT * FROM invoices WHERE owner_id = :caller \
         AND id IN (SELECT id FROM invoices WHERE owner_id = :caller AND is_paid)",
    );
    assert_eq!(checked.requirements.len(), 2);
}

#[test]
fn scoped_exists_and_scalar_subqueries() {
    accepted(
        "SELECT * FROM invoices AS i WHERE i.owner_id = :caller \
         AND EXISTS (SELECT 1 FROM invoices AS j WHERE j.owner_id = :caller AND j.customer_name = i.customer_name AND j.id <> i.id) \
         AND total_cents > (SELECT avg(total_cents) FROM invoices WHERE owner_id = :caller)",
    );
}

#[test]
fn scoped_common_table_expression() {
    accepted(
        "WITH paid AS (SELECT id FROM invoices WHERE owner_id = :caller AND is_paid) \
         SELECT * FROM invoices WHERE owner_id = :caller AND id NOT IN (SELECT id FROM paid)",
    );
}

#[test]
fn scoped_union_arms() {
    let checked = accepted(
        "SELECT * FROM invoices WHERE owner_id = :caller AND is_paid \
         UNION SELECT * FROM invoices WHERE owner_id = :caller AND total_cents > ? \
         ORDER BY id LIMIT ?",
    );
    assert_eq!(checked.arguments, 2);
    let columns = checked
        .segments
        .iter()
        .filter(|segment| matches!(segment, Segment::Columns(_)))
        .count();
    assert_eq!(columns, 2, "each arm's `*` is replaced");
}

#[test]
fn functions_case_and_windows_outside_the_owner_condition() {
    accepted(
        "SELECT * FROM invoices WHERE owner_id = :caller \
         AND CASE WHEN is_paid THEN 0 ELSE 1 END = ? \
         AND lower(customer_name) LIKE ? \
         AND id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY customer_name ORDER BY id) AS n \
                    FROM invoices WHERE owner_id = :caller) WHERE n = 1)",
    );
}

#[test]
fn json_table_function_over_a_column() {
    accepted(
        "SELECT * FROM invoices WHERE owner_id = :caller \
         AND EXISTS (SELECT 1 FROM json_each(invoices.line_items) WHERE json_each.value ->> '$.quantity' > ?)",
    );
}

#[test]
fn caller_used_twice_binds_one_parameter() {
    let checked = accepted(
        "SELECT * FROM invoices WHERE owner_id = :caller AND id IN (SELECT id FROM invoices WHERE owner_id = :caller)",
    );
    assert_eq!(checked.arguments, 0);
    assert_eq!(rendered(&checked).matches("?1").count(), 2);
}

#[test]
fn placeholders_in_strings_and_comments_are_text() {
    let checked = accepted(
        "SELECT * FROM invoices -- is :caller ? here\n\
         WHERE owner_id = :caller AND note <> '?:caller' /* ? */",
    );
    assert_eq!(checked.arguments, 0);
    assert_eq!(
        rendered(&checked),
        "SELECT <columns of invoices> FROM invoices -- is :caller ? here\n\
         WHERE owner_id = ?1 AND note <> '?:caller' /* ? */"
    );
}

#[test]
fn trailing_semicolon_is_dropped() {
    let checked = accepted("DELETE FROM invoices WHERE owner_id = :caller;");
    assert_eq!(
        rendered(&checked),
        "DELETE FROM invoices WHERE owner_id = ?1"
    );
}

#[test]
fn update_with_owner_condition() {
    let checked = accepted("UPDATE invoices SET note = ? WHERE owner_id = :caller AND id = ?");
    assert_eq!(checked.kind, StatementKind::Update);
    assert_eq!(checked.arguments, 2);
    assert_eq!(
        rendered(&checked),
        "UPDATE invoices SET note = ?2 WHERE owner_id = ?1 AND id = ?3"
    );
    assert_eq!(checked.requirements.len(), 1);
}

#[test]
fn update_from_another_table() {
    let errors = rejected(
        "UPDATE invoices SET note = c.note FROM customers AS c \
         WHERE invoices.owner_id = :caller AND c.name = invoices.customer_name",
    );
    assert!(
        errors
            .iter()
            .any(|error| error.contains("also names `customers`")),
        "{errors:#?}"
    );
}

#[test]
fn delete_with_owner_condition() {
    let checked = accepted("DELETE FROM invoices WHERE owner_id = :caller AND is_paid = 1");
    assert_eq!(checked.kind, StatementKind::Delete);
}

#[test]
fn resource_owned_by_itself() {
    accepted_for(USER, "SELECT * FROM users WHERE id = :caller");
}

// Rejected statements: the owner condition.

#[test]
fn owner_condition_under_or() {
    assert_rejected(
        "SELECT * FROM invoices WHERE owner_id = :caller OR is_paid",
        "the WHERE clause that reads `invoices` does not bind the owner column to the caller; \
         add `AND owner_id = :caller` as a top-level condition \
         (`:caller` appears in this WHERE clause only under OR, NOT, CASE or another expression, where it does not restrict every row)",
    );
}

#[test]
fn owner_condition_under_parenthesized_or() {
    assert_rejected(
        "SELECT * FROM invoices WHERE is_paid AND (owner_id = :caller OR note = ?)",
        "only under OR",
    );
}

#[test]
fn owner_condition_under_not() {
    assert_rejected(
        "SELECT * FROM invoices WHERE NOT (owner_id <> :caller)",
        "only under OR, NOT, CASE",
    );
}

#[test]
fn owner_condition_under_case() {
    assert_rejected(
        "SELECT * FROM invoices WHERE CASE WHEN owner_id = :caller THEN 1 ELSE is_paid END",
        "only under OR, NOT, CASE",
    );
}

#[test]
fn owner_compared_with_other_operator() {
    assert_rejected(
        "SELECT * FROM invoices WHERE owner_id >= :caller",
        "does not bind the owner column",
    );
}

#[test]
fn select_without_where() {
    assert_rejected(
        "SELECT * FROM invoices ORDER BY id",
        "the SELECT that reads `invoices` has no WHERE clause, so it reads the rows of every owner; add `WHERE owner_id = :caller`",
    );
}

#[test]
fn update_without_where() {
    assert_rejected(
        "UPDATE invoices SET note = ?",
        "this UPDATE of `invoices` has no WHERE clause, so it changes the rows of every owner; add `WHERE owner_id = :caller`",
    );
}

#[test]
fn delete_without_where() {
    assert_rejected(
        "DELETE FROM invoices",
        "this DELETE from `invoices` has no WHERE clause, so it deletes the rows of every owner; add `WHERE owner_id = :caller`",
    );
}

#[test]
fn update_without_owner_condition() {
    assert_rejected(
        "UPDATE invoices SET note = ? WHERE id = ?",
        "the WHERE clause of this UPDATE of `invoices` does not bind the owner column to the caller; add `AND owner_id = :caller` as a top-level condition",
    );
}

#[test]
fn delete_with_owner_condition_under_or() {
    assert_rejected(
        "DELETE FROM invoices WHERE id = ? OR owner_id = :caller",
        "the WHERE clause of this DELETE from `invoices` does not bind the owner column",
    );
}

#[test]
fn wrong_column_bound_to_caller() {
    assert_rejected(
        "SELECT * FROM invoices WHERE customer_id = :caller",
        "add `AND owner_id = :caller` as a top-level condition (`customer_id` bound to `:caller` here is not the owner column of `Invoice`)",
    );
}

#[test]
fn unscoped_subquery() {
    assert_rejected(
        "SELECT * FROM invoices WHERE owner_id = :caller AND id IN (SELECT id FROM invoices)",
        "the SELECT that reads `invoices` has no WHERE clause",
    );
}

#[test]
fn subquery_with_where_but_no_owner_condition() {
    assert_rejected(
        "SELECT * FROM invoices WHERE owner_id = :caller \
         AND total_cents > (SELECT max(total_cents) FROM invoices WHERE is_paid)",
        "the WHERE clause that reads `invoices` does not bind the owner column",
    );
}

#[test]
fn subquery_bound_through_the_outer_alias() {
    // `i.owner_id` is the outer row's column, so it does not restrict `j`.
    assert_rejected(
        "SELECT * FROM invoices AS i WHERE i.owner_id = :caller \
         AND EXISTS (SELECT 1 FROM invoices AS j WHERE i.owner_id = :caller AND j.id > i.id)",
        "add `AND owner_id = :caller`",
    );
}

#[test]
fn table_name_does_not_qualify_an_aliased_table() {
    // SQLite rejects `invoices.owner_id` once the table is aliased `i`, and
    // in a subquery it would name an outer `invoices`.
    assert_rejected(
        "SELECT * FROM invoices AS i WHERE invoices.owner_id = :caller",
        "does not bind the owner column",
    );
}

#[test]
fn join_without_owner_condition_for_the_resource() {
    assert_rejected(
        "SELECT a.* FROM invoices a JOIN invoices b ON b.id = a.id WHERE b.owner_id = :caller",
        "the WHERE clause that reads `invoices` does not bind the owner column to the caller; add `AND a.owner_id = :caller`",
    );
}

#[test]
fn owner_condition_only_in_join_on() {
    assert_rejected(
        "SELECT i.* FROM invoices i LEFT JOIN invoices u ON i.owner_id = :caller AND u.id = i.id WHERE u.owner_id = :caller",
        "(a condition in `JOIN ... ON` does not count",
    );
}

#[test]
fn self_join_needs_both_conditions() {
    let errors = rejected(
        "SELECT a.* FROM invoices a JOIN invoices b ON b.customer_name = a.customer_name WHERE a.owner_id = :caller",
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("add `AND b.owner_id = :caller`"),
        "{}",
        errors[0]
    );
}

#[test]
fn unqualified_condition_with_using_join() {
    let errors = rejected(
        "SELECT a.* FROM invoices a JOIN invoices b USING (customer_name) WHERE owner_id = :caller",
    );
    assert_eq!(
        errors.len(),
        2,
        "one error for each copy of the table: {errors:#?}"
    );
    for error in &errors {
        assert!(error.contains("qualify the owner column"), "{error}");
    }
}

#[test]
fn unscoped_common_table_expression() {
    assert_rejected(
        "WITH everything AS (SELECT id FROM invoices) \
         SELECT * FROM invoices WHERE owner_id = :caller AND id IN (SELECT id FROM everything)",
        "the SELECT that reads `invoices` has no WHERE clause",
    );
}

#[test]
fn common_table_expression_shadowing_the_table() {
    assert_rejected(
        "WITH invoices AS (SELECT * FROM archived_invoices) SELECT * FROM invoices WHERE owner_id = :caller",
        "the common table expression `invoices` has the name of the table `invoices`",
    );
}

#[test]
fn unscoped_union_arm() {
    assert_rejected(
        "SELECT * FROM invoices WHERE owner_id = :caller UNION ALL SELECT * FROM invoices WHERE is_paid",
        "the WHERE clause that reads `invoices` does not bind the owner column",
    );
}

#[test]
fn unscoped_except_arm() {
    assert_rejected(
        "SELECT * FROM invoices WHERE owner_id = :caller EXCEPT SELECT * FROM invoices",
        "has no WHERE clause",
    );
}

#[test]
fn in_table_reads_every_row() {
    assert_rejected(
        "SELECT * FROM invoices WHERE owner_id = :caller AND id IN invoices",
        "`IN invoices` reads every row of `invoices`; write `IN (SELECT ... FROM invoices WHERE owner_id = :caller)`",
    );
}

#[test]
fn unscoped_read_in_update() {
    assert_rejected(
        "UPDATE invoices SET note = (SELECT note FROM invoices WHERE id = ?) WHERE owner_id = :caller",
        "the WHERE clause that reads `invoices` does not bind the owner column",
    );
}

#[test]
fn unscoped_read_in_any_clause() {
    let unscoped = "(SELECT max(id) FROM invoices)";
    for sql in [
        "SELECT * FROM invoices WHERE owner_id = :caller AND id IN (SELECT id FROM (SELECT id FROM invoices))".to_string(),
        format!("SELECT a.* FROM invoices a JOIN invoices b ON b.id = {unscoped} WHERE a.owner_id = :caller AND b.owner_id = :caller"),
        format!("SELECT * FROM invoices WHERE owner_id = :caller GROUP BY customer_name HAVING max(id) < {unscoped}"),
        format!("SELECT * FROM invoices WHERE owner_id = :caller GROUP BY {unscoped}"),
        format!("SELECT * FROM invoices WHERE owner_id = :caller ORDER BY {unscoped}"),
        format!("SELECT * FROM invoices WHERE owner_id = :caller LIMIT {unscoped}"),
        format!("SELECT * FROM invoices WHERE owner_id = :caller AND CASE WHEN is_paid THEN {unscoped} END"),
        format!("SELECT * FROM invoices WHERE owner_id = :caller AND coalesce(note, {unscoped}) <> ''"),
        format!("SELECT * FROM invoices WHERE owner_id = :caller AND id IN (SELECT row_number() OVER (PARTITION BY {unscoped}) FROM invoices WHERE owner_id = :caller)"),
        format!("WITH RECURSIVE ids(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM ids WHERE n < {unscoped}) SELECT * FROM invoices WHERE owner_id = :caller"),
        format!("UPDATE invoices SET note = note WHERE owner_id = :caller AND id < {unscoped}"),
        format!("DELETE FROM invoices WHERE owner_id = :caller ORDER BY {unscoped}"),
    ] {
        let errors = rejected(&sql);
        assert!(
            errors.iter().any(|error| error.contains("has no WHERE clause")),
            "{sql}: {errors:#?}"
        );
    }
}

#[test]
fn every_violation_is_reported() {
    let errors = rejected(
        "SELECT * FROM invoices WHERE is_paid AND id IN (SELECT id FROM invoices) AND id IN invoices",
    );
    assert_eq!(errors.len(), 3, "{errors:#?}");
}

// Rejected statements: the table and the columns.

#[test]
fn statement_on_another_table() {
    assert_rejected(
        "SELECT * FROM users WHERE id = :caller",
        "this query selects from `users`, but `Invoice` rows are stored in table `invoices`",
    );
}

#[test]
fn union_of_different_tables() {
    assert_rejected(
        "SELECT * FROM invoices WHERE owner_id = :caller UNION SELECT * FROM archived_invoices WHERE owner_id = :caller",
        "every SELECT of a compound query must return rows of the same table",
    );
}

#[test]
fn update_of_the_owner_column() {
    assert_rejected(
        "UPDATE invoices SET owner_id = ? WHERE owner_id = :caller",
        "this UPDATE sets `owner_id`, the owner column of `Invoice`; a scoped query cannot give rows to another owner",
    );
}

#[test]
fn update_of_the_id_column() {
    assert_rejected(
        "UPDATE invoices SET (note, id) = (?, ?) WHERE owner_id = :caller",
        "this UPDATE sets `id`, the id column of `Invoice`",
    );
}

#[test]
fn update_or_replace() {
    assert_rejected(
        "UPDATE OR REPLACE invoices SET note = ? WHERE owner_id = :caller",
        "`UPDATE OR REPLACE` is not supported",
    );
}

#[test]
fn returning() {
    assert_rejected(
        "DELETE FROM invoices WHERE owner_id = :caller RETURNING id",
        "`RETURNING` is not supported",
    );
}

#[test]
fn select_list_other_than_star() {
    assert_rejected(
        "SELECT id, note FROM invoices WHERE owner_id = :caller",
        "it must select `*` (or `alias.*`)",
    );
}

#[test]
fn star_of_a_subquery() {
    assert_rejected(
        "SELECT * FROM (SELECT * FROM invoices WHERE owner_id = :caller)",
        "must stand for a table, not a subquery",
    );
}

#[test]
fn star_of_an_unknown_alias() {
    assert_rejected(
        "SELECT x.* FROM invoices WHERE owner_id = :caller",
        "`x.*` names no table or alias of this FROM clause",
    );
}

#[test]
fn schema_qualified_table() {
    assert_rejected(
        "SELECT * FROM main.invoices WHERE owner_id = :caller",
        "`main.invoices` is not supported: name tables without a schema",
    );
}

// Rejected statements: statement kinds, placeholders and syntax.

#[test]
fn insert() {
    assert_rejected(
        "INSERT INTO invoices (owner_id, note) VALUES (:caller, ?)",
        "INSERT is not supported: create rows with `owned_by(&caller).create(...)`",
    );
}

#[test]
fn replace() {
    assert_rejected(
        "REPLACE INTO invoices (id, owner_id) VALUES (?, :caller)",
        "INSERT is not supported",
    );
}

#[test]
fn multiple_statements() {
    assert_rejected(
        "SELECT * FROM invoices WHERE owner_id = :caller; DELETE FROM invoices WHERE owner_id = :caller",
        "a scoped query is one statement, but this SQL contains 2",
    );
}

#[test]
fn schema_changes() {
    for sql in [
        "CREATE TABLE notes (id INTEGER PRIMARY KEY)",
        "DROP TABLE invoices",
        "ALTER TABLE invoices ADD COLUMN x TEXT",
    ] {
        let errors = rejected(sql);
        assert_eq!(errors.len(), 1, "{sql}: {errors:#?}");
        assert!(
            errors[0].contains("schema changes are not supported"),
            "{sql}: {}",
            errors[0]
        );
    }
}

#[test]
fn other_statements() {
    for sql in [
        "PRAGMA foreign_keys = 0",
        "ATTACH DATABASE 'other.db' AS other",
        "VACUUM",
    ] {
        let errors = rejected(sql);
        assert!(
            errors
                .iter()
                .any(|error| error.contains("must be a SELECT, UPDATE or DELETE")),
            "{sql}: {errors:#?}"
        );
    }
}

#[test]
fn with_before_delete() {
    assert_rejected(
        "WITH old AS (SELECT id FROM invoices WHERE owner_id = :caller) DELETE FROM invoices WHERE owner_id = :caller AND id IN old",
        "cannot check `WITH` before UPDATE or DELETE",
    );
}

#[test]
fn unparsable_sql() {
    assert_rejected("SELECT * FROM invoices WHERE", "the SQL does not parse");
    assert_rejected("", "the SQL contains no statement");
}

#[test]
fn other_placeholder_forms() {
    for (sql, expected) in [
        (
            "SELECT * FROM invoices WHERE owner_id = :caller AND id = ?1",
            "the placeholder `?1` is not supported",
        ),
        (
            "SELECT * FROM invoices WHERE owner_id = :caller AND id = $1",
            "the placeholder `$1` is not supported",
        ),
        (
            "SELECT * FROM invoices WHERE owner_id = :caller AND id = @id",
            "`@` is not supported",
        ),
        (
            "SELECT * FROM invoices WHERE owner_id = :owner",
            "`:` may appear only in the placeholder `:caller`",
        ),
    ] {
        let errors = rejected(sql);
        assert!(
            errors.iter().any(|error| error.contains(expected)),
            "{sql}: expected {expected:?} in {errors:#?}"
        );
    }
}

#[test]
fn unsupported_expression() {
    assert_rejected(
        "SELECT * FROM invoices WHERE owner_id = :caller AND EXTRACT(YEAR FROM due_date) = 2026",
        "`scoped_query!` cannot check the expression `EXTRACT(YEAR FROM due_date)`",
    );
}
