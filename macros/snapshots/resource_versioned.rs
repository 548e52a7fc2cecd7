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
        __gauntlet_id_column::<i64>();
    };
    const _: fn() = || {
        fn __gauntlet_version_column<
            T: ?::core::marker::Sized + ::gauntlet::__private::VersionColumn,
        >() {}
        __gauntlet_version_column::<i64>();
    };
    #[automatically_derived]
    impl ::gauntlet::__private::ResourceSql for Document {
        const NAME: &'static str = "Document";
        const TABLE: &'static str = "\"documents\"";
        const ID_COLUMN: &'static str = "\"id\"";
        const OWNER_COLUMN: &'static str = "\"owner_id\"";
        const COLUMNS: &'static str = "\"id\", \"owner_id\", \"title\", \"version\"";
        const VERSION_COLUMN: ::core::option::Option<&'static str> = ::core::option::Option::Some(
            "\"version\"",
        );
        const REQUIRE_IF_MATCH: bool = true;
        fn version(&self) -> ::core::option::Option<i64> {
            ::core::option::Option::Some(
                ::gauntlet::__private::VersionColumn::raw_version(&self.version),
            )
        }
        fn id(&self) -> i64 {
            ::gauntlet::__private::IdColumn::raw_id(&self.id)
        }
        fn from_sqlite_row(
            __gauntlet_row: &__gauntlet_sqlx::sqlite::SqliteRow,
        ) -> ::core::result::Result<Self, __gauntlet_sqlx::Error> {
            ::core::result::Result::Ok(Self {
                id: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "id")?,
                owner_id: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "owner_id")?,
                title: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "title")?,
                version: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "version")?,
            })
        }
        fn from_postgres_row(
            __gauntlet_row: &__gauntlet_sqlx::postgres::PgRow,
        ) -> ::core::result::Result<Self, __gauntlet_sqlx::Error> {
            ::core::result::Result::Ok(Self {
                id: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "id")?,
                owner_id: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "owner_id")?,
                title: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "title")?,
                version: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "version")?,
            })
        }
        fn serialize_view<S: __gauntlet_serde::Serializer>(
            &self,
            __gauntlet_serializer: S,
        ) -> ::core::result::Result<S::Ok, S::Error> {
            let mut __gauntlet_state = __gauntlet_serde::Serializer::serialize_struct(
                __gauntlet_serializer,
                "Document",
                4usize,
            )?;
            __gauntlet_serde::ser::SerializeStruct::serialize_field(
                &mut __gauntlet_state,
                "id",
                &self.id,
            )?;
            __gauntlet_serde::ser::SerializeStruct::serialize_field(
                &mut __gauntlet_state,
                "owner_id",
                &self.owner_id,
            )?;
            __gauntlet_serde::ser::SerializeStruct::serialize_field(
                &mut __gauntlet_state,
                "title",
                &self.title,
            )?;
            __gauntlet_serde::ser::SerializeStruct::serialize_field(
                &mut __gauntlet_state,
                "version",
                &self.version,
            )?;
            __gauntlet_serde::ser::SerializeStruct::end(__gauntlet_state)
        }
        fn view_schema() -> ::gauntlet::__private::serde_json::Value {
            {
                let mut __gauntlet_properties = ::gauntlet::__private::serde_json::Map::new();
                {
                    let mut __gauntlet_schema = <i64 as ::gauntlet::Describe>::json_schema();
                    __gauntlet_properties
                        .insert(::std::string::String::from("id"), __gauntlet_schema);
                }
                {
                    let mut __gauntlet_schema = <UserId as ::gauntlet::Describe>::json_schema();
                    __gauntlet_properties
                        .insert(
                            ::std::string::String::from("owner_id"),
                            __gauntlet_schema,
                        );
                }
                {
                    let mut __gauntlet_schema = <String as ::gauntlet::Describe>::json_schema();
                    __gauntlet_properties
                        .insert(::std::string::String::from("title"), __gauntlet_schema);
                }
                {
                    let mut __gauntlet_schema = <i64 as ::gauntlet::Describe>::json_schema();
                    __gauntlet_properties
                        .insert(
                            ::std::string::String::from("version"),
                            __gauntlet_schema,
                        );
                }
                ::gauntlet::__private::serde_json::json!(
                    { "type" : "object", "properties" : __gauntlet_properties, "required"
                    : ["id", "owner_id", "title", "version"], "additionalProperties" :
                    false, }
                )
            }
        }
    }
    #[automatically_derived]
    impl ::gauntlet::Resource for Document {}
};
///The body that updates a [`Document`]: its `writable` fields, each optional, with their `garde` rules; unknown fields and `null` values are rejected.
#[derive(
    ::core::fmt::Debug,
    ::gauntlet::__private::serde::Deserialize,
    ::garde::Validate
)]
#[serde(crate = "::gauntlet::__private::serde", deny_unknown_fields)]
pub struct DocumentPatch {
    #[garde(length(chars, min = 1, max = 200))]
    #[serde(default, deserialize_with = "::gauntlet::__private::deserialize_present")]
    pub title: ::core::option::Option<String>,
}
#[automatically_derived]
impl ::gauntlet::__private::SchemaSealed for DocumentPatch {
    const NAME: &'static str = "DocumentPatch";
    fn parse_json(body: &[u8]) -> ::core::result::Result<Self, ::gauntlet::ApiError> {
        ::gauntlet::__private::parse_json_body::<
            Self,
        >(body, &["title"], &["id", "owner_id", "version"])
    }
    fn json_schema() -> ::gauntlet::__private::serde_json::Value {
        {
            let mut __gauntlet_properties = ::gauntlet::__private::serde_json::Map::new();
            {
                let mut __gauntlet_schema = <String as ::gauntlet::Describe>::json_schema();
                ::gauntlet::__private::schema_length(
                    &mut __gauntlet_schema,
                    "chars",
                    ::core::option::Option::Some(
                        ::gauntlet::__private::serde_json::json!(1),
                    ),
                    ::core::option::Option::Some(
                        ::gauntlet::__private::serde_json::json!(200),
                    ),
                );
                __gauntlet_properties
                    .insert(::std::string::String::from("title"), __gauntlet_schema);
            }
            ::gauntlet::__private::serde_json::json!(
                { "type" : "object", "properties" : __gauntlet_properties, "required" :
                [], "additionalProperties" : false, }
            )
        }
    }
}
#[automatically_derived]
impl ::gauntlet::Schema for DocumentPatch {}
#[automatically_derived]
impl ::gauntlet::__private::Writable for Document {
    type Patch = DocumentPatch;
    fn update_sqlite(
        __gauntlet_patch: DocumentPatch,
    ) -> ::core::option::Option<
        ::gauntlet::__private::sqlx::QueryBuilder<
            'static,
            ::gauntlet::__private::sqlx::Sqlite,
        >,
    > {
        let mut __gauntlet_query = ::gauntlet::__private::sqlx::QueryBuilder::new(
            "UPDATE \"documents\" SET ",
        );
        let mut __gauntlet_any = false;
        if let ::core::option::Option::Some(__gauntlet_value) = __gauntlet_patch.title {
            if __gauntlet_any {
                __gauntlet_query.push(", ");
            }
            __gauntlet_query.push("\"title\" = ");
            __gauntlet_query.push_bind(__gauntlet_value);
            __gauntlet_any = true;
        }
        if __gauntlet_any {
            ::core::option::Option::Some(__gauntlet_query)
        } else {
            ::core::option::Option::None
        }
    }
    fn update_postgres(
        __gauntlet_patch: DocumentPatch,
    ) -> ::core::option::Option<
        ::gauntlet::__private::sqlx::QueryBuilder<
            'static,
            ::gauntlet::__private::sqlx::Postgres,
        >,
    > {
        let mut __gauntlet_query = ::gauntlet::__private::sqlx::QueryBuilder::new(
            "UPDATE \"documents\" SET ",
        );
        let mut __gauntlet_any = false;
        if let ::core::option::Option::Some(__gauntlet_value) = __gauntlet_patch.title {
            if __gauntlet_any {
                __gauntlet_query.push(", ");
            }
            __gauntlet_query.push("\"title\" = ");
            __gauntlet_query.push_bind(__gauntlet_value);
            __gauntlet_any = true;
        }
        if __gauntlet_any {
            ::core::option::Option::Some(__gauntlet_query)
        } else {
            ::core::option::Option::None
        }
    }
}
