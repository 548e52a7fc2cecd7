//! Doctests of the user guide in `book/src`.
//!
//! Each chapter is the documentation of one module below, so `cargo test`
//! compiles (and, unless marked `no_run`, runs) every `rust` code block in
//! it. Blocks that only `{{#include}}` code from the repository are marked
//! `ignore`: the included file is compiled where it lives, and
//! `tests/includes.rs` checks that the file and its anchor exist.
//! `tests/includes.rs` also checks that every chapter is listed here.

#[doc = include_str!("../../src/introduction.md")]
pub mod introduction {}

#[doc = include_str!("../../src/getting-started.md")]
pub mod getting_started {}

#[doc = include_str!("../../src/stages.md")]
pub mod stages {}

/// The chapters of the stages, one module each.
pub mod stage {
    #[doc = include_str!("../../src/stages/transport.md")]
    pub mod transport {}

    #[doc = include_str!("../../src/stages/request-limits.md")]
    pub mod request_limits {}

    #[doc = include_str!("../../src/stages/rate-limits.md")]
    pub mod rate_limits {}

    #[doc = include_str!("../../src/stages/authentication.md")]
    pub mod authentication {}

    #[doc = include_str!("../../src/stages/validation.md")]
    pub mod validation {}

    #[doc = include_str!("../../src/stages/authorization.md")]
    pub mod authorization {}

    #[doc = include_str!("../../src/stages/errors.md")]
    pub mod errors {}

    #[doc = include_str!("../../src/stages/audit.md")]
    pub mod audit {}
}

#[doc = include_str!("../../src/reference.md")]
pub mod reference {
    #[doc = include_str!("../../src/reference/macros.md")]
    pub mod macros {}

    #[doc = include_str!("../../src/reference/configuration.md")]
    pub mod configuration {}

    #[doc = include_str!("../../src/reference/handlers.md")]
    pub mod handlers {}
}

#[doc = include_str!("../../src/compile-errors.md")]
pub mod compile_errors {}

#[doc = include_str!("../../src/threat-model.md")]
pub mod threat_model {}

#[doc = include_str!("../../src/deployment.md")]
pub mod deployment {}

#[doc = include_str!("../../src/concurrency.md")]
pub mod concurrency {}

#[doc = include_str!("../../src/limitations.md")]
pub mod limitations {}
