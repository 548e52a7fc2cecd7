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
