//! Token keys: HS256 secrets, RS256, ES256 and Ed25519 key pairs from PEM
//! files, and public keys from a JSON Web Key Set (JWKS).
//!
//! Every key carries one algorithm, fixed when the key is made. A token is
//! verified only with that algorithm, whatever algorithm its header names.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::Value;

use super::JwtConfigError;

/// The smallest RSA modulus accepted from a JWKS, in bits. ring, which
/// verifies the signatures, rejects smaller RS256 keys as well.
pub const MIN_RSA_BITS: usize = 2048;

/// The message signed and verified once when a private key is added, to
/// check that it belongs to the public key.
const KEY_PAIR_PROBE: &[u8] = b"gauntlet key pair check";

/// A key that verifies tokens, and signs them when it has a private part.
///
/// Its `kid` (key id) selects it: a token names the key that signed it in
/// its `kid` header, and issued tokens carry the signing key's `kid`.
#[derive(Clone)]
pub struct JwtKey {
    pub(super) kid: String,
    pub(super) algorithm: Algorithm,
    pub(super) decoding: DecodingKey,
    pub(super) encoding: Option<EncodingKey>,
    /// The length of an HS256 secret, checked when the application is built.
    pub(super) secret_len: Option<usize>,
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("can_sign", &self.can_sign())
            .finish_non_exhaustive()
    }
}

impl JwtKey {
    /// Creates an HS256 key, which both signs and verifies. A secret shorter
    /// than [`super::MIN_SECRET_BYTES`] stops the application from being
    /// built.
    pub fn hs256(kid: impl Into<String>, secret: impl AsRef<[u8]>) -> Self {
        let secret = secret.as_ref();
        JwtKey {
            kid: kid.into(),
            algorithm: Algorithm::HS256,
            decoding: DecodingKey::from_secret(secret),
            encoding: Some(EncodingKey::from_secret(secret)),
            secret_len: Some(secret.len()),
        }
    }

    /// Reads an RS256 public key, for verification only, from a PEM file
    /// (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`).
    pub fn rs256_public_pem(
        kid: impl Into<String>,
        public_pem: impl AsRef<[u8]>,
    ) -> Result<Self, JwtConfigError> {
        Self::public_pem(
            kid.into(),
            Algorithm::RS256,
            public_pem.as_ref(),
            DecodingKey::from_rsa_pem,
        )
    }

    /// Reads an RS256 key pair that signs and verifies, from the PEM files of
    /// its private key (PKCS#1 or PKCS#8) and its public key. Fails when the
    /// two do not belong together.
    pub fn rs256_private_pem(
        kid: impl Into<String>,
        private_pem: impl AsRef<[u8]>,
        public_pem: impl AsRef<[u8]>,
    ) -> Result<Self, JwtConfigError> {
        Self::rs256_public_pem(kid, public_pem)?.with_private_pem(private_pem.as_ref())
    }

    /// Reads an ES256 (ECDSA on P-256) public key, for verification only,
    /// from a `BEGIN PUBLIC KEY` PEM file.
    pub fn es256_public_pem(
        kid: impl Into<String>,
        public_pem: impl AsRef<[u8]>,
    ) -> Result<Self, JwtConfigError> {
        Self::public_pem(
            kid.into(),
            Algorithm::ES256,
            public_pem.as_ref(),
            DecodingKey::from_ec_pem,
        )
    }

    /// Reads an ES256 key pair that signs and verifies, from the PEM files of
    /// its PKCS#8 private key (`BEGIN PRIVATE KEY`) and its public key.
    /// Fails when the two do not belong together.
    pub fn es256_private_pem(
        kid: impl Into<String>,
        private_pem: impl AsRef<[u8]>,
        public_pem: impl AsRef<[u8]>,
    ) -> Result<Self, JwtConfigError> {
        Self::es256_public_pem(kid, public_pem)?.with_private_pem(private_pem.as_ref())
    }

    /// Reads an Ed25519 public key (JWS algorithm `EdDSA`), for verification
    /// only, from a `BEGIN PUBLIC KEY` PEM file.
    pub fn ed25519_public_pem(
        kid: impl Into<String>,
        public_pem: impl AsRef<[u8]>,
    ) -> Result<Self, JwtConfigError> {
        Self::public_pem(
            kid.into(),
            Algorithm::EdDSA,
            public_pem.as_ref(),
            DecodingKey::from_ed_pem,
        )
    }

    /// Reads an Ed25519 key pair that signs and verifies, from the PEM files
    /// of its PKCS#8 private key and its public key. Fails when the two do
    /// not belong together.
    pub fn ed25519_private_pem(
        kid: impl Into<String>,
        private_pem: impl AsRef<[u8]>,
        public_pem: impl AsRef<[u8]>,
    ) -> Result<Self, JwtConfigError> {
        Self::ed25519_public_pem(kid, public_pem)?.with_private_pem(private_pem.as_ref())
    }

