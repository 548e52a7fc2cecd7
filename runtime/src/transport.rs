//! The transport stage: the accept loop, TLS, the plain listener that only
//! redirects, and the connection limits that apply before a request exists.
//!
//! Each connection is served by hyper's HTTP/1 server with a header-read
//! timeout, so a client that sends its request line and headers slowly
//! (slowloris) is disconnected. Over TLS every response carries
//! `Strict-Transport-Security`. On shutdown the listeners close first, open
//! connections finish their in-flight request and close, and whatever is
//! still open when the grace period ends is dropped.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use axum::Router;
use http::{header, HeaderValue, Request, StatusCode, Uri};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt as _;

use crate::app::App;
use crate::tls::TlsConfig;

/// The default time a client has to send a request's line and headers,
/// counted from the moment the server starts reading them. It also bounds
/// the TLS handshake and how long an idle keep-alive connection stays open.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The default time in-flight requests get to finish after shutdown starts.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The `Strict-Transport-Security` value sent over TLS: one year, this host
/// only, because subdomains may be served by something else.
pub const HSTS: &str = "max-age=31536000";

/// The host (and port, when not 443) that redirects point to, taken from
/// configuration and never from a request's `Host` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicHost(String);

/// A public host that cannot be used in a redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicHostError {
    host: String,
    reason: &'static str,
}

impl fmt::Display for PublicHostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "public host {:?} is invalid: {}; give a host name with an optional port, such as `api.example.com` or `localhost:8443`",
            self.host, self.reason
        )
    }
}

impl std::error::Error for PublicHostError {}

impl PublicHost {
    /// Checks that `host` is `name[:port]` or `[ipv6][:port]`, with no
    /// scheme, path, user info or other character that could change where
    /// the redirect leads.
    pub fn parse(host: &str) -> Result<Self, PublicHostError> {
        let reject = |reason| PublicHostError {
            host: host.to_string(),
            reason,
        };

        if host.is_empty() {
            return Err(reject("it is empty"));
        }
        if host.contains("://") {
            return Err(reject("it has a scheme; https is implied"));
        }
        let allowed =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
        if !host.chars().all(allowed) {
            return Err(reject(
                "it may contain only letters, digits, `.`, `-`, `:` and the brackets of an IPv6 address",
            ));
        }
        let authority: http::uri::Authority = host
            .parse()
            .map_err(|_| reject("it is not a valid URI authority"))?;
        if authority.host().is_empty() {
            return Err(reject("the host name is missing"));
        }
        if host.ends_with(':') {
            return Err(reject("the port is empty"));
        }
        Ok(PublicHost(host.to_string()))
    }

    /// Returns the host as configured.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PublicHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Serves an [`App`] over TLS or, for local development, plain HTTP, with
/// an optional plain listener that only redirects to https. Made by
/// [`App::server`].
#[derive(Debug)]
pub struct Server {
    app: App,
    tls: Option<TlsConfig>,
    redirect: Option<(TcpListener, PublicHost)>,
    insecure_http: bool,
    header_read_timeout: Duration,
    shutdown_grace: Duration,
}

impl App {
    /// Starts the configuration of the server for this application:
    /// plain HTTP on loopback until [`Server::tls`] is given.
    pub fn server(self) -> Server {
        Server {
            app: self,
            tls: None,
            redirect: None,
            insecure_http: false,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// The service a listener runs on each connection.
#[derive(Clone)]
enum Endpoint {
    /// The application, over TLS when an acceptor is set.
    App {
        router: Router,
        tls: Option<tokio_rustls::TlsAcceptor>,
    },
    /// Only `308 Permanent Redirect` to `https://{host}{path and query}`.
    Redirect(Arc<PublicHost>),
}

impl Server {
    /// Serves the application over TLS with this certificate and key.
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Also accepts plain HTTP on `listener`, and responds to every request
    /// with `308` to `https://{public_host}` plus the request's path and query.
    /// No request on it reaches the application.
    pub fn redirect_plain(mut self, listener: TcpListener, public_host: PublicHost) -> Self {
        self.redirect = Some((listener, public_host));
        self
    }

    /// Allows plain HTTP on an address that is not loopback. Tokens and
    /// data then cross the network unencrypted, so use it only behind a
    /// proxy that terminates TLS on the same host.
    pub fn insecure_http(mut self) -> Self {
        self.insecure_http = true;
        self
    }

    /// Bounds how long a client may take to send a request's line and
    /// headers, and the TLS handshake; the connection is closed after it.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Bounds how long in-flight requests may run after shutdown starts.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Serves on `listener` until `shutdown` completes, then stops
    /// accepting, lets in-flight requests finish within the grace period,
    /// and returns.
    ///
    /// Fails at once when asked to speak plain HTTP on an address that is
    /// not loopback without [`Server::insecure_http`].
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let local = listener.local_addr()?;
        if self.tls.is_none() && !local.ip().is_loopback() && !self.insecure_http {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "refusing to serve plain HTTP on {local}, which is not a loopback address; configure TLS, listen on a loopback address, or allow it with `insecure_http`"
                ),
            ));
        }
        if let Some(tls) = &self.tls {
            if tls.is_self_signed() {
                tracing::warn!(
                    %local,
                    "serving TLS with a self-signed certificate generated at start; clients will not trust it, so use it for local development only"
                );
            }
        }

