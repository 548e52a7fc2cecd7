//! Code generation for `scoped_query!`.
//!
//! The expansion is a block of constant assertions, which compare the
//! statement's table and `:caller` columns with the resource's
//! `ResourceSql` constants, followed by the `ScopedSelect` or `ScopedWrite`
//! value. A failed assertion is a compile error spanned on the SQL literal.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::{
    AssignedColumn, CheckedQuery, Message, MessagePart, OwnerRequirement, ProtectedColumn, Segment,
    StatementKind,
};
use super::QueryInput;

pub(super) fn expand(input: &QueryInput, checked: &CheckedQuery) -> TokenStream {
    let span = input.sql.span();
    let resource = &input.resource;
    let support = quote_spanned!(span=> ::gauntlet::__private::query);

    let table_check = table_check(input, checked);
    let owner_checks = checked
        .requirements
        .iter()
        .map(|requirement| owner_check(input, checked, requirement));
    let column_checks = checked
        .assigned_columns
        .iter()
        .map(|assigned| column_check(input, checked, assigned));

    let segments = checked.segments.iter().map(|segment| match segment {
        Segment::Sql(text) => quote_spanned!(span=> #support::Segment::Sql(#text)),
        Segment::Columns(qualifier) => {
            quote_spanned!(span=> #support::Segment::Columns(#qualifier))
        }
        Segment::Param(number) => quote_spanned!(span=> #support::Segment::Param(#number)),
    });
    let arguments = input
        .arguments
        .iter()
        .map(|argument| quote_spanned!(argument.span()=> #support::argument(#argument)));
    let constructor = match checked.kind {
        StatementKind::Select => quote_spanned!(span=> select),
        StatementKind::Update | StatementKind::Delete => quote_spanned!(span=> write),
    };

    quote_spanned! {span=>
        {
            #table_check
            #(#owner_checks)*
            #(#column_checks)*
            const __GAUNTLET_SQL: &[#support::Segment] = &[#(#segments),*];
            #support::#constructor::<#resource>(
                __GAUNTLET_SQL,
                ::std::vec![#(#arguments),*],
            )
        }
    }
}

/// `<Resource as ResourceSql>::CONSTANT`.
fn constant(input: &QueryInput, name: &str) -> TokenStream {
    let resource = &input.resource;
    let name = syn::Ident::new(name, Span::call_site());
    quote_spanned!(input.sql.span()=> <#resource as ::gauntlet::__private::ResourceSql>::#name)
}

/// Panics in constant evaluation with `message`, filling in the resource's names.
fn failure(input: &QueryInput, message: &Message) -> TokenStream {
    let span = input.sql.span();
    let parts = message.0.iter().map(|part| match part {
        MessagePart::Text(text) => quote!(#text),
        MessagePart::ResourceName => constant(input, "NAME"),
        MessagePart::ResourceTable => {
            let table = constant(input, "TABLE");
            quote_spanned!(span=> ::gauntlet::__private::query::unquote(#table))
        }
        MessagePart::OwnerColumn => {
            let owner = constant(input, "OWNER_COLUMN");
            quote_spanned!(span=> ::gauntlet::__private::query::unquote(#owner))
        }
    });
    quote_spanned! {span=>
        ::core::panic!(
            "{}",
            ::gauntlet::__private::query::Message::new(&[#(#parts),*]).as_str()
        )
    }
}

/// Returns the test of whether the resource's table is the statement's table.
fn is_statement_table(input: &QueryInput, checked: &CheckedQuery) -> TokenStream {
    let table = constant(input, "TABLE");
    let name = &checked.table;
    quote_spanned!(input.sql.span()=> ::gauntlet::__private::query::same_identifier(#table, #name))
}

fn table_check(input: &QueryInput, checked: &CheckedQuery) -> TokenStream {
    let is_table = is_statement_table(input, checked);
    let failure = failure(input, &checked.table_message);
    quote_spanned! {input.sql.span()=>
        const _: () = {
            if !#is_table {
                #failure
            }
        };
    }
}

/// Asserts that the owner column is among the columns bound to `:caller`.
/// Like every check below, it applies only once the table matches, so a
/// wrong table is reported once.
fn owner_check(
    input: &QueryInput,
    checked: &CheckedQuery,
    requirement: &OwnerRequirement,
) -> TokenStream {
    let is_table = is_statement_table(input, checked);
    let owner = constant(input, "OWNER_COLUMN");
    let bound = &requirement.bound_columns;
    let failure = failure(input, &requirement.message);
    quote_spanned! {input.sql.span()=>
        const _: () = {
            if #is_table
                && !::gauntlet::__private::query::names_identifier(#owner, &[#(#bound),*])
            {
                #failure
            }
        };
    }
}

fn column_check(
    input: &QueryInput,
    checked: &CheckedQuery,
    assigned: &AssignedColumn,
) -> TokenStream {
    let is_table = is_statement_table(input, checked);
    let protected = match assigned.protected {
        ProtectedColumn::Owner => constant(input, "OWNER_COLUMN"),
        ProtectedColumn::Id => constant(input, "ID_COLUMN"),
    };
    let column = &assigned.column;
    let failure = failure(input, &assigned.message);
    quote_spanned! {input.sql.span()=>
        const _: () = {
            if #is_table && ::gauntlet::__private::query::same_identifier(#protected, #column) {
                #failure
            }
        };
    }
}
