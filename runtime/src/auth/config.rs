//! Token configuration: issuer, audience, keys, leeway and lifetime, checked
//! when the application is built.

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use rand::RngCore;

use super::keys::JwtKey;

/// The minimum HS256 secret length in bytes (the HMAC-SHA256 output size).
pub const MIN_SECRET_BYTES: usize = 32;

/// The largest leeway accepted for `exp`, `nbf` and `iat`, to bound how
/// long an expired token stays usable.
pub const MAX_LEEWAY: Duration = Duration::from_secs(60);

/// The leeway until [`JwtConfig::leeway`] changes it.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The lifetime of issued tokens until [`JwtConfig::lifetime`] changes it:
/// 15 minutes, so a leaked token is usable only briefly. Gauntlet issues no
/// refresh tokens, so clients log in again when it expires.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// The `kid` of the key that [`JwtConfig::hs256`] configures.
pub const DEFAULT_KID: &str = "default";

/// Settings for token signing and verification.
///
/// ```
/// use gauntlet::{JwtConfig, JwtKey};
///
/// let current = JwtConfig::random_secret();
/// let previous = JwtConfig::random_secret();
/// let config = JwtConfig::new("https://auth.example.com", "invoices-api")
///     .key(JwtKey::hs256("2026-05", &current))
///     .key(JwtKey::hs256("2026-02", &previous))
///     .signing_key("2026-05");
/// # let _ = config;
/// ```
#[derive(Clone)]
pub struct JwtConfig {
    pub(super) keys: Vec<JwtKey>,
    pub(super) signing_kid: Option<String>,
    pub(super) issuer: String,
    pub(super) audience: String,
    pub(super) leeway: Duration,
    pub(super) lifetime: Duration,
}

impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `JwtKey`'s Debug shows the kid and algorithm, never key material.
        f.debug_struct("JwtConfig")
            .field("keys", &self.keys)
            .field("signing_kid", &self.signing_kid)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// An error in a [`JwtConfig`] or a [`JwtKey`], found when the key is read
/// or when the application is built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwtConfigError {
    /// An HS256 secret is shorter than [`MIN_SECRET_BYTES`].
    SecretTooShort {
        /// The key id of the secret.
        kid: String,
        /// The length that was given.
        len: usize,
    },
    /// The leeway exceeds [`MAX_LEEWAY`].
    LeewayTooLarge,
    /// The issuer or audience is empty.
    MissingIssuerOrAudience,
    /// No key was configured.
    NoKeys,
    /// A key has an empty `kid`.
    EmptyKid,
    /// Two keys have the same `kid`, so a token's `kid` could not select one.
    DuplicateKid {
        /// The repeated key id.
        kid: String,
    },
    /// A key could not be read, or its private and public parts differ.
    InvalidKey {
        /// The key id.
        kid: String,
        /// The reason the key is unusable.
        reason: String,
    },
    /// A JWKS could not be read or contains an unusable key.
    InvalidJwks {
        /// The reason, naming the file and key it concerns.
        reason: String,
    },
    /// The chosen signing key is not configured.
    UnknownSigningKey {
        /// The key id given to [`JwtConfig::signing_key`].
        kid: String,
    },
    /// The chosen signing key is a public key without its private part.
    SigningKeyCannotSign {
        /// The key id given to [`JwtConfig::signing_key`].
        kid: String,
    },
    /// Several keys can sign and none was chosen with
    /// [`JwtConfig::signing_key`].
    SigningKeyNotChosen {
        /// The key ids that can sign.
        kids: Vec<String>,
    },
}

impl fmt::Display for JwtConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwtConfigError::SecretTooShort { kid, len } => write!(
                f,
                "the HS256 secret of key {kid:?} is {len} bytes; at least {MIN_SECRET_BYTES} random bytes are required"
            ),
            JwtConfigError::LeewayTooLarge => write!(
                f,
                "the token leeway exceeds the maximum of {} seconds",
                MAX_LEEWAY.as_secs()
            ),
            JwtConfigError::MissingIssuerOrAudience => {
                write!(f, "the token issuer and audience must not be empty")
            }
            JwtConfigError::NoKeys => write!(
                f,
                "no token key is configured; add one with `.key(JwtKey::...)` or use `JwtConfig::hs256`"
            ),
            JwtConfigError::EmptyKid => write!(f, "a token key has an empty kid"),
            JwtConfigError::DuplicateKid { kid } => write!(
                f,
                "the kid {kid:?} is used by two keys; every key needs its own kid"
            ),
            JwtConfigError::InvalidKey { kid, reason } => write!(f, "key {kid:?}: {reason}"),
            JwtConfigError::InvalidJwks { reason } => write!(f, "invalid JWKS: {reason}"),
            JwtConfigError::UnknownSigningKey { kid } => write!(
                f,
                "the signing key {kid:?} is not among the configured keys"
            ),
            JwtConfigError::SigningKeyCannotSign { kid } => write!(
                f,
                "the signing key {kid:?} is a public key; give its private key PEM to sign with it"
            ),
            JwtConfigError::SigningKeyNotChosen { kids } => write!(
                f,
                "several keys can sign ({}); choose one with `.signing_key(kid)`",
                kids.join(", ")
            ),
        }
    }
}

impl std::error::Error for JwtConfigError {}

