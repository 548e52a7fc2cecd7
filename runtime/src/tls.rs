//! TLS with rustls: a certificate chain and private key from PEM files, or
//! a self-signed certificate generated at start for local development.
//!
//! Only the ring crypto provider is compiled in, with rustls' safe default
//! protocol versions (TLS 1.2 and 1.3) and cipher suites. The server offers
//! HTTP/1.1 through ALPN, the only protocol its accept loop speaks.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// A server certificate and key, checked and ready for the accept loop.
#[derive(Clone)]
pub struct TlsConfig {
    server: Arc<ServerConfig>,
    certificate_pem: String,
    self_signed: bool,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("self_signed", &self.self_signed)
            .finish_non_exhaustive()
    }
}

/// A failure to load or generate the TLS certificate and key.
#[derive(Debug)]
pub enum TlsError {
    /// A PEM file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        error: std::io::Error,
    },
    /// The certificate PEM contains no `CERTIFICATE` block, or a broken one.
    InvalidCertificate(String),
    /// The key PEM contains no private key, or a broken one.
    InvalidKey(String),
    /// rustls rejected the pair, for example because the key does not
    /// match the certificate or uses an unsupported algorithm.
    Rejected(rustls::Error),
    /// Generating the self-signed certificate failed.
    Generate(rcgen::Error),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Read { path, error } => {
                write!(f, "reading {} failed: {error}", path.display())
            }
            TlsError::InvalidCertificate(reason) => write!(
                f,
                "invalid TLS certificate: {reason}; give the PEM chain, server certificate first"
            ),
            TlsError::InvalidKey(reason) => write!(
                f,
                "invalid TLS private key: {reason}; give a PKCS#8, PKCS#1 or SEC1 key in PEM"
            ),
            TlsError::Rejected(error) => {
                write!(f, "the TLS certificate and key were rejected: {error}")
            }
            TlsError::Generate(error) => {
                write!(f, "generating a self-signed certificate failed: {error}")
            }
        }
    }
}

impl std::error::Error for TlsError {}

impl TlsConfig {
    /// Reads the certificate chain (server certificate first) and the
    /// private key from PEM files.
    pub fn from_pem_files(
        certificate: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, TlsError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|error| TlsError::Read {
                path: path.to_path_buf(),
                error,
            })
        };
        let certificate_pem = read(certificate.as_ref())?;
        let key_pem = read(key.as_ref())?;
        Self::from_pem(&certificate_pem, &key_pem)
    }

    /// Builds the configuration from PEM text already in memory.
    pub fn from_pem(certificate_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsError> {
        let chain = CertificateDer::pem_slice_iter(certificate_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| TlsError::InvalidCertificate(error.to_string()))?;
        if chain.is_empty() {
            return Err(TlsError::InvalidCertificate(
                "no CERTIFICATE block found".to_string(),
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|error| TlsError::InvalidKey(error.to_string()))?;
        let certificate_pem = String::from_utf8_lossy(certificate_pem).into_owned();
        Self::build(chain, key, certificate_pem, false)
    }

    /// Generates a self-signed certificate for `hosts` (names or IP
    /// addresses), valid from now on, with a fresh ECDSA P-256 key.
    ///
    /// Browsers and HTTP clients reject it unless configured to trust it,
    /// so it is for local development and tests only, and serving with it
    /// logs a warning.
    pub fn self_signed(hosts: &[String]) -> Result<Self, TlsError> {
        let generated =
            rcgen::generate_simple_self_signed(hosts.to_vec()).map_err(TlsError::Generate)?;
        let certificate_pem = generated.cert.pem();
        let chain = vec![generated.cert.der().clone()];
        let key = PrivateKeyDer::try_from(generated.signing_key.serialize_der())
            .map_err(|reason| TlsError::InvalidKey(reason.to_string()))?;
        Self::build(chain, key, certificate_pem, true)
    }

    fn build(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        certificate_pem: String,
        self_signed: bool,
    ) -> Result<Self, TlsError> {
        // NOTE: rustls 0.23.48 deprecates the ring provider because it has no
        // post-quantum key exchange. The aws-lc-rs provider has one but needs
        // a C toolchain and CMake to build; ring is already in the tree.
        #[allow(deprecated)]
        let provider = rustls::crypto::ring::default_provider();
        let mut server = ServerConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Rejected)?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(TlsError::Rejected)?;
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConfig {
            server: Arc::new(server),
            certificate_pem,
            self_signed,
        })
    }

    /// Returns the certificate chain in PEM, for a client that must trust a
    /// self-signed certificate.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// Returns whether the certificate was generated by [`TlsConfig::self_signed`].
    pub fn is_self_signed(&self) -> bool {
        self.self_signed
    }

    pub(crate) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.server.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_round_trips_through_pem() {
        let generated = TlsConfig::self_signed(&["localhost".to_string()]).expect("generated");
        assert!(generated.is_self_signed());
        assert!(generated
            .certificate_pem()
            .starts_with("-----BEGIN CERTIFICATE-----"));
    }

    #[test]
    fn pem_without_certificate_is_rejected() {
        let error = TlsConfig::from_pem(b"not a certificate", b"").expect_err("rejected");
        assert!(matches!(error, TlsError::InvalidCertificate(_)), "{error}");
    }

    #[test]
    fn key_that_does_not_match_is_rejected() {
        let first =
            rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("generated");
        let second =
            rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("generated");
        let error = TlsConfig::from_pem(
            first.cert.pem().as_bytes(),
            second.signing_key.serialize_pem().as_bytes(),
        )
        .expect_err("rejected");
        assert!(matches!(error, TlsError::Rejected(_)), "{error}");
    }
}
