//! Compile-fail ("UI") tests of the macros: each fixture under `ui/*/fail/`
//! must fail to compile with exactly the errors in its `.stderr` file, and
//! each fixture under `ui/*/pass/` must compile and run. See `ui/README.md`.

#[test]
fn ui() {
    // One `TestCases` builds every fixture in one Cargo run.
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*/fail/*.rs");
    cases.pass("ui/*/pass/*.rs");
}
