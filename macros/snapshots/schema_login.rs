const _: () = {
    #[derive(::gauntlet::__private::serde::Deserialize, ::garde::Validate)]
    #[serde(crate = "::gauntlet::__private::serde", deny_unknown_fields)]
    struct __GauntletWire {
        #[garde(length(chars, min = 3, max = 254))]
        email: String,
        #[garde(length(chars, min = 1, max = 1024))]
        password: String,
    }
    #[automatically_derived]
    impl ::gauntlet::__private::SchemaSealed for LoginRequest {
        const NAME: &'static str = "LoginRequest";
        fn parse_json(
            body: &[u8],
        ) -> ::core::result::Result<Self, ::gauntlet::ApiError> {
            let __gauntlet_wire = ::gauntlet::__private::parse_json_body::<
                __GauntletWire,
            >(body, &["email", "password"])?;
            ::core::result::Result::Ok(LoginRequest {
                email: __gauntlet_wire.email,
                password: __gauntlet_wire.password,
            })
        }
    }
    #[automatically_derived]
    impl ::gauntlet::Schema for LoginRequest {}
};
