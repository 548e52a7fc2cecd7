//! Compile-fail ("UI") tests of the macros. Each fixture under `ui/*/fail/`
//! must fail to compile with exactly the errors in its `.stderr` file. Each
//! fixture under `ui/*/pass/` must compile and run. See `ui/README.md`.

#[test]
fn ui() {
    // One `TestCases`, so all fixtures share one generated project and one
    // build of the dependencies. Because the set includes pass fixtures,
    // trybuild 1.0.122 then builds each fixture with its own `cargo build`.
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*/fail/*.rs");
    cases.pass("ui/*/pass/*.rs");
}
