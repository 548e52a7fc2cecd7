//! `scoped_query!`: custom SQL that is checked, at compile time, to read and
//! change only the caller's rows of a resource.

mod check;
mod expand;
mod model;
mod scope;
mod text;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};

use crate::diagnostics::Errors;

/// `scoped_query!(Resource, "SQL", arguments...)`.
pub(crate) struct QueryInput {
    pub(crate) resource: syn::Type,
    pub(crate) sql: syn::LitStr,
    pub(crate) arguments: Vec<syn::Expr>,
}

impl Parse for QueryInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let resource = input.parse()?;
        input.parse::<syn::Token![,]>()?;
        let sql = input.parse::<syn::LitStr>().map_err(|error| {
            syn::Error::new(
                error.span(),
                "expected the SQL as a string literal: `scoped_query!(Invoice, \"SELECT * FROM invoices WHERE owner_id = :caller\")`",
            )
        })?;

        let mut arguments = Vec::new();
        while !input.is_empty() {
            input.parse::<syn::Token![,]>()?;
            if input.is_empty() {
                break;
            }
            arguments.push(input.parse()?);
        }
        Ok(QueryInput {
            resource,
            sql,
            arguments,
        })
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<QueryInput>(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };

    // Every error is spanned on the SQL literal, the only place it can point to.
    let span = input.sql.span();
    let checked = match check::check(&input.sql.value()) {
        Ok(checked) => checked,
        Err(messages) => {
            let mut errors = Errors::default();
            for message in messages {
                errors.push(span, message);
            }
            return match errors.finish() {
                Ok(()) => TokenStream::new(),
                Err(error) => error.to_compile_error(),
            };
        }
    };
    if checked.arguments != input.arguments.len() {
        let message = format!(
            "the SQL has {} `?` placeholder(s), but {} argument(s) follow it; pass one argument per `?`, in order",
            checked.arguments,
            input.arguments.len()
        );
        return syn::Error::new(span, message).to_compile_error();
    }

    expand::expand(&input, &checked)
}
