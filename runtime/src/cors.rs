//! CORS from an explicit list of exact origins.
//!
//! Only a listed origin is echoed back (with `Vary: Origin`); a wildcard,
//! `null`, or anything that is not exactly `scheme://host[:port]` is rejected
//! when the application is built. Credentials are not allowed: bearer tokens
//! travel in a header, so cookies are never needed cross-origin.

use std::fmt;
use std::time::Duration;

use http::{header, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// An origin in the allow-list that was rejected, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsConfigError {
    origin: String,
    reason: &'static str,
}

impl fmt::Display for CorsConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "allowed origin {:?} is rejected: {}; list exact origins such as `https://app.example.com`",
            self.origin, self.reason
        )
    }
}

impl std::error::Error for CorsConfigError {}

/// Checks that `origin` is exactly `http(s)://host[:port]` in lower case.
pub(crate) fn check_origin(origin: &str) -> Result<HeaderValue, CorsConfigError> {
    let reject = |reason| CorsConfigError {
        origin: origin.to_string(),
        reason,
    };

    if origin.contains('*') {
        return Err(reject("wildcards would let any site read responses"));
    }
    if origin == "null" {
        return Err(reject(
            "`null` is the origin of sandboxed and file pages, which anyone can create",
        ));
    }
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(|| reject("the scheme must be http or https"))?;
    if rest.is_empty() {
        return Err(reject("the host is missing"));
    }
    if rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(reject(
            "an origin has no path, query, fragment or user info",
        ));
    }
    if rest.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(reject("browsers send origins in lower case"));
    }
    if let Some((_, port)) = rest.rsplit_once(':') {
        if !rest.starts_with('[') || rest.contains("]:") {
            port.parse::<u16>()
                .map_err(|_| reject("the port is not a number from 0 to 65535"))?;
        }
    }
    HeaderValue::from_str(origin).map_err(|_| reject("it is not a valid header value"))
}

pub(crate) fn layer(origins: Vec<HeaderValue>, methods: Vec<Method>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods(methods)
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
        .allow_credentials(false)
        .max_age(Duration::from_secs(600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_origins_are_accepted() {
        for origin in [
            "http://localhost:5173",
            "https://app.example.com",
            "https://[::1]:8443",
        ] {
            assert!(check_origin(origin).is_ok(), "rejected {origin}");
        }
    }

    #[test]
    fn wildcards_null_and_paths_are_rejected() {
        for origin in [
            "*",
            "https://*.example.com",
            "null",
            "ftp://example.com",
            "https://example.com/",
            "https://example.com/app",
            "https://user@example.com",
            "https://Example.com",
            "https://example.com:99999",
            "example.com",
        ] {
            assert!(check_origin(origin).is_err(), "accepted {origin}");
        }
    }
}