    /// Reads the public signature keys of a JSON Web Key Set (RFC 7517), for
    /// verification only.
    ///
    /// Each key needs a `kid` and is one of: RSA (used with RS256, modulus
    /// of at least [`MIN_RSA_BITS`] bits), EC on P-256 (ES256), or OKP on
    /// Ed25519 (EdDSA). A key whose `alg` names another algorithm fails.
    /// Keys marked `"use": "enc"`, or whose `key_ops` leave out `verify`,
    /// are skipped, because they never verify a signature. Symmetric
    /// (`"kty": "oct"`) keys fail: configure secrets with [`JwtKey::hs256`].
    /// Certificate parameters such as `x5c` and `x5u` are ignored and never
    /// fetched.
    pub fn from_jwks(jwks: &str) -> Result<Vec<JwtKey>, JwtConfigError> {
        let invalid = |reason: String| JwtConfigError::InvalidJwks { reason };

        let set: Value = serde_json::from_str(jwks)
            .map_err(|error| invalid(format!("the JWKS is not valid JSON: {error}")))?;
        let entries = set
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("the JWKS has no `keys` array".to_string()))?;

        let mut keys = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            if !is_for_verification(entry) {
                continue;
            }
            let label = match entry.get("kid").and_then(Value::as_str) {
                Some(kid) => format!("key {index} (kid {kid:?})"),
                None => format!("key {index}"),
            };
            let jwk: Jwk = serde_json::from_value(entry.clone())
                .map_err(|error| invalid(format!("{label} is not a supported JWK: {error}")))?;
            let key =
                JwtKey::from_jwk(&jwk).map_err(|reason| invalid(format!("{label} {reason}")))?;
            keys.push(key);
        }

        if keys.is_empty() {
            return Err(invalid(
                "the JWKS contains no signature verification key".to_string(),
            ));
        }
        Ok(keys)
    }

    /// Returns the key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Returns the JWS name of the key's algorithm: `HS256`, `RS256`,
    /// `ES256` or `EdDSA`.
    pub fn algorithm(&self) -> &'static str {
        algorithm_name(self.algorithm)
    }

    /// Returns whether the key can sign tokens: an HS256 secret, or a key
    /// pair made with its private key.
    pub fn can_sign(&self) -> bool {
        self.encoding.is_some()
    }

    fn public_pem(
        kid: String,
        algorithm: Algorithm,
        pem: &[u8],
        read: fn(&[u8]) -> jsonwebtoken::errors::Result<DecodingKey>,
    ) -> Result<Self, JwtConfigError> {
        // NOTE: jsonwebtoken 9 reads only the PEM and ASN.1 structure here.
        // A public key on the wrong curve or an RSA modulus under 2048 bits
        // is found by ring at the first verification, which then fails.
        let decoding = read(pem).map_err(|error| JwtConfigError::InvalidKey {
            kid: kid.clone(),
            reason: format!(
                "the {} public key PEM is invalid: {error}",
                algorithm_name(algorithm)
            ),
        })?;
        Ok(JwtKey {
            kid,
            algorithm,
            decoding,
            encoding: None,
            secret_len: None,
        })
    }

    /// Adds the private key from `private_pem`, after checking that a
    /// signature made with it verifies with this key's public key.
    pub(super) fn with_private_pem(mut self, private_pem: &[u8]) -> Result<Self, JwtConfigError> {
        let invalid = |reason: String| JwtConfigError::InvalidKey {
            kid: self.kid.clone(),
            reason,
        };
        let name = self.algorithm();

        let encoding = match self.algorithm {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(private_pem),
            Algorithm::ES256 => EncodingKey::from_ec_pem(private_pem),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(private_pem),
            _ => return Err(invalid(format!("a {name} key takes no private key PEM"))),
        }
        .map_err(|error| invalid(format!("the {name} private key PEM is invalid: {error}")))?;

        let signature = jsonwebtoken::crypto::sign(KEY_PAIR_PROBE, &encoding, self.algorithm)
            .map_err(|error| {
                invalid(format!(
                    "the {name} private key cannot sign (ring rejects it): {error}"
                ))
            })?;
        let matches = jsonwebtoken::crypto::verify(
            &signature,
            KEY_PAIR_PROBE,
            &self.decoding,
            self.algorithm,
        )
        .unwrap_or(false);
        if !matches {
            return Err(invalid(format!(
                "the {name} private key does not belong to the public key"
            )));
        }

        self.encoding = Some(encoding);
        Ok(self)
    }

    /// Makes a verification key from one JWK; the error completes a
    /// sentence that starts with the key's label.
    fn from_jwk(jwk: &Jwk) -> Result<Self, String> {
        let kid = match jwk.common.key_id.as_deref() {
            Some(kid) if !kid.is_empty() => kid.to_string(),
            _ => return Err("has no `kid`".to_string()),
        };

        let (algorithm, expected, decoding) = match &jwk.algorithm {
            AlgorithmParameters::RSA(params) => {
                let bits = modulus_bits(&params.n)?;
                if bits < MIN_RSA_BITS {
                    return Err(format!(
                        "has a {bits}-bit RSA modulus; at least {MIN_RSA_BITS} bits are required"
                    ));
                }
                let key = DecodingKey::from_rsa_components(&params.n, &params.e)
                    .map_err(|error| format!("has an invalid RSA `n` or `e`: {error}"))?;
                (Algorithm::RS256, KeyAlgorithm::RS256, key)
            }
            AlgorithmParameters::EllipticCurve(params) => {
                if params.curve != EllipticCurve::P256 {
                    return Err(format!(
                        "is an EC key on {:?}; only P-256 (ES256) is supported",
                        params.curve
                    ));
                }
                check_coordinate("x", &params.x, 32)?;
                check_coordinate("y", &params.y, 32)?;
                let key = DecodingKey::from_ec_components(&params.x, &params.y)
                    .map_err(|error| format!("has an invalid EC point: {error}"))?;
                (Algorithm::ES256, KeyAlgorithm::ES256, key)
            }
            AlgorithmParameters::OctetKeyPair(params) => {
                if params.curve != EllipticCurve::Ed25519 {
                    return Err(format!(
                        "is an OKP key on {:?}; only Ed25519 (EdDSA) is supported",
                        params.curve
                    ));
                }
                check_coordinate("x", &params.x, 32)?;
                let key = DecodingKey::from_ed_components(&params.x)
                    .map_err(|error| format!("has an invalid Ed25519 `x`: {error}"))?;
                (Algorithm::EdDSA, KeyAlgorithm::EdDSA, key)
            }
            AlgorithmParameters::OctetKey(_) => {
                return Err(
                    "is a symmetric (`oct`) key; a JWKS provides public keys only, so configure HS256 secrets with JwtKey::hs256"
                        .to_string(),
                )
            }
        };

        if let Some(declared) = jwk.common.key_algorithm {
            if declared != expected {
                return Err(format!(
                    "declares `alg` {declared}, but this key type is used only with {}",
                    algorithm_name(algorithm)
                ));
            }
        }
        if let Some(PublicKeyUse::Other(other)) = &jwk.common.public_key_use {
            return Err(format!("has an unknown `use` {other:?}"));
        }

        Ok(JwtKey {
            kid,
            algorithm,
            decoding,
            encoding: None,
            secret_len: None,
        })
    }
}

