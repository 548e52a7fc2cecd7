//! Procedural macros for Gauntlet. Depend on the `gauntlet` crate, which
//! re-exports them and contains the runtime that their expansions call.
//!
//! Each macro parses its input into raw attribute types, checks them into a
//! validated model (reporting every mistake at once, each on its own token),
//! and only then generates code from the model.

use proc_macro::TokenStream;

mod diagnostics;
mod openapi;
mod query;
mod resource;
mod role;
mod route;
mod schema;

#[cfg(test)]
mod snapshots;

/// Derives the scoped operations, response view and request schemas of a
/// resource. See the `gauntlet` crate documentation.
#[proc_macro_derive(Resource, attributes(resource, garde, serde))]
pub fn derive_resource(input: TokenStream) -> TokenStream {
    resource::derive(input.into()).into()
}

/// Derives a request body schema: unknown fields are rejected and every
/// field must carry a `#[garde(...)]` rule.
#[proc_macro_derive(Schema, attributes(garde, serde))]
pub fn derive_schema(input: TokenStream) -> TokenStream {
    schema::derive(input.into()).into()
}

/// Derives `gauntlet::Role` for an enum of unit variants, naming each role
/// by its variant in snake case.
#[proc_macro_derive(Role)]
pub fn derive_role(input: TokenStream) -> TokenStream {
    role::derive(input.into()).into()
}

/// Builds a SQL statement over a resource's table that is checked at
/// compile time to touch only the caller's rows. See `gauntlet::scoped_query`.
#[proc_macro]
pub fn scoped_query(input: TokenStream) -> TokenStream {
    query::expand(input.into()).into()
}

/// Declares a `GET` route. See the `gauntlet` crate documentation.
#[proc_macro_attribute]
pub fn get(args: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(route::Method::Get, args.into(), item.into()).into()
}

/// Declares a `POST` route. See the `gauntlet` crate documentation.
#[proc_macro_attribute]
pub fn post(args: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(route::Method::Post, args.into(), item.into()).into()
}

/// Declares a `PUT` route. See the `gauntlet` crate documentation.
#[proc_macro_attribute]
pub fn put(args: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(route::Method::Put, args.into(), item.into()).into()
}

/// Declares a `PATCH` route. See the `gauntlet` crate documentation.
#[proc_macro_attribute]
pub fn patch(args: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(route::Method::Patch, args.into(), item.into()).into()
}

/// Declares a `DELETE` route. See the `gauntlet` crate documentation.
#[proc_macro_attribute]
pub fn delete(args: TokenStream, item: TokenStream) -> TokenStream {
    route::expand(route::Method::Delete, args.into(), item.into()).into()
}
