//! JSON Schema generation for the OpenAPI document: field types through
//! `gauntlet::Describe`, and the garde rules that JSON Schema can express.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Expr, Type};

/// Code that mutates `__gauntlet_schema` (a `serde_json::Value`) to carry
/// the garde rules of `attrs`. Rules JSON Schema cannot express, and rules
/// this function does not recognise, leave the schema as it is.
pub(crate) fn garde_constraints(attrs: &[Attribute]) -> TokenStream {
    let mut statements = Vec::new();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("garde")) {
        // Parse failures are left to garde's own derive, which reports them.
        let _ = attr.parse_nested_meta(|rule| {
            let Some(name) = rule.path.get_ident().map(ToString::to_string) else {
                return skip_rest(&rule);
            };
            match name.as_str() {
                "length" | "range" => {
                    let mut mode = String::from("simple");
                    let mut min: Option<Expr> = None;
                    let mut max: Option<Expr> = None;
                    if rule.input.peek(syn::token::Paren) {
                        rule.parse_nested_meta(|bound| {
                            if bound.path.is_ident("min") {
                                min = Some(bound.value()?.parse()?);
                            } else if bound.path.is_ident("max") {
                                max = Some(bound.value()?.parse()?);
                            } else if let Some(flag) = bound.path.get_ident() {
                                mode = flag.to_string();
                                skip_rest(&bound)?;
                            }
                            Ok(())
                        })?;
                    }
                    let min = option_tokens(min);
                    let max = option_tokens(max);
                    if name == "length" {
                        statements.push(quote! {
                            ::gauntlet::__private::schema_length(&mut __gauntlet_schema, #mode, #min, #max);
                        });
                    } else {
                        statements.push(quote! {
                            ::gauntlet::__private::schema_range(&mut __gauntlet_schema, #min, #max);
                        });
                    }
                    Ok(())
                }
                "email" => {
                    statements.push(quote! {
                        ::gauntlet::__private::schema_format(&mut __gauntlet_schema, "email");
                    });
                    Ok(())
                }
                "ascii" => {
                    statements.push(quote! {
                        ::gauntlet::__private::schema_pattern(&mut __gauntlet_schema, "^[\\x00-\\x7F]*$");
                    });
                    Ok(())
                }
                _ => skip_rest(&rule),
            }
        });
    }
    quote! { #(#statements)* }
}

/// Consumes whatever follows a rule name: `= value` or `(...)`.
fn skip_rest(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _: proc_macro2::Group = meta.input.parse()?;
    }
    Ok(())
}

fn option_tokens(expr: Option<Expr>) -> TokenStream {
    match expr {
        Some(expr) => quote!(::core::option::Option::Some(
            ::gauntlet::__private::serde_json::json!(#expr)
        )),
        None => quote!(::core::option::Option::None),
    }
}

/// One property of an object schema.
pub(crate) struct Property<'a> {
    pub(crate) name: String,
    pub(crate) ty: &'a Type,
    pub(crate) garde: &'a [Attribute],
    pub(crate) required: bool,
}

/// An expression that evaluates to the object schema of `properties`,
/// closed with `additionalProperties: false`.
pub(crate) fn object_schema(properties: &[Property<'_>]) -> TokenStream {
    let inserts = properties.iter().map(|property| {
        let name = &property.name;
        let ty = property.ty;
        let constraints = garde_constraints(property.garde);
        quote! {
            {
                let mut __gauntlet_schema = <#ty as ::gauntlet::Describe>::json_schema();
                #constraints
                __gauntlet_properties.insert(::std::string::String::from(#name), __gauntlet_schema);
            }
        }
    });
    let required = properties
        .iter()
        .filter(|property| property.required)
        .map(|property| property.name.clone());
    quote! {
        {
            let mut __gauntlet_properties = ::gauntlet::__private::serde_json::Map::new();
            #(#inserts)*
            ::gauntlet::__private::serde_json::json!({
                "type": "object",
                "properties": __gauntlet_properties,
                "required": [#(#required),*],
                "additionalProperties": false,
            })
        }
    }
}
