//! The route attributes `get`, `post`, `put`, `patch` and `delete`.

mod attr;
mod check;
mod expand;

use proc_macro2::TokenStream;
use quote::quote;

use crate::diagnostics::with_fallback;

/// The HTTP method of a route attribute.
#[derive(Clone, Copy)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

pub(crate) fn expand(method: Method, args: TokenStream, item: TokenStream) -> TokenStream {
    let function = match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(function) => function,
        Err(error) => {
            let error = syn::Error::new(error.span(), "a route attribute goes on an `async fn`");
            return with_fallback(error, item);
        }
    };
    // With a mistake in the route, the handler is replaced by a route that
    // mounts nothing, so that `.route(handler)` elsewhere still compiles and
    // the user sees only the mistake itself.
    let fallback = {
        let ident = &function.sig.ident;
        let vis = &function.vis;
        quote! {
            #[allow(non_camel_case_types, dead_code)]
            #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy)]
            #vis struct #ident;

            impl ::gauntlet::IntoRoutes for #ident {
                fn into_routes(self) -> ::std::vec::Vec<::gauntlet::RouteDef> {
                    ::std::vec::Vec::new()
                }
            }
        }
    };

    let args = match syn::parse2::<attr::RouteArgs>(args) {
        Ok(args) => args,
        Err(error) => return with_fallback(error, fallback),
    };
    match check::check(method, args, function) {
        Ok(model) => expand::expand(&model),
        Err(error) => with_fallback(error, fallback),
    }
}
