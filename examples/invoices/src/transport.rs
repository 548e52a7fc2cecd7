//! The transport options of `invoices serve`: TLS from PEM files or a
//! self-signed certificate, the public host, and the plain listener that
//! only redirects to https.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context};
use gauntlet::{App, PublicHost, Server, TlsConfig};
use tokio::net::TcpListener;

/// The `serve` options that choose how the service is reached.
#[derive(Debug, Clone, clap::Args)]
pub struct TransportOptions {
    /// PEM file with the certificate chain, server certificate first.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM file with the private key of the certificate.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Generate a self-signed certificate at start (local development only:
    /// clients do not trust it).
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    pub tls_self_signed: bool,
    /// Host (and port, when not 443) that clients use to reach the service;
    /// redirects point there and never to the request's Host header.
    #[arg(long, value_name = "HOST")]
    pub public_host: Option<String>,
    /// Also listen for plain HTTP on this address, answering every request
    /// with a 308 redirect to https://PUBLIC_HOST.
    #[arg(long, value_name = "HOST:PORT", requires = "public_host")]
    pub redirect_addr: Option<SocketAddr>,
    /// Serve plain HTTP on a non-loopback address. Tokens and invoices
    /// then cross the network unencrypted.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key", "tls_self_signed"])]
    pub insecure_http: bool,
}

/// Checked transport options with the certificate loaded, ready to wrap
/// the application.
#[derive(Debug)]
pub struct Transport {
    addr: SocketAddr,
    tls: Option<TlsConfig>,
    public_host: Option<PublicHost>,
    redirect_addr: Option<SocketAddr>,
}

impl TransportOptions {
    /// Checks the options for serving on `addr` and loads or generates the
    /// certificate, before any database work, or returns an error that
    /// names the option to fix.
    pub fn prepare(&self, addr: SocketAddr) -> anyhow::Result<Transport> {
        let public_host = self
            .public_host
            .as_deref()
            .map(PublicHost::parse)
            .transpose()?;

        let tls = match (&self.tls_cert, &self.tls_key) {
            (Some(certificate), Some(key)) => Some(TlsConfig::from_pem_files(certificate, key)?),
            _ if self.tls_self_signed => Some(TlsConfig::self_signed(&self_signed_names(
                public_host.as_ref(),
                addr,
            ))?),
            _ => None,
        };

        // ANCHOR: loopback
        if tls.is_none() && !addr.ip().is_loopback() && !self.insecure_http {
            bail!(
                "refusing to serve plain HTTP on {addr}, which is not a loopback address; give --tls-cert and --tls-key (or --tls-self-signed for development), listen on 127.0.0.1, or pass --insecure-http"
            );
        }
        if tls.is_none() && self.redirect_addr.is_some() {
            bail!("--redirect-addr redirects to https, so it needs --tls-cert and --tls-key or --tls-self-signed");
        }
        // ANCHOR_END: loopback

        Ok(Transport {
            addr,
            tls,
            public_host,
            redirect_addr: self.redirect_addr,
        })
    }
}

impl Transport {
    /// Binds the redirect listener, if any, and returns the server for `app`.
    pub async fn server(self, app: App) -> anyhow::Result<Server> {
        let addr = self.addr;
        let mut server = app.server();
        match self.tls {
            Some(tls) => {
                tracing::info!(%addr, self_signed = tls.is_self_signed(), "serving HTTPS");
                server = server.tls(tls);
            }
            None if addr.ip().is_loopback() => {
                tracing::info!(%addr, "serving plain HTTP on a loopback address (local development)");
            }
            None => {
                tracing::warn!(%addr, "serving plain HTTP on a network address (--insecure-http)");
                server = server.insecure_http();
            }
        }
        if let (Some(redirect_addr), Some(public_host)) = (self.redirect_addr, self.public_host) {
            let listener = TcpListener::bind(redirect_addr)
                .await
                .with_context(|| format!("binding the redirect listener on {redirect_addr}"))?;
            server = server.redirect_plain(listener, public_host);
        }
        Ok(server)
    }
}

/// The names a generated certificate is valid for: the public host's name,
/// `localhost`, and the listening address when it is a specific one.
fn self_signed_names(public_host: Option<&PublicHost>, addr: SocketAddr) -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    if let Some(host) = public_host {
        let host = host.as_str();
        let name = match host.strip_prefix('[') {
            Some(bracketed) => bracketed.split(']').next().unwrap_or(bracketed),
            None => host.split(':').next().unwrap_or(host),
        };
        names.push(name.to_string());
    }
    if !addr.ip().is_unspecified() {
        names.push(addr.ip().to_string());
    }
    names.sort();
    names.dedup();
    names
}
