//! `#[derive(Resource)]`.

mod expand;
mod model;

use darling::FromDeriveInput;

pub(crate) use expand::is_option;
use proc_macro2::TokenStream;

pub(crate) fn derive(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<syn::DeriveInput>(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };

    let raw = match model::RawResource::from_derive_input(&input) {
        Ok(raw) => raw,
        Err(error) => return error.write_errors(),
    };
    match raw.check() {
        Ok(model) => expand::expand(&model),
        Err(error) => error.to_compile_error(),
    }
}
