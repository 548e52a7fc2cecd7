//! Code generation for `#[derive(Resource)]` from a checked [`ResourceModel`].

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::model::{Field, ResourceModel};
use crate::openapi::{object_schema, Property};

/// Returns whether `ty` is written as `Option<...>`, which serde lets a body
/// omit.
pub(crate) fn is_option(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(path) => path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Option"),
        _ => false,
    }
}

fn quoted(name: &str) -> String {
    format!("\"{name}\"")
}

pub(crate) fn expand(model: &ResourceModel) -> TokenStream {
    let ident = &model.ident;
    let name = ident.to_string();
    let table = quoted(&model.table);
    let id_column = quoted(&model.id_field().name());
    let owner_column = quoted(&model.owner_field().name());
    let columns = model
        .fields
        .iter()
        .map(|field| quoted(&field.name()))
        .collect::<Vec<_>>()
        .join(", ");
    let id_ident = &model.id_field().ident;

    let decode_fields: Vec<TokenStream> = model
        .fields
        .iter()
        .map(|field| {
            let field_ident = &field.ident;
            let column = field.name();
            quote! { #field_ident: __gauntlet_sqlx::Row::try_get(__gauntlet_row, #column)? }
        })
        .collect();

    let view_fields: Vec<&Field> = model.fields.iter().filter(|field| !field.secret).collect();
    let view_len = view_fields.len();
    let serialize_fields = view_fields.iter().map(|field| {
        let field_ident = &field.ident;
        let key = field.name();
        quote! {
            __gauntlet_serde::ser::SerializeStruct::serialize_field(&mut __gauntlet_state, #key, &self.#field_ident)?;
        }
    });

    let view_properties: Vec<Property<'_>> = view_fields
        .iter()
        .map(|field| Property {
            name: field.name(),
            ty: &field.ty,
            garde: &[],
            required: true,
        })
        .collect();
    let view_schema = object_schema(&view_properties);

    let owner_ty = &model.owner_field().ty;
    let owner_check = if model.tenant {
        quote_spanned! {owner_ty.span()=>
            const _: fn() = || {
                fn __gauntlet_tenant_column<T: ?::core::marker::Sized + ::gauntlet::__private::TenantColumn>() {}
                __gauntlet_tenant_column::<#owner_ty>();
            };
        }
    } else {
        quote_spanned! {owner_ty.span()=>
            const _: fn() = || {
                fn __gauntlet_owner_column<T: ?::core::marker::Sized + ::gauntlet::__private::OwnerColumn>() {}
                __gauntlet_owner_column::<#owner_ty>();
            };
        }
    };
    let scope_kind = if model.tenant {
        quote!(
            const SCOPE: ::gauntlet::__private::ScopeKind =
                ::gauntlet::__private::ScopeKind::Tenant;
        )
    } else {
        quote!()
    };
    let id_ty = &model.id_field().ty;
    let id_check = quote_spanned! {id_ty.span()=>
        const _: fn() = || {
            fn __gauntlet_id_column<T: ?::core::marker::Sized + ::gauntlet::__private::IdColumn>() {}
            __gauntlet_id_column::<#id_ty>();
        };
    };

    let version = model.version_field().map(|field| {
        let column = quoted(&field.name());
        let field_ident = &field.ident;
        let ty = &field.ty;
        let require = model.require_if_match;
        // Spanned at the field's type, so a wrong type is reported there
        // once rather than a second time at the derive.
        let raw_version = quote_spanned! {ty.span()=>
            ::gauntlet::__private::VersionColumn::raw_version(&self.#field_ident)
        };
        let check = quote_spanned! {ty.span()=>
            const _: fn() = || {
                fn __gauntlet_version_column<T: ?::core::marker::Sized + ::gauntlet::__private::VersionColumn>() {}
                __gauntlet_version_column::<#ty>();
            };
        };
        let items = quote! {
            const VERSION_COLUMN: ::core::option::Option<&'static str> =
                ::core::option::Option::Some(#column);
            const REQUIRE_IF_MATCH: bool = #require;

            fn version(&self) -> ::core::option::Option<i64> {
                ::core::option::Option::Some(#raw_version)
            }
        };
        (check, items)
    });
    let (version_check, version_items) = version.unzip();

    let create = (!model.creatable.is_empty()).then(|| expand_create(model));
    let patch = (!model.writable.is_empty()).then(|| expand_patch(model));

    quote! {
        const _: () = {
            use ::gauntlet::__private::serde as __gauntlet_serde;
            use ::gauntlet::__private::sqlx as __gauntlet_sqlx;

            #owner_check
            #id_check
            #version_check

            #[automatically_derived]
            impl ::gauntlet::__private::ResourceSql for #ident {
                const NAME: &'static str = #name;
                const TABLE: &'static str = #table;
                const ID_COLUMN: &'static str = #id_column;
                const OWNER_COLUMN: &'static str = #owner_column;
                const COLUMNS: &'static str = #columns;
                #scope_kind
                #version_items

                fn id(&self) -> i64 {
                    ::gauntlet::__private::IdColumn::raw_id(&self.#id_ident)
                }

                fn from_sqlite_row(
                    __gauntlet_row: &__gauntlet_sqlx::sqlite::SqliteRow,
                ) -> ::core::result::Result<Self, __gauntlet_sqlx::Error> {
                    ::core::result::Result::Ok(Self {
                        #(#decode_fields,)*
                    })
                }

                fn from_postgres_row(
                    __gauntlet_row: &__gauntlet_sqlx::postgres::PgRow,
                ) -> ::core::result::Result<Self, __gauntlet_sqlx::Error> {
                    ::core::result::Result::Ok(Self {
                        #(#decode_fields,)*
                    })
                }

                fn serialize_view<S: __gauntlet_serde::Serializer>(
                    &self,
                    __gauntlet_serializer: S,
                ) -> ::core::result::Result<S::Ok, S::Error> {
                    let mut __gauntlet_state = __gauntlet_serde::Serializer::serialize_struct(
                        __gauntlet_serializer,
                        #name,
                        #view_len,
                    )?;
                    #(#serialize_fields)*
                    __gauntlet_serde::ser::SerializeStruct::end(__gauntlet_state)
                }

                fn view_schema() -> ::gauntlet::__private::serde_json::Value {
                    #view_schema
                }
            }

            #[automatically_derived]
            impl ::gauntlet::Resource for #ident {}
        };

        #create
        #patch
    }
}

/// Generates a schema struct and its `Schema` impls, for create and patch alike.
fn schema_struct(
    model: &ResourceModel,
    schema: &syn::Ident,
    doc: &str,
    fields: &[TokenStream],
    properties: &[Property<'_>],
) -> TokenStream {
    let names: Vec<&String> = properties.iter().map(|property| &property.name).collect();
    // The resource's other non-secret fields. A body that tries to set one
    // gets its name back, because these names are public in the response view.
    let readonly: Vec<String> = model
        .fields
        .iter()
        .filter(|field| !field.secret)
        .map(Field::name)
        .filter(|name| !names.contains(&name))
        .collect();
    let json_schema = object_schema(properties);
    let vis = &model.vis;
    let schema_name = schema.to_string();
    quote! {
        #[doc = #doc]
        #[derive(::core::fmt::Debug, ::gauntlet::__private::serde::Deserialize, ::garde::Validate)]
        #[serde(crate = "::gauntlet::__private::serde", deny_unknown_fields)]
        #vis struct #schema {
            #(#fields,)*
        }

        #[automatically_derived]
        impl ::gauntlet::__private::SchemaSealed for #schema {
            const NAME: &'static str = #schema_name;

            fn parse_json(body: &[u8]) -> ::core::result::Result<Self, ::gauntlet::ApiError> {
                ::gauntlet::__private::parse_json_body::<Self>(body, &[#(#names),*], &[#(#readonly),*])
            }

            fn json_schema() -> ::gauntlet::__private::serde_json::Value {
                #json_schema
            }
        }

        #[automatically_derived]
        impl ::gauntlet::Schema for #schema {}
    }
}

fn expand_create(model: &ResourceModel) -> TokenStream {
    let ident = &model.ident;
    let schema = format_ident!("{}Create", ident);
    let chosen: Vec<&Field> = model
        .creatable
        .iter()
        .map(|index| &model.fields[*index])
        .collect();
    let names: Vec<String> = chosen.iter().map(|field| field.name()).collect();

    let fields: Vec<TokenStream> = chosen
        .iter()
        .map(|field| {
            let garde = &field.garde;
            let field_ident = &field.ident;
            let ty = &field.ty;
            quote! { #(#garde)* pub #field_ident: #ty }
        })
        .collect();
    let doc = format!(
        "The body that creates a [`{ident}`]: only its `creatable` fields, with their `garde` rules; unknown fields are rejected."
    );
    let properties: Vec<Property<'_>> = chosen
        .iter()
        .map(|field| Property {
            name: field.name(),
            ty: &field.ty,
            garde: &field.garde,
            required: !is_option(&field.ty),
        })
        .collect();
    let schema_item = schema_struct(model, &schema, &doc, &fields, &properties);

    let insert_columns = std::iter::once(model.owner_field().name())
        .chain(names.iter().cloned())
        .map(|name| quoted(&name))
        .collect::<Vec<_>>()
        .join(", ");
    let prefix = format!(
        "INSERT INTO {} ({insert_columns}) VALUES (",
        quoted(&model.table)
    );
    let returning = format!(
        ") RETURNING {}",
        model
            .fields
            .iter()
            .map(|field| quoted(&field.name()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let binds = chosen.iter().map(|field| {
        let field_ident = &field.ident;
        quote! { __gauntlet_values.push_bind(__gauntlet_body.#field_ident); }
    });
    let insert_body = quote! {
        let mut __gauntlet_query = ::gauntlet::__private::sqlx::QueryBuilder::new(#prefix);
        {
            let mut __gauntlet_values = __gauntlet_query.separated(", ");
            __gauntlet_values.push_bind(__gauntlet_scope);
            #(#binds)*
        }
        __gauntlet_query.push(#returning);
        __gauntlet_query
    };

    quote! {
        #schema_item

        #[automatically_derived]
        impl ::gauntlet::__private::Creatable for #ident {
            type Create = #schema;

            fn insert_sqlite(
                __gauntlet_scope: i64,
                __gauntlet_body: #schema,
            ) -> ::gauntlet::__private::sqlx::QueryBuilder<'static, ::gauntlet::__private::sqlx::Sqlite> {
                #insert_body
            }

            fn insert_postgres(
                __gauntlet_scope: i64,
                __gauntlet_body: #schema,
            ) -> ::gauntlet::__private::sqlx::QueryBuilder<'static, ::gauntlet::__private::sqlx::Postgres> {
                #insert_body
            }
        }
    }
}

fn expand_patch(model: &ResourceModel) -> TokenStream {
    let ident = &model.ident;
    let schema = format_ident!("{}Patch", ident);
    let chosen: Vec<&Field> = model
        .writable
        .iter()
        .map(|index| &model.fields[*index])
        .collect();
    let fields: Vec<TokenStream> = chosen
        .iter()
        .map(|field| {
            let garde = &field.garde;
            let field_ident = &field.ident;
            let ty = &field.ty;
            quote! {
                #(#garde)*
                #[serde(default, deserialize_with = "::gauntlet::__private::deserialize_present")]
                pub #field_ident: ::core::option::Option<#ty>
            }
        })
        .collect();
    let doc = format!(
        "The body that updates a [`{ident}`]: its `writable` fields, each optional, with their `garde` rules; unknown fields and `null` values are rejected."
    );
    let properties: Vec<Property<'_>> = chosen
        .iter()
        .map(|field| Property {
            name: field.name(),
            ty: &field.ty,
            garde: &field.garde,
            required: false,
        })
        .collect();
    let schema_item = schema_struct(model, &schema, &doc, &fields, &properties);

    let prefix = format!("UPDATE {} SET ", quoted(&model.table));
    let assignments: Vec<TokenStream> = chosen.iter().map(|field| {
        let field_ident = &field.ident;
        let assignment = format!("{} = ", quoted(&field.name()));
        quote! {
            if let ::core::option::Option::Some(__gauntlet_value) = __gauntlet_patch.#field_ident {
                if __gauntlet_any {
                    __gauntlet_query.push(", ");
                }
                __gauntlet_query.push(#assignment);
                __gauntlet_query.push_bind(__gauntlet_value);
                __gauntlet_any = true;
            }
        }
    }).collect();
    let update_body = quote! {
        let mut __gauntlet_query = ::gauntlet::__private::sqlx::QueryBuilder::new(#prefix);
        let mut __gauntlet_any = false;
        #(#assignments)*
        if __gauntlet_any {
            ::core::option::Option::Some(__gauntlet_query)
        } else {
            ::core::option::Option::None
        }
    };

    quote! {
        #schema_item

        #[automatically_derived]
        impl ::gauntlet::__private::Writable for #ident {
            type Patch = #schema;

            fn update_sqlite(
                __gauntlet_patch: #schema,
            ) -> ::core::option::Option<
                ::gauntlet::__private::sqlx::QueryBuilder<'static, ::gauntlet::__private::sqlx::Sqlite>,
            > {
                #update_body
            }

            fn update_postgres(
                __gauntlet_patch: #schema,
            ) -> ::core::option::Option<
                ::gauntlet::__private::sqlx::QueryBuilder<'static, ::gauntlet::__private::sqlx::Postgres>,
            > {
                #update_body
            }
        }
    }
}

/// The parts of a resource that the fallback needs when its attributes
/// failed a check.
pub(crate) struct FallbackShape {
    ident: syn::Ident,
    vis: syn::Visibility,
    creatable: bool,
    writable: bool,
}

impl FallbackShape {
    pub(crate) fn of(raw: &super::model::RawResource) -> Self {
        FallbackShape {
            ident: raw.ident().clone(),
            vis: raw.vis().clone(),
            creatable: raw.has_creatable(),
            writable: raw.has_writable(),
        }
    }
}

/// Placeholder impls for a resource whose attributes have errors, so that
/// code using it (`crud::<Invoice>`, `InvoicePatch`) does not add follow-on
/// errors to the real one. The crate does not compile while the error
/// remains, so these bodies never run.
pub(crate) fn fallback(shape: &FallbackShape) -> TokenStream {
    let ident = &shape.ident;
    let vis = &shape.vis;
    let name = ident.to_string();

    let schema =
        |schema: &syn::Ident, kind: TokenStream, assoc: TokenStream, method: TokenStream| {
            let schema_name = schema.to_string();
            quote! {
                #[derive(::core::fmt::Debug)]
                #vis struct #schema {}

                impl ::gauntlet::__private::SchemaSealed for #schema {
                    const NAME: &'static str = #schema_name;
                    fn parse_json(_: &[u8]) -> ::core::result::Result<Self, ::gauntlet::ApiError> {
                        ::core::unreachable!()
                    }
                    fn json_schema() -> ::gauntlet::__private::serde_json::Value {
                        ::core::unreachable!()
                    }
                }

                impl ::gauntlet::Schema for #schema {}

                impl #kind for #ident {
                    type #assoc = #schema;
                    #method
                }
            }
        };

    let create = shape.creatable.then(|| {
        schema(
            &format_ident!("{}Create", ident),
            quote!(::gauntlet::__private::Creatable),
            quote!(Create),
            quote! {
                fn insert_sqlite(
                    _: i64,
                    _: Self::Create,
                ) -> ::gauntlet::__private::sqlx::QueryBuilder<'static, ::gauntlet::__private::sqlx::Sqlite> {
                    ::core::unreachable!()
                }

                fn insert_postgres(
                    _: i64,
                    _: Self::Create,
                ) -> ::gauntlet::__private::sqlx::QueryBuilder<'static, ::gauntlet::__private::sqlx::Postgres> {
                    ::core::unreachable!()
                }
            },
        )
    });
    let patch = shape.writable.then(|| {
        schema(
            &format_ident!("{}Patch", ident),
            quote!(::gauntlet::__private::Writable),
            quote!(Patch),
            quote! {
                fn update_sqlite(
                    _: Self::Patch,
                ) -> ::core::option::Option<::gauntlet::__private::sqlx::QueryBuilder<'static, ::gauntlet::__private::sqlx::Sqlite>> {
                    ::core::unreachable!()
                }

                fn update_postgres(
                    _: Self::Patch,
                ) -> ::core::option::Option<::gauntlet::__private::sqlx::QueryBuilder<'static, ::gauntlet::__private::sqlx::Postgres>> {
                    ::core::unreachable!()
                }
            },
        )
    });

    quote! {
        impl ::gauntlet::__private::ResourceSql for #ident {
            const NAME: &'static str = #name;
            const TABLE: &'static str = "";
            const ID_COLUMN: &'static str = "";
            const OWNER_COLUMN: &'static str = "";
            const COLUMNS: &'static str = "";

            fn id(&self) -> i64 {
                ::core::unreachable!()
            }

            fn from_sqlite_row(
                _: &::gauntlet::__private::sqlx::sqlite::SqliteRow,
            ) -> ::core::result::Result<Self, ::gauntlet::__private::sqlx::Error> {
                ::core::unreachable!()
            }

            fn from_postgres_row(
                _: &::gauntlet::__private::sqlx::postgres::PgRow,
            ) -> ::core::result::Result<Self, ::gauntlet::__private::sqlx::Error> {
                ::core::unreachable!()
            }

            fn serialize_view<S: ::gauntlet::__private::serde::Serializer>(
                &self,
                _: S,
            ) -> ::core::result::Result<S::Ok, S::Error> {
                ::core::unreachable!()
            }

            fn view_schema() -> ::gauntlet::__private::serde_json::Value {
                ::core::unreachable!()
            }
        }

        impl ::gauntlet::Resource for #ident {}

        #create
        #patch
    }
}
