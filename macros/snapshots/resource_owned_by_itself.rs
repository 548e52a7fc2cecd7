const _: () = {
    use ::gauntlet::__private::serde as __gauntlet_serde;
    use ::gauntlet::__private::sqlx as __gauntlet_sqlx;
    const _: fn() = || {
        fn __gauntlet_owner_column<
            T: ?::core::marker::Sized + ::gauntlet::__private::OwnerColumn,
        >() {}
        __gauntlet_owner_column::<UserId>();
    };
    const _: fn() = || {
        fn __gauntlet_id_column<
            T: ?::core::marker::Sized + ::gauntlet::__private::IdColumn,
        >() {}
        __gauntlet_id_column::<UserId>();
    };
    #[automatically_derived]
    impl ::gauntlet::__private::ResourceSql for User {
        const NAME: &'static str = "User";
        const TABLE: &'static str = "\"users\"";
        const ID_COLUMN: &'static str = "\"id\"";
        const OWNER_COLUMN: &'static str = "\"id\"";
        const COLUMNS: &'static str = "\"id\", \"email\", \"password_hash\"";
        fn id(&self) -> i64 {
            ::gauntlet::__private::IdColumn::raw_id(&self.id)
        }
        fn from_sqlite_row(
            __gauntlet_row: &__gauntlet_sqlx::sqlite::SqliteRow,
        ) -> ::core::result::Result<Self, __gauntlet_sqlx::Error> {
            ::core::result::Result::Ok(Self {
                id: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "id")?,
                email: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "email")?,
                password_hash: __gauntlet_sqlx::Row::try_get(
                    __gauntlet_row,
                    "password_hash",
                )?,
            })
        }
        fn from_postgres_row(
            __gauntlet_row: &__gauntlet_sqlx::postgres::PgRow,
        ) -> ::core::result::Result<Self, __gauntlet_sqlx::Error> {
            ::core::result::Result::Ok(Self {
                id: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "id")?,
                email: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "email")?,
                password_hash: __gauntlet_sqlx::Row::try_get(
                    __gauntlet_row,
                    "password_hash",
                )?,
            })
        }
        fn serialize_view<S: __gauntlet_serde::Serializer>(
            &self,
            __gauntlet_serializer: S,
        ) -> ::core::result::Result<S::Ok, S::Error> {
            let mut __gauntlet_state = __gauntlet_serde::Serializer::serialize_struct(
                __gauntlet_serializer,
                "User",
                2usize,
            )?;
            __gauntlet_serde::ser::SerializeStruct::serialize_field(
                &mut __gauntlet_state,
                "id",
                &self.id,
            )?;
            __gauntlet_serde::ser::SerializeStruct::serialize_field(
                &mut __gauntlet_state,
                "email",
                &self.email,
            )?;
            __gauntlet_serde::ser::SerializeStruct::end(__gauntlet_state)
        }
        fn view_schema() -> ::gauntlet::__private::serde_json::Value {
            {
                let mut __gauntlet_properties = ::gauntlet::__private::serde_json::Map::new();
                {
                    let mut __gauntlet_schema = <UserId as ::gauntlet::Describe>::json_schema();
                    __gauntlet_properties
                        .insert(::std::string::String::from("id"), __gauntlet_schema);
                }
                {
                    let mut __gauntlet_schema = <String as ::gauntlet::Describe>::json_schema();
                    __gauntlet_properties
                        .insert(::std::string::String::from("email"), __gauntlet_schema);
                }
                ::gauntlet::__private::serde_json::json!(
                    { "type" : "object", "properties" : __gauntlet_properties, "required"
                    : ["id", "email"], "additionalProperties" : false, }
                )
            }
        }
    }
    #[automatically_derived]
    impl ::gauntlet::Resource for User {}
};