impl JwtConfig {
    /// Tokens from `issuer` for `audience`, with no key yet: add keys with
    /// [`JwtConfig::key`]. Leeway is [`DEFAULT_LEEWAY`] and the lifetime of
    /// issued tokens [`DEFAULT_LIFETIME`] until changed.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        JwtConfig {
            keys: Vec::new(),
            signing_kid: None,
            issuer: issuer.into(),
            audience: audience.into(),
            leeway: DEFAULT_LEEWAY,
            lifetime: DEFAULT_LIFETIME,
        }
    }

    /// HS256 with one secret, under the kid [`DEFAULT_KID`]. This is
    /// `JwtConfig::new(issuer, audience).key(JwtKey::hs256(DEFAULT_KID, secret))`.
    pub fn hs256(
        secret: impl Into<Vec<u8>>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        JwtConfig::new(issuer, audience).key(JwtKey::hs256(DEFAULT_KID, secret.into()))
    }

    /// Verification keys from a JWKS file, as read by [`JwtKey::from_jwks`].
    /// The file is read once, here.
    pub fn from_jwks_file(
        path: impl AsRef<Path>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, JwtConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| JwtConfigError::InvalidJwks {
            reason: format!("reading {} failed: {error}", path.display()),
        })?;
        let keys = JwtKey::from_jwks(&text).map_err(|error| match error {
            JwtConfigError::InvalidJwks { reason } => JwtConfigError::InvalidJwks {
                reason: format!("{}: {reason}", path.display()),
            },
            other => other,
        })?;
        Ok(JwtConfig::new(issuer, audience).keys(keys))
    }

    /// Generates a random 32-byte secret: for development only, since every
    /// token is invalidated when the process restarts.
    pub fn random_secret() -> Vec<u8> {
        let mut secret = vec![0u8; MIN_SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        secret
    }

    /// Adds a key. Tokens name the key that signed them in their `kid`
    /// header. A token without `kid` is verified with the only key, and
    /// rejected when several keys are configured.
    pub fn key(mut self, key: JwtKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Adds every key in `keys`, such as those of [`JwtKey::from_jwks`].
    pub fn keys(mut self, keys: impl IntoIterator<Item = JwtKey>) -> Self {
        self.keys.extend(keys);
        self
    }

    /// Chooses the key that signs issued tokens. Without this choice the
    /// only key that can sign does so, and several such keys stop the
    /// application from being built.
    pub fn signing_key(mut self, kid: impl Into<String>) -> Self {
        self.signing_kid = Some(kid.into());
        self
    }

    /// Adds the private key from `private_pem` to the configured public key
    /// `kid`, such as one read from a JWKS, and chooses it as the signing
    /// key. Fails when no key has this kid, when the key is HS256, or when
    /// the private key does not belong to it.
    pub fn signing_key_pem(
        mut self,
        kid: &str,
        private_pem: impl AsRef<[u8]>,
    ) -> Result<Self, JwtConfigError> {
        let position = self
            .keys
            .iter()
            .position(|key| key.kid == kid)
            .ok_or_else(|| JwtConfigError::UnknownSigningKey {
                kid: kid.to_string(),
            })?;
        let key = self.keys.remove(position);
        self.keys
            .insert(position, key.with_private_pem(private_pem.as_ref())?);
        self.signing_kid = Some(kid.to_string());
        Ok(self)
    }

    /// Sets the tolerated clock skew for `exp`, `nbf` and `iat` (at most
    /// [`MAX_LEEWAY`]).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Sets the lifetime of issued tokens.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Checks the configuration and returns the index of the signing key,
    /// if any key can sign.
    pub(super) fn check(&self) -> Result<Option<usize>, JwtConfigError> {
        if self.leeway > MAX_LEEWAY {
            return Err(JwtConfigError::LeewayTooLarge);
        }
        if self.issuer.is_empty() || self.audience.is_empty() {
            return Err(JwtConfigError::MissingIssuerOrAudience);
        }
        if self.keys.is_empty() {
            return Err(JwtConfigError::NoKeys);
        }

        let mut kids = BTreeSet::new();
        for key in &self.keys {
            if key.kid.is_empty() {
                return Err(JwtConfigError::EmptyKid);
            }
            if !kids.insert(key.kid.as_str()) {
                return Err(JwtConfigError::DuplicateKid {
                    kid: key.kid.clone(),
                });
            }
            if let Some(len) = key.secret_len {
                if len < MIN_SECRET_BYTES {
                    return Err(JwtConfigError::SecretTooShort {
                        kid: key.kid.clone(),
                        len,
                    });
                }
            }
        }

        self.signing_key_index()
    }

    fn signing_key_index(&self) -> Result<Option<usize>, JwtConfigError> {
        if let Some(kid) = &self.signing_kid {
            let index = self
                .keys
                .iter()
                .position(|key| &key.kid == kid)
                .ok_or_else(|| JwtConfigError::UnknownSigningKey { kid: kid.clone() })?;
            if !self.keys[index].can_sign() {
                return Err(JwtConfigError::SigningKeyCannotSign { kid: kid.clone() });
            }
            return Ok(Some(index));
        }

        let signers: Vec<usize> = (0..self.keys.len())
            .filter(|index| self.keys[*index].can_sign())
            .collect();
        match signers.as_slice() {
            [] => Ok(None),
            [only] => Ok(Some(*only)),
            _ => Err(JwtConfigError::SigningKeyNotChosen {
                kids: signers
                    .iter()
                    .map(|index| self.keys[*index].kid.clone())
                    .collect(),
            }),
        }
    }
}