        let endpoint = Endpoint::App {
            router: self.app.router(),
            tls: self.tls.as_ref().map(TlsConfig::acceptor),
        };
        let (redirect_listener, redirect_endpoint) = match self.redirect {
            Some((listener, host)) => {
                tracing::info!(
                    addr = %listener.local_addr()?,
                    public_host = %host,
                    "plain HTTP listener redirects every request to https"
                );
                (Some(listener), Some(Endpoint::Redirect(Arc::new(host))))
            }
            None => (None, None),
        };

        let settings = Arc::new(ConnectionSettings {
            header_read_timeout: self.header_read_timeout,
        });
        let (stop, stopped) = watch::channel(false);
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);

        loop {
            let (accepted, endpoint) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => (accepted, &endpoint),
                accepted = accept_if_any(redirect_listener.as_ref()) => {
                    let Some(redirect) = redirect_endpoint.as_ref() else { continue };
                    (accepted, redirect)
                }
            };
            while connections.try_join_next().is_some() {}

            match accepted {
                Ok((stream, remote)) => {
                    connections.spawn(serve_connection(
                        stream,
                        remote,
                        endpoint.clone(),
                        settings.clone(),
                        stopped.clone(),
                    ));
                }
                Err(error) if is_per_connection(&error) => {}
                Err(error) => {
                    // Running out of file descriptors is the usual cause;
                    // pausing lets open connections close before retrying.
                    tracing::error!(%error, "accepting a connection failed; retrying in 100 ms");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }

        drop(listener);
        drop(redirect_listener);
        let _ = stop.send(true);
        while connections.try_join_next().is_some() {}
        tracing::info!(
            open_connections = connections.len(),
            grace_seconds = self.shutdown_grace.as_secs_f64(),
            "stopped accepting connections; letting in-flight requests finish"
        );
        let drained = tokio::time::timeout(self.shutdown_grace, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                open_connections = connections.len(),
                "the shutdown grace period ended; closing the remaining connections"
            );
            connections.shutdown().await;
        }
        Ok(())
    }
}

struct ConnectionSettings {
    header_read_timeout: Duration,
}

async fn accept_if_any(listener: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Errors of `accept` that concern one connection, which the peer already
/// gave up, rather than the listener.
fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

async fn serve_connection(
    stream: TcpStream,
    remote: SocketAddr,
    endpoint: Endpoint,
    settings: Arc<ConnectionSettings>,
    stopped: watch::Receiver<bool>,
) {
    match endpoint {
        Endpoint::App {
            router,
            tls: Some(acceptor),
        } => {
            let handshake =
                tokio::time::timeout(settings.header_read_timeout, acceptor.accept(stream)).await;
            let stream = match handshake {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    tracing::debug!(%remote, %error, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%remote, "TLS handshake timed out");
                    return;
                }
            };
            let service =
                service_fn(move |request| call_app(router.clone(), remote, true, request));
            drive(stream, service, remote, &settings, stopped).await;
        }
        Endpoint::App { router, tls: None } => {
            let service =
                service_fn(move |request| call_app(router.clone(), remote, false, request));
            drive(stream, service, remote, &settings, stopped).await;
        }
        Endpoint::Redirect(host) => {
            let service = service_fn(move |request: Request<Incoming>| {
                let response = redirect_response(&host, &request);
                async move { Ok::<_, Infallible>(response) }
            });
            drive(stream, service, remote, &settings, stopped).await;
        }
    }
}