/// Returns whether a JWKS entry may verify signatures: not marked for
/// encryption by `use`, and listing `verify` when it has `key_ops`.
fn is_for_verification(entry: &Value) -> bool {
    let use_value = entry.get("use").and_then(Value::as_str);
    if use_value == Some("enc") {
        return false;
    }
    match entry.get("key_ops").and_then(Value::as_array) {
        Some(operations) => operations
            .iter()
            .any(|operation| operation.as_str() == Some("verify")),
        None => true,
    }
}

/// Counts the significant bits of a base64url-encoded RSA modulus.
fn modulus_bits(n: &str) -> Result<usize, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(n)
        .map_err(|error| format!("has an RSA `n` that is not base64url: {error}"))?;
    let significant = match bytes.iter().position(|byte| *byte != 0) {
        Some(first) => &bytes[first..],
        None => return Err("has an RSA modulus of zero".to_string()),
    };
    let leading_zeros = significant[0].leading_zeros() as usize;
    Ok(significant.len() * 8 - leading_zeros)
}

fn check_coordinate(name: &str, value: &str, expected_len: usize) -> Result<(), String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|error| format!("has a `{name}` that is not base64url: {error}"))?;
    if bytes.len() != expected_len {
        return Err(format!(
            "has a `{name}` of {} bytes; {expected_len} are expected",
            bytes.len()
        ));
    }
    Ok(())
}

/// Returns the JWS `alg` name of one of the supported algorithms.
pub(super) fn algorithm_name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::HS256 => "HS256",
        Algorithm::RS256 => "RS256",
        Algorithm::ES256 => "ES256",
        Algorithm::EdDSA => "EdDSA",
        // Only the four above are ever stored in a `JwtKey`.
        _ => "unsupported",
    }
}
