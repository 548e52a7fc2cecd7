/// Updates one of the caller's invoices.
#[allow(non_camel_case_types)]
#[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy)]
struct update_invoice;
impl update_invoice {
    #[allow(clippy::too_many_arguments)]
    async fn __gauntlet_handler(
        caller: Caller,
        db: Db,
        id: Path<Id<Invoice>>,
        body: Valid<InvoicePatch>,
    ) -> ApiResult<Owned<Invoice>> {
        Invoice::owned_by(&caller).update(&db, *id, body).await
    }
}
const _: () = ::core::assert!(
    0 + < Caller as ::gauntlet::__private::HandlerArg <
    ::gauntlet::__private::AuthRequired, ::gauntlet::__private::ScopeOwner >>
    ::PATH_ARITY + < Db as ::gauntlet::__private::HandlerArg <
    ::gauntlet::__private::AuthRequired, ::gauntlet::__private::ScopeOwner >>
    ::PATH_ARITY + < Path < Id < Invoice > > as ::gauntlet::__private::HandlerArg <
    ::gauntlet::__private::AuthRequired, ::gauntlet::__private::ScopeOwner >>
    ::PATH_ARITY + < Valid < InvoicePatch > as ::gauntlet::__private::HandlerArg <
    ::gauntlet::__private::AuthRequired, ::gauntlet::__private::ScopeOwner >>
    ::PATH_ARITY == 1usize,
    "the path template \"/api/invoices/{{id}}\" has 1 capture(s), and the handler's `Path<...>` arguments must take exactly as many; add a capture such as `/{{id}}` to the template, or change the `Path<...>` argument"
);
const _: () = ::core::assert!(
    0 + (< Caller as ::gauntlet::__private::HandlerArg <
    ::gauntlet::__private::AuthRequired, ::gauntlet::__private::ScopeOwner >> ::BODY
    .is_some() as usize) + (< Db as ::gauntlet::__private::HandlerArg <
    ::gauntlet::__private::AuthRequired, ::gauntlet::__private::ScopeOwner >> ::BODY
    .is_some() as usize) + (< Path < Id < Invoice > > as
    ::gauntlet::__private::HandlerArg < ::gauntlet::__private::AuthRequired,
    ::gauntlet::__private::ScopeOwner >> ::BODY.is_some() as usize) + (< Valid <
    InvoicePatch > as ::gauntlet::__private::HandlerArg <
    ::gauntlet::__private::AuthRequired, ::gauntlet::__private::ScopeOwner >> ::BODY
    .is_some() as usize) <= 1usize,
    "a route takes at most one body (`Valid<S>`); remove one, or merge both into one schema"
);
#[automatically_derived]
impl ::gauntlet::IntoRoutes for update_invoice {
    fn into_routes(self) -> ::std::vec::Vec<::gauntlet::RouteDef> {
        let mut __gauntlet_body = ::core::option::Option::None;
        if let ::core::option::Option::Some(__gauntlet_schema) = <Caller as ::gauntlet::__private::HandlerArg<
            ::gauntlet::__private::AuthRequired,
            ::gauntlet::__private::ScopeOwner,
        >>::BODY {
            __gauntlet_body = ::core::option::Option::Some(
                ::std::borrow::Cow::Borrowed(__gauntlet_schema),
            );
        }
        if let ::core::option::Option::Some(__gauntlet_schema) = <Db as ::gauntlet::__private::HandlerArg<
            ::gauntlet::__private::AuthRequired,
            ::gauntlet::__private::ScopeOwner,
        >>::BODY {
            __gauntlet_body = ::core::option::Option::Some(
                ::std::borrow::Cow::Borrowed(__gauntlet_schema),
            );
        }
        if let ::core::option::Option::Some(__gauntlet_schema) = <Path<
            Id<Invoice>,
        > as ::gauntlet::__private::HandlerArg<
            ::gauntlet::__private::AuthRequired,
            ::gauntlet::__private::ScopeOwner,
        >>::BODY {
            __gauntlet_body = ::core::option::Option::Some(
                ::std::borrow::Cow::Borrowed(__gauntlet_schema),
            );
        }
        if let ::core::option::Option::Some(__gauntlet_schema) = <Valid<
            InvoicePatch,
        > as ::gauntlet::__private::HandlerArg<
            ::gauntlet::__private::AuthRequired,
            ::gauntlet::__private::ScopeOwner,
        >>::BODY {
            __gauntlet_body = ::core::option::Option::Some(
                ::std::borrow::Cow::Borrowed(__gauntlet_schema),
            );
        }
        let __gauntlet_meta = ::gauntlet::RouteMeta {
            method: ::gauntlet::RouteMethod::Patch,
            path: ::std::borrow::Cow::Borrowed("/api/invoices/{id}"),
            handler: ::std::borrow::Cow::Borrowed("update_invoice"),
            public: false,
            caller: ::gauntlet::__private::CallerUse::Required,
            rate_limit: ::std::borrow::Cow::Borrowed("writes"),
            role: ::core::option::Option::None,
            database: false
                || <Caller as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthRequired,
                    ::gauntlet::__private::ScopeOwner,
                >>::DATABASE
                || <Db as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthRequired,
                    ::gauntlet::__private::ScopeOwner,
                >>::DATABASE
                || <Path<
                    Id<Invoice>,
                > as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthRequired,
                    ::gauntlet::__private::ScopeOwner,
                >>::DATABASE
                || <Valid<
                    InvoicePatch,
                > as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthRequired,
                    ::gauntlet::__private::ScopeOwner,
                >>::DATABASE,
            issues_tokens: false
                || <Caller as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthRequired,
                    ::gauntlet::__private::ScopeOwner,
                >>::ISSUES_TOKENS
                || <Db as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthRequired,
                    ::gauntlet::__private::ScopeOwner,
                >>::ISSUES_TOKENS
                || <Path<
                    Id<Invoice>,
                > as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthRequired,
                    ::gauntlet::__private::ScopeOwner,
                >>::ISSUES_TOKENS
                || <Valid<
                    InvoicePatch,
                > as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthRequired,
                    ::gauntlet::__private::ScopeOwner,
                >>::ISSUES_TOKENS,
            scoped_to: ::core::option::Option::None,
            unscoped_reason: ::core::option::Option::None,
            body_schema: __gauntlet_body,
            resource: ::core::option::Option::None,
            response: ::std::borrow::Cow::Borrowed("ApiResult<Owned<Invoice>>"),
            describe: ::core::option::Option::Some(|
                __gauntlet_doc: &mut ::gauntlet::openapi::OperationDoc|
            {
                <Caller as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthRequired,
                    ::gauntlet::__private::ScopeOwner,
                >>::describe(__gauntlet_doc);
                <Db as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthRequired,
                    ::gauntlet::__private::ScopeOwner,
                >>::describe(__gauntlet_doc);
                <Path<
                    Id<Invoice>,
                > as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthRequired,
                    ::gauntlet::__private::ScopeOwner,
                >>::describe(__gauntlet_doc);
                <Valid<
                    InvoicePatch,
                > as ::gauntlet::__private::HandlerArg<
                    ::gauntlet::__private::AuthRequired,
                    ::gauntlet::__private::ScopeOwner,
                >>::describe(__gauntlet_doc);
                <ApiResult<
                    Owned<Invoice>,
                > as ::gauntlet::__private::Reply<
                    ::gauntlet::__private::AuthRequired,
                >>::describe(__gauntlet_doc);
            }),
        };
        ::std::vec![
            ::gauntlet::__private::new_route:: < ::gauntlet::__private::AuthRequired, _,
            _, _, ApiResult < Owned < Invoice > > > (__gauntlet_meta, | __gauntlet_ctx |
            ::core::result::Result::Ok((< Caller as ::gauntlet::__private::HandlerArg <
            ::gauntlet::__private::AuthRequired, ::gauntlet::__private::ScopeOwner >>
            ::extract(__gauntlet_ctx) ?, < Db as ::gauntlet::__private::HandlerArg <
            ::gauntlet::__private::AuthRequired, ::gauntlet::__private::ScopeOwner >>
            ::extract(__gauntlet_ctx) ?, < Path < Id < Invoice > > as
            ::gauntlet::__private::HandlerArg < ::gauntlet::__private::AuthRequired,
            ::gauntlet::__private::ScopeOwner >> ::extract(__gauntlet_ctx) ?, < Valid <
            InvoicePatch > as ::gauntlet::__private::HandlerArg <
            ::gauntlet::__private::AuthRequired, ::gauntlet::__private::ScopeOwner >>
            ::extract(__gauntlet_ctx) ?,)), | (__gauntlet_arg0, __gauntlet_arg1,
            __gauntlet_arg2, __gauntlet_arg3,) |
            Self::__gauntlet_handler(__gauntlet_arg0, __gauntlet_arg1, __gauntlet_arg2,
            __gauntlet_arg3),)
        ]
    }
}
