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
    #[automatically_derived]
    impl ::gauntlet::__private::ResourceSql for Invoice {
        const NAME: &'static str = "Invoice";
        const TABLE: &'static str = "\"invoices\"";
        const ID_COLUMN: &'static str = "\"id\"";
        const OWNER_COLUMN: &'static str = "\"owner_id\"";
        const COLUMNS: &'static str = "\"id\", \"owner_id\", \"customer_name\", \"note\", \"due_date\", \"is_paid\", \"payment_reference\"";
        fn id(&self) -> i64 {
            ::gauntlet::__private::IdColumn::raw_id(&self.id)
        }
        fn from_sqlite_row(
            __gauntlet_row: &__gauntlet_sqlx::sqlite::SqliteRow,
        ) -> ::core::result::Result<Self, __gauntlet_sqlx::Error> {
            ::core::result::Result::Ok(Self {
                id: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "id")?,
                owner_id: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "owner_id")?,
                customer_name: __gauntlet_sqlx::Row::try_get(
                    __gauntlet_row,
                    "customer_name",
                )?,
                note: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "note")?,
                due_date: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "due_date")?,
                is_paid: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "is_paid")?,
                payment_reference: __gauntlet_sqlx::Row::try_get(
                    __gauntlet_row,
                    "payment_reference",
                )?,
            })
        }
        fn from_postgres_row(
            __gauntlet_row: &__gauntlet_sqlx::postgres::PgRow,
        ) -> ::core::result::Result<Self, __gauntlet_sqlx::Error> {
            ::core::result::Result::Ok(Self {
                id: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "id")?,
                owner_id: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "owner_id")?,
                customer_name: __gauntlet_sqlx::Row::try_get(
                    __gauntlet_row,
                    "customer_name",
                )?,
                note: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "note")?,
                due_date: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "due_date")?,
                is_paid: __gauntlet_sqlx::Row::try_get(__gauntlet_row, "is_paid")?,
                payment_reference: __gauntlet_sqlx::Row::try_get(
                    __gauntlet_row,
                    "payment_reference",
                )?,
            })
        }
        fn serialize_view<S: __gauntlet_serde::Serializer>(
            &self,
            __gauntlet_serializer: S,
        ) -> ::core::result::Result<S::Ok, S::Error> {
            let mut __gauntlet_state = __gauntlet_serde::Serializer::serialize_struct(
                __gauntlet_serializer,
                "Invoice",
                6usize,
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
                "customer_name",
                &self.customer_name,
            )?;
            __gauntlet_serde::ser::SerializeStruct::serialize_field(
                &mut __gauntlet_state,
                "note",
                &self.note,
            )?;
            __gauntlet_serde::ser::SerializeStruct::serialize_field(
                &mut __gauntlet_state,
                "due_date",
                &self.due_date,
            )?;
            __gauntlet_serde::ser::SerializeStruct::serialize_field(
                &mut __gauntlet_state,
                "is_paid",
                &self.is_paid,
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
                        .insert(
                            ::std::string::String::from("customer_name"),
                            __gauntlet_schema,
                        );
                }
                {
                    let mut __gauntlet_schema = <String as ::gauntlet::Describe>::json_schema();
                    __gauntlet_properties
                        .insert(::std::string::String::from("note"), __gauntlet_schema);
                }
                {
                    let mut __gauntlet_schema = <Date as ::gauntlet::Describe>::json_schema();
                    __gauntlet_properties
                        .insert(
                            ::std::string::String::from("due_date"),
                            __gauntlet_schema,
                        );
                }
                {
                    let mut __gauntlet_schema = <bool as ::gauntlet::Describe>::json_schema();
                    __gauntlet_properties
                        .insert(
                            ::std::string::String::from("is_paid"),
                            __gauntlet_schema,
                        );
                }
                ::gauntlet::__private::serde_json::json!(
                    { "type" : "object", "properties" : __gauntlet_properties, "required"
                    : ["id", "owner_id", "customer_name", "note", "due_date", "is_paid"],
                    "additionalProperties" : false, }
                )
            }
        }
    }
    #[automatically_derived]
    impl ::gauntlet::Resource for Invoice {}
};
///The body that creates a [`Invoice`]: only its `creatable` fields, with their `garde` rules; unknown fields are rejected.
#[derive(
    ::core::fmt::Debug,
    ::gauntlet::__private::serde::Deserialize,
    ::garde::Validate
)]
#[serde(crate = "::gauntlet::__private::serde", deny_unknown_fields)]
pub struct InvoiceCreate {
    #[garde(length(chars, min = 1, max = 200))]
    pub customer_name: String,
    #[garde(skip)]
    pub due_date: Date,
}
#[automatically_derived]
impl ::gauntlet::__private::SchemaSealed for InvoiceCreate {
    const NAME: &'static str = "InvoiceCreate";
    fn parse_json(body: &[u8]) -> ::core::result::Result<Self, ::gauntlet::ApiError> {
        ::gauntlet::__private::parse_json_body::<
            Self,
        >(body, &["customer_name", "due_date"], &["id", "owner_id", "note", "is_paid"])
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
                    .insert(
                        ::std::string::String::from("customer_name"),
                        __gauntlet_schema,
                    );
            }
            {
                let mut __gauntlet_schema = <Date as ::gauntlet::Describe>::json_schema();
                __gauntlet_properties
                    .insert(::std::string::String::from("due_date"), __gauntlet_schema);
            }
            ::gauntlet::__private::serde_json::json!(
                { "type" : "object", "properties" : __gauntlet_properties, "required" :
                ["customer_name", "due_date"], "additionalProperties" : false, }
            )
        }
    }
}
#[automatically_derived]
impl ::gauntlet::Schema for InvoiceCreate {}
#[automatically_derived]
impl ::gauntlet::__private::Creatable for Invoice {
    type Create = InvoiceCreate;
    fn insert_sqlite(
        __gauntlet_scope: i64,
        __gauntlet_body: InvoiceCreate,
    ) -> ::gauntlet::__private::sqlx::QueryBuilder<
        'static,
        ::gauntlet::__private::sqlx::Sqlite,
    > {
        let mut __gauntlet_query = ::gauntlet::__private::sqlx::QueryBuilder::new(
            "INSERT INTO \"invoices\" (\"owner_id\", \"customer_name\", \"due_date\") VALUES (",
        );
        {
            let mut __gauntlet_values = __gauntlet_query.separated(", ");
            __gauntlet_values.push_bind(__gauntlet_scope);
            __gauntlet_values.push_bind(__gauntlet_body.customer_name);
            __gauntlet_values.push_bind(__gauntlet_body.due_date);
        }
        __gauntlet_query
            .push(
                ") RETURNING \"id\", \"owner_id\", \"customer_name\", \"note\", \"due_date\", \"is_paid\", \"payment_reference\"",
            );
        __gauntlet_query
    }
    fn insert_postgres(
        __gauntlet_scope: i64,
        __gauntlet_body: InvoiceCreate,
    ) -> ::gauntlet::__private::sqlx::QueryBuilder<
        'static,
        ::gauntlet::__private::sqlx::Postgres,
    > {
        let mut __gauntlet_query = ::gauntlet::__private::sqlx::QueryBuilder::new(
            "INSERT INTO \"invoices\" (\"owner_id\", \"customer_name\", \"due_date\") VALUES (",
        );
        {
            let mut __gauntlet_values = __gauntlet_query.separated(", ");
            __gauntlet_values.push_bind(__gauntlet_scope);
            __gauntlet_values.push_bind(__gauntlet_body.customer_name);
            __gauntlet_values.push_bind(__gauntlet_body.due_date);
        }
        __gauntlet_query
            .push(
                ") RETURNING \"id\", \"owner_id\", \"customer_name\", \"note\", \"due_date\", \"is_paid\", \"payment_reference\"",
            );
        __gauntlet_query
    }
}
///The body that updates a [`Invoice`]: its `writable` fields, each optional, with their `garde` rules; unknown fields and `null` values are rejected.
#[derive(
    ::core::fmt::Debug,
    ::gauntlet::__private::serde::Deserialize,
    ::garde::Validate
)]
#[serde(crate = "::gauntlet::__private::serde", deny_unknown_fields)]
pub struct InvoicePatch {
    #[garde(length(chars, max = 2000))]
    #[serde(default, deserialize_with = "::gauntlet::__private::deserialize_present")]
    pub note: ::core::option::Option<String>,
    #[garde(skip)]
    #[serde(default, deserialize_with = "::gauntlet::__private::deserialize_present")]
    pub due_date: ::core::option::Option<Date>,
}
#[automatically_derived]
impl ::gauntlet::__private::SchemaSealed for InvoicePatch {
    const NAME: &'static str = "InvoicePatch";
    fn parse_json(body: &[u8]) -> ::core::result::Result<Self, ::gauntlet::ApiError> {
        ::gauntlet::__private::parse_json_body::<
            Self,
        >(body, &["note", "due_date"], &["id", "owner_id", "customer_name", "is_paid"])
    }
    fn json_schema() -> ::gauntlet::__private::serde_json::Value {
        {
            let mut __gauntlet_properties = ::gauntlet::__private::serde_json::Map::new();
            {
                let mut __gauntlet_schema = <String as ::gauntlet::Describe>::json_schema();
                ::gauntlet::__private::schema_length(
                    &mut __gauntlet_schema,
                    "chars",
                    ::core::option::Option::None,
                    ::core::option::Option::Some(
                        ::gauntlet::__private::serde_json::json!(2000),
                    ),
                );
                __gauntlet_properties
                    .insert(::std::string::String::from("note"), __gauntlet_schema);
            }
            {
                let mut __gauntlet_schema = <Date as ::gauntlet::Describe>::json_schema();
                __gauntlet_properties
                    .insert(::std::string::String::from("due_date"), __gauntlet_schema);
            }
            ::gauntlet::__private::serde_json::json!(
                { "type" : "object", "properties" : __gauntlet_properties, "required" :
                [], "additionalProperties" : false, }
            )
        }
    }
}
#[automatically_derived]
impl ::gauntlet::Schema for InvoicePatch {}
#[automatically_derived]
impl ::gauntlet::__private::Writable for Invoice {
    type Patch = InvoicePatch;
    fn update_sqlite(
        __gauntlet_patch: InvoicePatch,
    ) -> ::core::option::Option<
        ::gauntlet::__private::sqlx::QueryBuilder<
            'static,
            ::gauntlet::__private::sqlx::Sqlite,
        >,
    > {
        let mut __gauntlet_query = ::gauntlet::__private::sqlx::QueryBuilder::new(
            "UPDATE \"invoices\" SET ",
        );
        let mut __gauntlet_any = false;
        if let ::core::option::Option::Some(__gauntlet_value) = __gauntlet_patch.note {
            if __gauntlet_any {
                __gauntlet_query.push(", ");
            }
            __gauntlet_query.push("\"note\" = ");
            __gauntlet_query.push_bind(__gauntlet_value);
            __gauntlet_any = true;
        }
        if let ::core::option::Option::Some(__gauntlet_value) = __gauntlet_patch.due_date
        {
            if __gauntlet_any {
                __gauntlet_query.push(", ");
            }
            __gauntlet_query.push("\"due_date\" = ");
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
        __gauntlet_patch: InvoicePatch,
    ) -> ::core::option::Option<
        ::gauntlet::__private::sqlx::QueryBuilder<
            'static,
            ::gauntlet::__private::sqlx::Postgres,
        >,
    > {
        let mut __gauntlet_query = ::gauntlet::__private::sqlx::QueryBuilder::new(
            "UPDATE \"invoices\" SET ",
        );
        let mut __gauntlet_any = false;
        if let ::core::option::Option::Some(__gauntlet_value) = __gauntlet_patch.note {
            if __gauntlet_any {
                __gauntlet_query.push(", ");
            }
            __gauntlet_query.push("\"note\" = ");
            __gauntlet_query.push_bind(__gauntlet_value);
            __gauntlet_any = true;
        }
        if let ::core::option::Option::Some(__gauntlet_value) = __gauntlet_patch.due_date
        {
            if __gauntlet_any {
                __gauntlet_query.push(", ");
            }
            __gauntlet_query.push("\"due_date\" = ");
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
