//! Code generation for a checked route.
//!
//! The handler becomes an associated function of a unit struct with the
//! handler's name; the struct implements `IntoRoutes`, so
//! `App::builder().route(update_invoice)` mounts it. Arguments are extracted
//! through `HandlerArg<Auth, Scope>`, whose markers encode the route's
//! declarations, and each check is spanned at the argument's type.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

use super::check::RouteModel;
use super::Method;

pub(crate) fn expand(model: &RouteModel) -> TokenStream {
    let function = &model.function;
    let ident = &function.sig.ident;
    let vis = &function.vis;
    let docs = function
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"));
    let other_attrs = function
        .attrs
        .iter()
        .filter(|attr| !attr.path().is_ident("doc"));
    let inputs = &function.sig.inputs;
    let output = &function.sig.output;
    let block = &function.block;

    let auth = if model.public {
        quote!(::gauntlet::__private::AuthPublic)
    } else {
        quote!(::gauntlet::__private::AuthRequired)
    };
    let scope = if model.unscoped_reason.is_some() {
        quote!(::gauntlet::__private::ScopeUnscoped)
    } else {
        quote!(::gauntlet::__private::ScopeOwner)
    };

    let arg_names: Vec<_> = (0..model.arg_types.len())
        .map(|index| format_ident!("__gauntlet_arg{}", index))
        .collect();
    let as_arg: Vec<TokenStream> = model
        .arg_types
        .iter()
        .map(|ty| {
            quote_spanned! {ty.span()=>
                <#ty as ::gauntlet::__private::HandlerArg<#auth, #scope>>
            }
        })
        .collect();

    let extracts = as_arg
        .iter()
        .map(|arg| quote!(#arg::extract(__gauntlet_ctx)?));
    let callers = as_arg.iter().map(|arg| quote!(.max(#arg::CALLER)));
    let bodies = as_arg.iter().map(|arg| {
        quote! {
            if let ::core::option::Option::Some(__gauntlet_schema) = #arg::BODY {
                __gauntlet_body = ::core::option::Option::Some(::std::borrow::Cow::Borrowed(__gauntlet_schema));
            }
        }
    });
    let arities = as_arg.iter().map(|arg| quote!(+ #arg::PATH_ARITY));
    let body_counts: Vec<TokenStream> = as_arg
        .iter()
        .map(|arg| quote!(+ (#arg::BODY.is_some() as usize)))
        .collect();
    let unscoped_args: Vec<TokenStream> =
        as_arg.iter().map(|arg| quote!(|| #arg::UNSCOPED)).collect();
    let describes = as_arg
        .iter()
        .map(|arg| quote!(#arg::describe(__gauntlet_doc);));

    let method = match model.method {
        Method::Get => quote!(Get),
        Method::Post => quote!(Post),
        Method::Put => quote!(Put),
        Method::Patch => quote!(Patch),
        Method::Delete => quote!(Delete),
    };
    let path = &model.path;
    let handler_name = ident.to_string();
    let public = model.public;
    let caller = if model.public {
        quote!(::gauntlet::__private::CallerUse::None #(#callers)*)
    } else {
        quote!(::gauntlet::__private::CallerUse::Required)
    };
    let rate_limit = &model.rate_limit;
    let unscoped = match &model.unscoped_reason {
        Some(reason) => quote!(::core::option::Option::Some(::std::borrow::Cow::Borrowed(#reason))),
        None => quote!(::core::option::Option::None),
    };
    // The role is a path to a variant of the application's role enum. The
    // expression below is spanned at it, so a role that is not a variant of
    // an enum implementing `gauntlet::Role` is a compile error there.
    let role = match &model.role {
        Some(role) => quote_spanned! {role.span()=>
            ::core::option::Option::Some(::std::borrow::Cow::Borrowed(::gauntlet::Role::name(&#role)))
        },
        None => quote!(::core::option::Option::None),
    };
    let return_type = &model.return_type;
    let response = return_type.to_token_stream().to_string().replace(' ', "");
    let captures = model.captures;
    // The message is a format string for `assert!`, so the template's
    // braces are doubled.
    let arity_message = format!(
        "the path template \"{}\" has {} capture(s), and the handler's `Path<...>` arguments must take exactly as many; add a capture such as `/{{{{id}}}}` to the template, or change the `Path<...>` argument",
        path.value().replace('{', "{{").replace('}', "}}"),
        captures
    );
    // The check points at the `Path<...>` argument when there is one.
    let arity_span = model
        .arg_types
        .iter()
        .find(|ty| ty.to_token_stream().to_string().starts_with("Path"))
        .map_or(path.span(), |ty| ty.span());

    let arity_check = quote_spanned! {arity_span=>
        const _: () = ::core::assert!(0 #(#arities)* == #captures, #arity_message);
    };

    // Backstops for what the signature check finds only by name, because a
    // type alias can hide a body or an `UnscopedDb`.
    let path_span = path.span();
    let max_bodies: usize = match model.method {
        Method::Get | Method::Delete => 0,
        _ => 1,
    };
    let body_message = if max_bodies == 0 {
        format!(
            "a {} route takes no body; use POST, PUT or PATCH",
            model.method.as_str()
        )
    } else {
        "a route takes at most one body (`Valid<S>`); remove one, or merge both into one schema"
            .to_string()
    };
    let body_check = quote_spanned! {path_span=>
        const _: () = ::core::assert!(0 #(#body_counts)* <= #max_bodies, #body_message);
    };
    let unscoped_check = match model.unscoped_span {
        Some(span) => quote_spanned! {span=>
            const _: () = ::core::assert!(
                false #(#unscoped_args)*,
                "the route declares `unscoped` but takes no `UnscopedDb`; remove `unscoped(...)` so the manifest does not overstate its access"
            );
        },
        None => quote!(),
    };

    let describe_reply = quote_spanned! {return_type.span()=>
        <#return_type as ::gauntlet::__private::Reply<#auth>>::describe(__gauntlet_doc);
    };

    // Spanned at the return type, so that a return type which is not a
    // Gauntlet response is reported there.
    let route_def = quote_spanned! {return_type.span()=>
        ::gauntlet::__private::new_route::<#auth, _, _, _, #return_type>
    };

    quote! {
        #(#docs)*
        #[allow(non_camel_case_types)]
        #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy)]
        #vis struct #ident;

        impl #ident {
            #(#other_attrs)*
            #[allow(clippy::too_many_arguments)]
            async fn __gauntlet_handler(#inputs) #output #block
        }

        #arity_check
        #body_check
        #unscoped_check


        #[automatically_derived]
        impl ::gauntlet::IntoRoutes for #ident {
            fn into_routes(self) -> ::std::vec::Vec<::gauntlet::RouteDef> {
                let mut __gauntlet_body = ::core::option::Option::None;
                #(#bodies)*
                let __gauntlet_meta = ::gauntlet::RouteMeta {
                    method: ::gauntlet::RouteMethod::#method,
                    path: ::std::borrow::Cow::Borrowed(#path),
                    handler: ::std::borrow::Cow::Borrowed(#handler_name),
                    public: #public,
                    caller: #caller,
                    rate_limit: ::std::borrow::Cow::Borrowed(#rate_limit),
                    role: #role,
                    database: false #(|| #as_arg::DATABASE)*,
                    issues_tokens: false #(|| #as_arg::ISSUES_TOKENS)*,
                    scoped_to: ::core::option::Option::None,
                    unscoped_reason: #unscoped,
                    body_schema: __gauntlet_body,
                    resource: ::core::option::Option::None,
                    response: ::std::borrow::Cow::Borrowed(#response),
                    describe: ::core::option::Option::Some(|__gauntlet_doc: &mut ::gauntlet::openapi::OperationDoc| {
                        #(#describes)*
                        #describe_reply
                    }),
                };
                ::std::vec![#route_def(
                    __gauntlet_meta,
                    |__gauntlet_ctx| ::core::result::Result::Ok(( #(#extracts,)* )),
                    |( #(#arg_names,)* )| Self::__gauntlet_handler( #(#arg_names),* ),
                )]
            }
        }
    }
}
