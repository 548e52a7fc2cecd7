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
    impl<'de> ::gauntlet::__private::serde::Deserialize<'de> for LoginRequest {
        fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
        where
            D: ::gauntlet::__private::serde::Deserializer<'de>,
        {
            let __gauntlet_wire = <__GauntletWire as ::gauntlet::__private::serde::Deserialize>::deserialize(
                deserializer,
            )?;
            ::core::result::Result::Ok(LoginRequest {
                email: __gauntlet_wire.email,
                password: __gauntlet_wire.password,
            })
        }
    }
    #[automatically_derived]
    impl ::garde::Validate for LoginRequest {
        type Context = ();
        fn validate_into(
            &self,
            __gauntlet_context: &Self::Context,
            __gauntlet_parent: &mut dyn ::core::ops::FnMut() -> ::garde::Path,
            __gauntlet_report: &mut ::garde::Report,
        ) {
            let __gauntlet_wire = __GauntletWire {
                email: ::core::clone::Clone::clone(&self.email),
                password: ::core::clone::Clone::clone(&self.password),
            };
            ::garde::Validate::validate_into(
                &__gauntlet_wire,
                __gauntlet_context,
                __gauntlet_parent,
                __gauntlet_report,
            );
        }
    }
    #[automatically_derived]
    impl ::gauntlet::Describe for LoginRequest {
        fn json_schema() -> ::gauntlet::__private::serde_json::Value {
            {
                let mut __gauntlet_properties = ::gauntlet::__private::serde_json::Map::new();
                {
                    let mut __gauntlet_schema = <String as ::gauntlet::Describe>::json_schema();
                    ::gauntlet::__private::schema_length(
                        &mut __gauntlet_schema,
                        "chars",
                        ::core::option::Option::Some(
                            ::gauntlet::__private::serde_json::json!(3),
                        ),
                        ::core::option::Option::Some(
                            ::gauntlet::__private::serde_json::json!(254),
                        ),
                    );
                    __gauntlet_properties
                        .insert(::std::string::String::from("email"), __gauntlet_schema);
                }
                {
                    let mut __gauntlet_schema = <String as ::gauntlet::Describe>::json_schema();
                    ::gauntlet::__private::schema_length(
                        &mut __gauntlet_schema,
                        "chars",
                        ::core::option::Option::Some(
                            ::gauntlet::__private::serde_json::json!(1),
                        ),
                        ::core::option::Option::Some(
                            ::gauntlet::__private::serde_json::json!(1024),
                        ),
                    );
                    __gauntlet_properties
                        .insert(
                            ::std::string::String::from("password"),
                            __gauntlet_schema,
                        );
                }
                ::gauntlet::__private::serde_json::json!(
                    { "type" : "object", "properties" : __gauntlet_properties, "required"
                    : ["email", "password"], "additionalProperties" : false, }
                )
            }
        }
    }
    #[automatically_derived]
    impl ::gauntlet::__private::SchemaSealed for LoginRequest {
        const NAME: &'static str = "LoginRequest";
        fn parse_json(
            body: &[u8],
        ) -> ::core::result::Result<Self, ::gauntlet::ApiError> {
            ::gauntlet::__private::parse_json_body::<
                Self,
            >(body, &["email", "password"], &[])
        }
        fn json_schema() -> ::gauntlet::__private::serde_json::Value {
            <Self as ::gauntlet::Describe>::json_schema()
        }
    }
    #[automatically_derived]
    impl ::gauntlet::Schema for LoginRequest {}
};
