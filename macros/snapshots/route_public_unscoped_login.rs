#[allow(non_camel_case_types)]
#[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy)]
struct login;
impl login {
    #[allow(clippy::too_many_arguments)]
    async fn __gauntlet_handler(
        db: UnscopedDb,
        tokens: Tokens,
        body: Valid<LoginRequest>,
    ) -> ApiResult<Public<AccessToken>> {
        todo!()
    }
}
const _: () = ::core::assert!(
    0 + < UnscopedDb as ::gauntlet::__private::HandlerArg <
    ::gauntlet::__private::AuthPublic, ::gauntlet::__private::ScopeUnscoped >>
    ::PATH_ARITY + < Tokens as ::gauntlet::__private::HandlerArg <
    ::gauntlet::__private::AuthPublic, ::gauntlet::__private::ScopeUnscoped >>
    ::PATH_ARITY + < Valid < LoginRequest > as ::gauntlet::__private::HandlerArg <
    ::gauntlet::__private::AuthPublic, ::gauntlet::__private::ScopeUnscoped >>
    ::PATH_ARITY == 0usize,
    "the path template \"/api/login\" has 0 capture(s), and the handler's `Path<...>` arguments must take exactly as many; add a capture such as `/{{id}}` to the template, or change the `Path<...>` argument"
);
const _: () = ::core::assert!(
    0 + (< UnscopedDb as ::gauntlet::__private::HandlerArg <
    ::gauntlet::__private::AuthPublic, ::gauntlet::__private::ScopeUnscoped >> ::BODY
    .is_some() as usize) + (< Tokens as ::gauntlet::__private::HandlerArg <
    ::gauntlet::__private::AuthPublic, ::gauntlet::__private::ScopeUnscoped >> ::BODY
    .is_some() as usize) + (< Valid < LoginRequest > as ::gauntlet::__private::HandlerArg
    < ::gauntlet::__private::AuthPublic, ::gauntlet::__private::ScopeUnscoped >> ::BODY
    .is_some() as usize) <= 1usize,
    "a route takes at most one body (`Valid<S>`); remove one, or merge both into one schema"
);
const _: () = ::core::assert!(
    false || < UnscopedDb as ::gauntlet::__private::HandlerArg <
    ::gauntlet::__private::AuthPublic, ::gauntlet::__private::ScopeUnscoped >> ::UNSCOPED
    || < Tokens as ::gauntlet::__private::HandlerArg < ::gauntlet::__private::AuthPublic,
    ::gauntlet::__private::ScopeUnscoped >> ::UNSCOPED || < Valid < LoginRequest > as
    ::gauntlet::__private::HandlerArg < ::gauntlet::__private::AuthPublic,
    ::gauntlet::__private::ScopeUnscoped >> ::UNSCOPED,
    "the route declares `unscoped` but takes no `UnscopedDb`; remove `unscoped(...)` so the manifest does not overstate its access"
);
#[automatically_derived]
impl ::gauntlet::IntoRoutes for login {
    fn into_routes(self) -> ::std::vec::Vec<::gauntlet::RouteDef> {
        let mut __gauntlet_body = ::core::option::Option::None;
        if let ::core::option::Option::Some(__gauntlet_schema) = <UnscopedDb as ::gauntlet::__private::HandlerArg<
            ::gauntlet::__private::AuthPublic,
            ::gauntlet::__private::ScopeUnscoped,
        >>::BODY {
            __gauntlet_body = ::core::option::Option::Some(
                ::std::borrow::Cow::Borrowed(__gauntlet_schema),
            );
        }
        if let ::core::option::Option::Some(__gauntlet_schema) = <Tokens as ::gauntlet::__private::HandlerArg<
            ::gauntlet::__private::AuthPublic,
            ::gauntlet::__private::ScopeUnscoped,
        >>::BODY {
            __gauntlet_body = ::core::option::Option::Some(
                ::std::borrow::Cow::Borrowed(__gauntlet_schema),
            );
        }
        if let ::core::option::Option::Some(__gauntlet_schema) = <Valid<
            LoginRequest,
        > as ::gauntlet::__private::HandlerArg<
            ::gauntlet::__private::AuthPublic,
            ::gauntlet::__private::ScopeUnscoped,
        >>::BODY {
            __gauntlet_body = ::core::option::Option::Some(
                ::std::borrow::Cow::Borrowed(__gauntlet_schema),
            );
        }
        let __gauntlet_meta = ::gauntlet::RouteMeta {
            method: ::gauntlet::RouteMethod::Post,
            path: ::std::borrow::Cow::Borrowed("/api/login"),
            handler: ::std::borrow::Cow::Borrowed("login"),
            public: true,
            caller: ::gauntlet::__private::CallerUse::None
                .max(
                    <UnscopedDb as ::gauntlet::__private::HandlerArg<
                        ::gauntlet::__private::AuthPublic,
                        ::gauntlet::__private::ScopeUnscoped,
                    >>::CALLER,
                )
                .max(
                    <Tokens as ::gauntlet::__private::HandlerArg<
                        ::gauntlet::__private::AuthPublic,
                        ::gauntlet::__private::ScopeUnscoped,
                    >>::CALLER,
                )
                .max(
                    <Valid<
                        LoginRequest,
                    > as ::gauntlet::__private::HandlerArg<
                        ::gauntlet::__private::AuthPublic,
                        ::gauntlet::__private::ScopeUnscoped,
                    >>::CALLER,
                ),
            rate_limit: ::std::borrow::Cow::Borrowed("login"),
            role: ::core::option::Option::None,
            database: false
                || <UnscopedDb as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthPublic,
                    ::gauntlet::__private::ScopeUnscoped,
                >>::DATABASE
                || <Tokens as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthPublic,
                    ::gauntlet::__private::ScopeUnscoped,
                >>::DATABASE
                || <Valid<
                    LoginRequest,
                > as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthPublic,
                    ::gauntlet::__private::ScopeUnscoped,
                >>::DATABASE,
            issues_tokens: false
                || <UnscopedDb as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthPublic,
                    ::gauntlet::__private::ScopeUnscoped,
                >>::ISSUES_TOKENS
                || <Tokens as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthPublic,
                    ::gauntlet::__private::ScopeUnscoped,
                >>::ISSUES_TOKENS
                || <Valid<
                    LoginRequest,
                > as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthPublic,
                    ::gauntlet::__private::ScopeUnscoped,
                >>::ISSUES_TOKENS,
            scoped_to: ::core::option::Option::None,
            unscoped_reason: ::core::option::Option::Some(
                ::std::borrow::Cow::Borrowed(
                    "login finds an account by email before anyone is authenticated",
                ),
            ),
            body_schema: __gauntlet_body,
            resource: ::core::option::Option::None,
            response: ::std::borrow::Cow::Borrowed("ApiResult<Public<AccessToken>>"),
            describe: ::core::option::Option::Some(|
                __gauntlet_doc: &mut ::gauntlet::openapi::OperationDoc|
            {
                <UnscopedDb as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthPublic,
                    ::gauntlet::__private::ScopeUnscoped,
                >>::describe(__gauntlet_doc);
                <Tokens as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthPublic,
                    ::gauntlet::__private::ScopeUnscoped,
                >>::describe(__gauntlet_doc);
                <Valid<
                    LoginRequest,
                > as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthPublic,
                    ::gauntlet::__private::ScopeUnscoped,
                >>::describe(__gauntlet_doc);
                <ApiResult<
                    Public<AccessToken>,
                > as ::gauntlet::__private::Reply<
                    ::gauntlet::__private::AuthPublic,
                >>::describe(__gauntlet_doc);
            }),
        };
        ::std::vec![
            ::gauntlet::__private::new_route:: < ::gauntlet::__private::AuthPublic, _, _,
            _, ApiResult < Public < AccessToken > > > (__gauntlet_meta, | __gauntlet_ctx
            | ::core::result::Result::Ok((< UnscopedDb as
            ::gauntlet::__private::HandlerArg < ::gauntlet::__private::AuthPublic,
            ::gauntlet::__private::ScopeUnscoped >> ::extract(__gauntlet_ctx) ?, < Tokens
            as ::gauntlet::__private::HandlerArg < ::gauntlet::__private::AuthPublic,
            ::gauntlet::__private::ScopeUnscoped >> ::extract(__gauntlet_ctx) ?, < Valid
            < LoginRequest > as ::gauntlet::__private::HandlerArg <
            ::gauntlet::__private::AuthPublic, ::gauntlet::__private::ScopeUnscoped >>
            ::extract(__gauntlet_ctx) ?,)), | (__gauntlet_arg0, __gauntlet_arg1,
            __gauntlet_arg2,) | Self::__gauntlet_handler(__gauntlet_arg0,
            __gauntlet_arg1, __gauntlet_arg2),)
        ]
    }
}
