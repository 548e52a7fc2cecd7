//! The `scoped_query!` checker on arbitrary statements.
//!
//! A proc-macro crate cannot be linked into another program, so this target
//! compiles the macro's checking modules (`macros/src/query/{check, model,
//! scope, text}.rs`, which use only sqlparser) into itself. The checker runs
//! at compile time, so a panic in it crashes the user's build. For any input
//! it must return an accepted statement or a list of errors.

#![no_main]

use libfuzzer_sys::fuzz_target;

// The expansion uses the items that this target leaves unused.
#[allow(dead_code)]
#[path = "../../../macros/src/query/check.rs"]
mod check;
#[allow(dead_code)]
#[path = "../../../macros/src/query/model.rs"]
mod model;
#[allow(dead_code)]
#[path = "../../../macros/src/query/scope.rs"]
mod scope;
#[allow(dead_code)]
#[path = "../../../macros/src/query/text.rs"]
mod text;

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };

    // An empty list would make the macro expand to nothing, with no error.
    if let Err(errors) = check::check(sql) {
        assert!(!errors.is_empty(), "rejected {sql:?} without saying why");
    }
});
