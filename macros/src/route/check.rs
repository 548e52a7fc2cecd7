//! The checks that turn a route attribute and its handler into a
//! [`RouteModel`]. Every violation is collected, each on its own token.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, LitStr, PathArguments, ReturnType, Type};

use super::attr::RouteArgs;
use super::Method;
use crate::diagnostics::Errors;

/// A route whose attribute and handler signature passed every check.
pub(crate) struct RouteModel {
    pub(crate) method: Method,
    pub(crate) path: LitStr,
    pub(crate) unscoped_span: Option<Span>,
    pub(crate) captures: usize,
    pub(crate) public: bool,
    pub(crate) rate_limit: String,
    pub(crate) role: Option<syn::Path>,
    pub(crate) unscoped_reason: Option<String>,
    pub(crate) function: ItemFn,
    pub(crate) arg_types: Vec<Type>,
    pub(crate) return_type: Type,
}

/// Checks a path template: a leading slash, non-empty segments, and
/// captures that fill a whole segment, are identifiers and are unique.
/// Returns the number of captures.
fn check_template(path: &LitStr, errors: &mut Errors) -> usize {
    let template = path.value();
    let span = path.span();

    if !template.starts_with('/') {
        errors.push(
            span,
            format!("a route path starts with `/`; write \"/{template}\""),
        );
        return 0;
    }
    if template == "/" {
        return 0;
    }
    if template.ends_with('/') {
        errors.push(
            span,
            "a route path does not end with `/`; remove the trailing slash",
        );
    }

    let mut names: Vec<String> = Vec::new();
    for segment in template[1..].split('/') {
        if segment.is_empty() {
            if !template.ends_with('/') {
                errors.push(span, "a route path has no empty segments (`//`)");
            }
            continue;
        }
        if let Some(inner) = segment
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
        {
            let valid = inner
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                errors.push(
                    span,
                    format!("capture `{{{inner}}}` must be an identifier such as `{{id}}`; wildcards are not supported"),
                );
            } else if names.iter().any(|name| name == inner) {
                errors.push(span, format!("capture `{{{inner}}}` appears twice"));
            } else {
                names.push(inner.to_string());
            }
        } else if segment.contains(['{', '}']) {
            errors.push(
                span,
                format!("segment `{segment}` mixes text and a capture; a capture such as `{{id}}` fills a whole segment"),
            );
        } else if !segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'))
        {
            errors.push(
                span,
                format!(
                    "segment `{segment}` may contain only letters, digits, `-`, `_`, `.` and `~`"
                ),
            );
        }
    }
    names.len()
}

/// Returns the last segment of `ty` when it is a path type.
fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    }
}

fn first_type_argument(segment: &syn::PathSegment) -> Option<&Type> {
    match &segment.arguments {
        PathArguments::AngleBracketed(args) => args.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::Type(ty) => Some(ty),
            _ => None,
        }),
        _ => None,
    }
}

/// Types that are request bodies in plain axum; here a body is `Valid<S>`.
const RAW_BODY_TYPES: [&str; 6] = ["Json", "String", "Bytes", "Value", "Form", "Body"];

/// Finds a `Json<...>` anywhere in a return type, such as inside `ApiResult<Json<T>>`.
fn find_json(ty: &Type) -> Option<Span> {
    let segment = last_segment(ty)?;
    if segment.ident == "Json" {
        return Some(segment.ident.span());
    }
    first_type_argument(segment).and_then(find_json)
}

