//! `#[derive(Schema)]`: a request body type that rejects unknown fields and
//! carries a `garde` rule on every field.
//!
//! The derive cannot add `#[serde(deny_unknown_fields)]` to the user's
//! struct, so it parses into a private twin that has it and moves the
//! fields across.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

use crate::diagnostics::Errors;
use crate::openapi::{object_schema, Property};

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    match expand(&input) {
        Ok(output) => output,
        Err(error) => error.to_compile_error(),
    }
}

fn expand(input: &DeriveInput) -> Result<TokenStream, syn::Error> {
    let mut errors = Errors::default();
    let ident = &input.ident;

    if !input.generics.params.is_empty() {
        errors.push(input.generics.span(), "a schema cannot be generic");
    }
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => named.named.iter().collect::<Vec<_>>(),
            _ => {
                errors.push(ident.span(), "a schema must be a struct with named fields");
                Vec::new()
            }
        },
        _ => {
            errors.push(ident.span(), "a schema must be a struct with named fields");
            Vec::new()
        }
    };

    // The body's keys are exactly the field names. Each serde option that
    // changes that (`rename`, `alias`, `flatten`, `untagged`, `default`,
    // turning off `deny_unknown_fields`) can let an unlisted or disguised
    // key through, so none is accepted.
    let serde_attrs = input
        .attrs
        .iter()
        .chain(fields.iter().flat_map(|field| field.attrs.iter()))
        .filter(|attr| attr.path().is_ident("serde"));
    for attr in serde_attrs {
        errors.push(
            attr.path().span(),
            "a schema does not take `#[serde(...)]` options: its JSON keys are exactly its field names and unknown keys are rejected; rename the field itself instead, and make a field optional with `Option<T>`",
        );
    }

    for field in &fields {
        if let Some(ident) = crate::diagnostics::free_form_json(&field.ty) {
            errors.push(ident.span(), crate::diagnostics::FREE_FORM_MESSAGE);
        }
        if !field.attrs.iter().any(|attr| attr.path().is_ident("garde")) {
            let name = field
                .ident
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let span = field
                .ident
                .as_ref()
                .map_or(field.span(), |ident| ident.span());
            errors.push(
                span,
                format!(
                    "schema field `{name}` has no validation rule; add `#[garde(...)]`, or `#[garde(skip)]` to accept any value of its type"
                ),
            );
        }
    }
    errors.finish()?;

    let name = ident.to_string();
    let names: Vec<String> = fields
        .iter()
        .filter_map(|field| field.ident.as_ref().map(ToString::to_string))
        .collect();
    let wire_fields = fields.iter().map(|field| {
        let garde = field
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("garde"));
        let field_ident = &field.ident;
        let ty = &field.ty;
        quote! { #(#garde)* #field_ident: #ty }
    });
    let properties: Vec<Property<'_>> = fields
        .iter()
        .filter_map(|field| {
            Some(Property {
                name: field.ident.as_ref()?.to_string(),
                ty: &field.ty,
                garde: &field.attrs,
                required: !crate::resource::is_option(&field.ty),
            })
        })
        .collect();
    let json_schema = object_schema(&properties);
    let moves = fields.iter().map(|field| {
        let field_ident = &field.ident;
        quote! { #field_ident: __gauntlet_wire.#field_ident }
    });
    let clones = fields.iter().map(|field| {
        let field_ident = &field.ident;
        quote! { #field_ident: ::core::clone::Clone::clone(&self.#field_ident) }
    });

    // The user's struct cannot be given `deny_unknown_fields` or garde
    // attributes by a derive, so a private twin carries them: the struct
    // deserializes through the twin, and validates by checking a copy of
    // itself as the twin. Both impls make the struct usable as a nested
    // field of another schema (`#[garde(dive)] items: Vec<LineItemInput>`).
    Ok(quote! {
        const _: () = {
            #[derive(::gauntlet::__private::serde::Deserialize, ::garde::Validate)]
            #[serde(crate = "::gauntlet::__private::serde", deny_unknown_fields)]
            struct __GauntletWire {
                #(#wire_fields,)*
            }

            #[automatically_derived]
            impl<'de> ::gauntlet::__private::serde::Deserialize<'de> for #ident {
                fn deserialize<D>(deserializer: D) -> ::core::result::Result<Self, D::Error>
                where
                    D: ::gauntlet::__private::serde::Deserializer<'de>,
                {
                    let __gauntlet_wire = <__GauntletWire as ::gauntlet::__private::serde::Deserialize>::deserialize(deserializer)?;
                    ::core::result::Result::Ok(#ident {
                        #(#moves,)*
                    })
                }
            }

            #[automatically_derived]
            impl ::garde::Validate for #ident {
                type Context = ();

                fn validate_into(
                    &self,
                    __gauntlet_context: &Self::Context,
                    __gauntlet_parent: &mut dyn ::core::ops::FnMut() -> ::garde::Path,
                    __gauntlet_report: &mut ::garde::Report,
                ) {
                    let __gauntlet_wire = __GauntletWire {
                        #(#clones,)*
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
            impl ::gauntlet::Describe for #ident {
                fn json_schema() -> ::gauntlet::__private::serde_json::Value {
                    #json_schema
                }
            }

            #[automatically_derived]
            impl ::gauntlet::__private::SchemaSealed for #ident {
                const NAME: &'static str = #name;

                fn parse_json(body: &[u8]) -> ::core::result::Result<Self, ::gauntlet::ApiError> {
                    ::gauntlet::__private::parse_json_body::<Self>(body, &[#(#names),*], &[])
                }

                fn json_schema() -> ::gauntlet::__private::serde_json::Value {
                    <Self as ::gauntlet::Describe>::json_schema()
                }
            }

            #[automatically_derived]
            impl ::gauntlet::Schema for #ident {}
        };
    })
}
