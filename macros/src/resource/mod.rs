//! `#[derive(Resource)]`.

mod expand;
mod model;

use darling::FromDeriveInput;

pub(crate) use expand::is_option;
use proc_macro2::TokenStream;
use syn::spanned::Spanned;

use crate::diagnostics::{suggestion, Errors};

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<syn::DeriveInput>(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };

    if let Err(error) = check_option_names(&input) {
        return error.to_compile_error();
    }

    let raw = match model::RawResource::from_derive_input(&input) {
        Ok(raw) => raw,
        Err(error) => return error.write_errors(),
    };
    let shape = expand::FallbackShape::of(&raw);
    match raw.check() {
        Ok(model) => expand::expand(&model),
        Err(error) => {
            let mut output = error.to_compile_error();
            output.extend(expand::fallback(&shape));
            output
        }
    }
}

const STRUCT_OPTIONS: [&str; 7] = [
    "table",
    "owner",
    "tenant",
    "version",
    "require_if_match",
    "creatable",
    "writable",
];
const FIELD_OPTIONS: [&str; 2] = ["id", "secret"];

/// Reports every unknown option name in `#[resource(...)]`, with the valid
/// names and the nearest one, before darling parses the values.
fn check_option_names(input: &syn::DeriveInput) -> Result<(), syn::Error> {
    let mut errors = Errors::default();
    check_attributes(&input.attrs, &STRUCT_OPTIONS, "on the struct", &mut errors);
    if let syn::Data::Struct(data) = &input.data {
        for field in &data.fields {
            check_attributes(&field.attrs, &FIELD_OPTIONS, "on a field", &mut errors);
        }
    }
    errors.finish()
}

fn check_attributes(attrs: &[syn::Attribute], valid: &[&str], place: &str, errors: &mut Errors) {
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("resource")) {
        // Malformed values are left to darling, which reports them.
        let _ = attr.parse_nested_meta(|option| {
            let name = option
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            if !valid.contains(&name.as_str()) {
                let listed: Vec<String> = valid.iter().map(|name| format!("`{name}`")).collect();
                errors.push(
                    option.path.span(),
                    format!(
                        "unknown `#[resource(...)]` option `{name}` {place}{}; the valid options there are {}",
                        suggestion(&name, valid.iter().copied()),
                        listed.join(", ")
                    ),
                );
            }
            // Skip the option's value so the next option can be read.
            if option.input.peek(syn::Token![=]) {
                let _: syn::Expr = option.value()?.parse()?;
            } else if option.input.peek(syn::token::Paren) {
                let _: proc_macro2::Group = option.input.parse()?;
            }
            Ok(())
        });
    }
}