/// Serves HTTP/1.1 on one connection until the client closes it, a timeout
/// ends it, or shutdown starts and its in-flight request has its response.
async fn drive<I, S>(
    io: I,
    service: S,
    remote: SocketAddr,
    settings: &ConnectionSettings,
    mut stopped: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout);
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);

    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = wait_for_stop(&mut stopped) => {
            connection.as_mut().graceful_shutdown();
            connection.as_mut().await
        }
    };
    if let Err(error) = result {
        // Header-read timeouts and clients that hang up mid-request end here.
        tracing::debug!(%remote, %error, "connection closed with an error");
    }
}

/// Completes when shutdown starts, or when the accept loop is gone.
async fn wait_for_stop(stopped: &mut watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stopped| *stopped).await;
}

async fn call_app(
    router: Router,
    remote: SocketAddr,
    over_tls: bool,
    mut request: Request<Incoming>,
) -> Result<Response, Infallible> {
    request.extensions_mut().insert(ConnectInfo(remote));
    let mut response = match router.oneshot(request.map(Body::new)).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if over_tls {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    Ok(response)
}

/// Builds the response of the plain listener: a redirect to the configured
/// host with the request's path and query. The request's `Host`, absolute
/// URI authority, headers and body are ignored, so neither a forged `Host`
/// nor a bearer token sent in the clear reaches the application.
fn redirect_response(host: &PublicHost, request: &Request<Incoming>) -> Response {
    if request.headers().contains_key(header::AUTHORIZATION) {
        tracing::debug!(
            "a request on the plain HTTP listener carried an Authorization header; it was redirected without being read"
        );
    }

    let location = HeaderValue::from_str(&redirect_location(host, request.uri()))
        .unwrap_or_else(|_| HeaderValue::from_static("/"));
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    crate::edge::add_security_headers(headers);
    response
}

fn redirect_location(host: &PublicHost, uri: &Uri) -> String {
    let path = uri
        .path_and_query()
        .map(|path| path.as_str())
        .filter(|path| path.starts_with('/'))
        .unwrap_or("/");
    format!("https://{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_host_accepts_names_ports_and_addresses() {
        for host in [
            "api.example.com",
            "localhost:8443",
            "127.0.0.1:8443",
            "[::1]:8443",
        ] {
            assert!(PublicHost::parse(host).is_ok(), "rejected {host}");
        }
    }

    #[test]
    fn public_host_rejects_anything_that_moves_the_redirect() {
        for host in [
            "",
            "https://api.example.com",
            "api.example.com/path",
            "user@api.example.com",
            "api.example.com?x",
            "api.example.com#x",
            "api.example.com:",
            "api example.com",
            ":443",
        ] {
            assert!(PublicHost::parse(host).is_err(), "accepted {host:?}");
        }
    }

    #[test]
    fn redirect_keeps_path_and_query_and_ignores_authority() {
        let host = PublicHost::parse("api.example.com").expect("valid host");
        let cases = [
            (
                "/api/invoices?limit=2",
                "https://api.example.com/api/invoices?limit=2",
            ),
            (
                "http://evil.example/steal?x=1",
                "https://api.example.com/steal?x=1",
            ),
            (
                "//evil.example/x",
                "https://api.example.com//evil.example/x",
            ),
            ("*", "https://api.example.com/"),
        ];
        for (uri, expected) in cases {
            let uri: Uri = uri.parse().expect("a URI");
            assert_eq!(redirect_location(&host, &uri), expected, "for {uri}");
        }
    }
}