pub(crate) fn check(
    method: Method,
    args: RouteArgs,
    function: ItemFn,
) -> Result<RouteModel, syn::Error> {
    let mut errors = Errors::default();
    let captures = check_template(&args.path, &mut errors);
    let public = args.public.is_some();
    let signature = &function.sig;

    if signature.asyncness.is_none() {
        errors.push(
            signature.fn_token.span(),
            "a route handler must be an `async fn`",
        );
    }
    if !signature.generics.params.is_empty() || signature.generics.where_clause.is_some() {
        errors.push(
            signature.generics.span(),
            "a route handler cannot be generic",
        );
    }

    let unscoped_reason = match &args.unscoped {
        Some((span, None)) => {
            errors.push(
                *span,
                "`unscoped` needs a reason for reviewers: `unscoped(reason = \"...\")`",
            );
            None
        }
        Some((_, Some(reason))) if reason.value().trim().is_empty() => {
            errors.push(
                reason.span(),
                "the `unscoped` reason is empty; say why this route must reach rows of every caller",
            );
            None
        }
        Some((_, Some(reason))) => Some(reason.value()),
        None => None,
    };

    let rate_limit = match &args.rate_limit {
        Some(policy) if policy.value().trim().is_empty() => {
            errors.push(policy.span(), "the rate limit policy name is empty");
            String::new()
        }
        Some(policy) => policy.value(),
        None => "default".to_string(),
    };

    if let (Some(role), true) = (&args.role, public) {
        errors.push(
            role.span(),
            "a `public` route has no authenticated caller whose role could be checked; remove `role` or `public`",
        );
    }

    let mut arg_types = Vec::new();
    let mut bodies = 0;
    for input in &signature.inputs {
        let typed = match input {
            FnArg::Receiver(receiver) => {
                errors.push(
                    receiver.span(),
                    "a route handler is a free function; remove `self`",
                );
                continue;
            }
            FnArg::Typed(typed) => typed,
        };
        let ty = &*typed.ty;
        if let Some(segment) = last_segment(ty) {
            let name = segment.ident.to_string();
            if public && name == "Caller" {
                errors.push(
                    segment.ident.span(),
                    "a `public` route cannot take `Caller`, because nobody has been authenticated; take `Option<Caller>` to use a token when one is sent, or remove `public`",
                );
            }
            if public && name == "Db" {
                errors.push(
                    segment.ident.span(),
                    "a `public` route cannot take `Db`: its scoped operations need a verified caller, and rows read on a public route could be sent to anyone; remove `public`, or declare `unscoped(reason = \"...\")` and take `UnscopedDb`",
                );
            }
            if RAW_BODY_TYPES.contains(&name.as_str()) {
                errors.push(
                    segment.ident.span(),
                    format!(
                        "`{name}` cannot be a handler argument: a request body is taken only as `Valid<S>`, where `S` is a schema from `#[derive(Resource)]` (such as `InvoicePatch`) or `#[derive(Schema)]`, which rejects unknown fields and validates every field"
                    ),
                );
            }
            if name == "Valid" {
                bodies += 1;
                if bodies == 2 {
                    errors.push(
                        segment.ident.span(),
                        "a route takes at most one body (`Valid<S>`)",
                    );
                }
            }
            if name == "Tokens" && args.unscoped.is_none() {
                errors.push(
                    segment.ident.span(),
                    "`Tokens` signs tokens for any account, so only a route that checks credentials against every account may take it; declare that with `unscoped(reason = \"...\")` and take `UnscopedDb` to look the account up",
                );
            }
            if name == "UnscopedDb" && args.unscoped.is_none() {
                errors.push(
                    segment.ident.span(),
                    "`UnscopedDb` reaches rows of every caller; declare why on the route with `unscoped(reason = \"...\")`, or take `Db` and use the scoped operations",
                );
            }
        }
        arg_types.push(ty.clone());
    }

    if matches!(method, Method::Get | Method::Delete) && bodies > 0 {
        errors.push(
            signature.ident.span(),
            format!(
                "a {} route takes no body; use POST, PUT or PATCH",
                method.as_str()
            ),
        );
    }

    let return_type = match &signature.output {
        ReturnType::Type(_, ty) => {
            if let Some(span) = find_json(ty) {
                let message = if public {
                    "a `public` route returns `Public<T>` or `NoContent`, not `Json<T>`"
                } else {
                    "a protected route returns resource data only as `Owned<T>`, `Page<Owned<T>>`, `Created<Owned<T>>` or `NoContent`, not `Json<T>`, which would skip the caller scope and the secret-field filter; read the row with `T::owned_by(&caller)`"
                };
                errors.push(span, message);
            }
            (**ty).clone()
        }
        ReturnType::Default => {
            errors.push(
                signature.ident.span(),
                "a route handler returns a response such as `ApiResult<Owned<T>>`, `ApiResult<NoContent>` or, on a public route, `ApiResult<Public<T>>`",
            );
            syn::parse_quote!(())
        }
    };

    errors.finish()?;
    Ok(RouteModel {
        method,
        unscoped_span: args.unscoped.as_ref().map(|(span, _)| *span),
        path: args.path,
        captures,
        public,
        rate_limit,
        role: args.role,
        unscoped_reason,
        function,
        arg_types,
        return_type,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captures(template: &str) -> Result<usize, String> {
        let mut errors = Errors::default();
        let count = check_template(&LitStr::new(template, Span::call_site()), &mut errors);
        errors
            .finish()
            .map(|()| count)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn template_counts_captures() {
        assert_eq!(captures("/"), Ok(0));
        assert_eq!(captures("/api/invoices"), Ok(0));
        assert_eq!(captures("/api/invoices/{id}"), Ok(1));
        assert_eq!(captures("/api/users/{user}/invoices/{id}"), Ok(2));
    }

    #[test]
    fn template_rejects_malformed_paths() {
        for template in [
            "api/invoices",
            "/api/invoices/",
            "/api//invoices",
            "/api/{id}/{id}",
            "/api/inv{id}",
            "/api/{*rest}",
            "/api/{1d}",
            "/api/in voices",
        ] {
            assert!(captures(template).is_err(), "accepted {template}");
        }
    }
}
