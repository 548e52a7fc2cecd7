//! The audit stage: one structured event per request, refused or not.
//!
//! Events go to the `gauntlet::audit` tracing target. They carry the route
//! template, never the raw path, and never a token, password or body.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use crate::auth::UserId;

/// The stage of the gauntlet that decided a request's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// TLS and the listener (1).
    Transport,
    /// Body size, content type, timeout (2).
    Limits,
    /// The per-address limit before authentication (3).
    ClientRateLimit,
    /// Token verification (4).
    Authentication,
    /// The route's named policy after authentication (5).
    CallerRateLimit,
    /// Path, query and body parsing and rules (6).
    Validation,
    /// Roles and object ownership (7).
    Authorization,
    /// The handler itself (8).
    Handler,
    /// No route matched the path or method.
    Routing,
}

impl Stage {
    /// The name used in audit events.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Transport => "transport",
            Stage::Limits => "limits",
            Stage::ClientRateLimit => "client_rate_limit",
            Stage::Authentication => "authentication",
            Stage::CallerRateLimit => "caller_rate_limit",
            Stage::Validation => "validation",
            Stage::Authorization => "authorization",
            Stage::Handler => "handler",
            Stage::Routing => "routing",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the audit stage records about one request.
#[derive(Debug, Clone)]
pub(crate) struct AuditEvent<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) method: &'a str,
    pub(crate) route: &'a str,
    pub(crate) client: IpAddr,
    pub(crate) caller: Option<UserId>,
    pub(crate) resource: Option<&'a str>,
    pub(crate) resource_id: Option<i64>,
    pub(crate) outcome: &'static str,
    pub(crate) stage: Stage,
    pub(crate) status: u16,
    pub(crate) latency: Duration,
}

impl AuditEvent<'_> {
    pub(crate) fn emit(&self) {
        tracing::info!(
            target: "gauntlet::audit",
            request_id = self.request_id,
            method = self.method,
            route = self.route,
            client = %self.client,
            caller = self.caller.map(UserId::get),
            resource = self.resource,
            resource_id = self.resource_id,
            outcome = self.outcome,
            stage = self.stage.as_str(),
            status = self.status,
            latency_us = u64::try_from(self.latency.as_micros()).unwrap_or(u64::MAX),
            "request audited"
        );
    }
}
