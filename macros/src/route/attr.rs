//! Parsing of a route attribute's arguments:
//! `"/path" [, public] [, rate_limit = "policy"] [, role = Role::Variant]
//! [, unscoped(reason = "...")]`.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token};

use crate::diagnostics::{suggestion, Errors};

pub(crate) const OPTIONS: [&str; 4] = ["public", "rate_limit", "role", "unscoped"];

/// The arguments as written, each with the span of its keyword.
pub(crate) struct RouteArgs {
    pub(crate) path: LitStr,
    pub(crate) public: Option<Span>,
    pub(crate) rate_limit: Option<LitStr>,
    pub(crate) role: Option<syn::Path>,
    pub(crate) unscoped: Option<(Span, Option<LitStr>)>,
}

enum RouteOption {
    Public(Ident),
    RateLimit(Ident, LitStr),
    Role(Ident, syn::Path),
    Unscoped(Ident, Option<LitStr>),
}

impl Parse for RouteOption {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key: Ident = input.parse()?;
        match key.to_string().as_str() {
            "public" => Ok(RouteOption::Public(key)),
            "rate_limit" => {
                input.parse::<Token![=]>()?;
                Ok(RouteOption::RateLimit(key, input.parse()?))
            }
            "role" => {
                input.parse::<Token![=]>()?;
                let role: syn::Path = input.parse().map_err(|error| {
                    syn::Error::new(
                        error.span(),
                        "`role` names a variant of the application's role enum, such as `role = Role::Admin`",
                    )
                })?;
                Ok(RouteOption::Role(key, role))
            }
            "unscoped" => {
                if !input.peek(syn::token::Paren) {
                    return Err(syn::Error::new(
                        key.span(),
                        "`unscoped` needs a reason for reviewers: `unscoped(reason = \"...\")`",
                    ));
                }
                let content;
                syn::parenthesized!(content in input);
                if content.is_empty() {
                    return Ok(RouteOption::Unscoped(key, None));
                }
                let reason_key: Ident = content.parse()?;
                if reason_key != "reason" {
                    return Err(syn::Error::new(
                        reason_key.span(),
                        format!("unknown `unscoped` option `{reason_key}`; the only option is `reason = \"...\"`"),
                    ));
                }
                content.parse::<Token![=]>()?;
                let reason: LitStr = content.parse()?;
                Ok(RouteOption::Unscoped(key, Some(reason)))
            }
            other => Err(syn::Error::new(
                key.span(),
                format!(
                    "unknown route option `{other}`{}; valid options are `public`, `rate_limit = \"policy\"`, `role = Role::Variant` and `unscoped(reason = \"...\")`",
                    suggestion(other, OPTIONS)
                ),
            )),
        }
    }
}

impl Parse for RouteArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "a route needs its path template first, such as `#[get(\"/api/invoices/{id}\")]`",
            ));
        }
        let path: LitStr = input.parse().map_err(|error| {
            syn::Error::new(
                error.span(),
                "a route's first argument is its path template as a string, such as `\"/api/invoices/{id}\"`",
            )
        })?;

        let mut args = RouteArgs {
            path,
            public: None,
            rate_limit: None,
            role: None,
            unscoped: None,
        };
        if input.is_empty() {
            return Ok(args);
        }
        input.parse::<Token![,]>()?;

        let mut errors = Errors::default();
        let options = Punctuated::<RouteOption, Token![,]>::parse_terminated(input)?;
        for option in options {
            let repeated = |key: &Ident| format!("`{key}` is given more than once");
            match option {
                RouteOption::Public(key) => {
                    if args.public.is_some() {
                        errors.push(key.span(), repeated(&key));
                    }
                    args.public = Some(key.span());
                }
                RouteOption::RateLimit(key, policy) => {
                    if args.rate_limit.is_some() {
                        errors.push(key.span(), repeated(&key));
                    }
                    args.rate_limit = Some(policy);
                }
                RouteOption::Role(key, role) => {
                    if args.role.is_some() {
                        errors.push(key.span(), repeated(&key));
                    }
                    args.role = Some(role);
                }
                RouteOption::Unscoped(key, reason) => {
                    if args.unscoped.is_some() {
                        errors.push(key.span(), repeated(&key));
                    }
                    args.unscoped = Some((key.span(), reason));
                }
            }
        }
        errors.finish()?;
        Ok(args)
    }
}
