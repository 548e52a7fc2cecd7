//! The invoices service: Gauntlet's flagship example, as a library so that
//! the binary, the demo and the tests share it.

pub mod demo;
pub mod model;
pub mod rate_limits;
pub mod routes;
pub mod seed;
pub mod service;
pub mod transport;
