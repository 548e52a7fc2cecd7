//! `#[derive(Role)]`: the application's roles as an enum of unit variants.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

use crate::diagnostics::Errors;

/// `AccountsPayable` becomes `accounts_payable`.
fn snake_case(name: &str) -> String {
    let mut snake = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            snake.push('_');
        }
        snake.push(c.to_ascii_lowercase());
    }
    snake
}

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let ident = &input.ident;
    let mut errors = Errors::default();

    let Data::Enum(data) = &input.data else {
        return syn::Error::new(
            ident.span(),
            "`Role` is derived for an enum of unit variants",
        )
        .to_compile_error();
    };
    if !input.generics.params.is_empty() {
        errors.push(input.generics.span(), "a role enum cannot be generic");
    }
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            errors.push(
                variant.fields.span(),
                "a role is a unit variant; move any data into the token's other claims",
            );
        }
    }
    if let Err(error) = errors.finish() {
        return error.to_compile_error();
    }

    let arms = data.variants.iter().map(|variant| {
        let variant_ident = &variant.ident;
        let name = snake_case(&variant_ident.to_string());
        quote! { #ident::#variant_ident => #name }
    });
    quote! {
        #[automatically_derived]
        impl ::gauntlet::Role for #ident {
            fn name(&self) -> &'static str {
                match self {
                    #(#arms,)*
                }
            }
        }
    }
}
