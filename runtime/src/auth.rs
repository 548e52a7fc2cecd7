//! Authentication: verified callers from HS256 bearer tokens.
//!
//! The algorithm is fixed by the configured key, never read from the token
//! header, so `alg: none` and algorithm-confusion tokens fail verification.
//! `exp`, `iss`, `aud` and `sub` are required; clock skew is bounded by a
//! small leeway.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::AUTHORIZATION;
use http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The minimum HS256 secret length in bytes (the HMAC-SHA256 output size).
pub const MIN_SECRET_BYTES: usize = 32;

/// The largest leeway accepted for `exp` and `nbf`, to bound how long an
/// expired token stays usable.
pub const MAX_LEEWAY: Duration = Duration::from_secs(60);

/// The id of a user, as carried in a token's `sub` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(i64);

impl UserId {
    /// Wraps a raw id read from storage. Only a verified token turns a
    /// `UserId` into a [`Caller`], so holding one grants nothing.
    pub fn new(raw: i64) -> Self {
        UserId(raw)
    }

    /// Returns the raw integer id.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl sqlx::Type<sqlx::Sqlite> for UserId {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <i64 as sqlx::Type<sqlx::Sqlite>>::type_info()
    }

    fn compatible(ty: &sqlx::sqlite::SqliteTypeInfo) -> bool {
        <i64 as sqlx::Type<sqlx::Sqlite>>::compatible(ty)
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for UserId {
    fn encode_by_ref(
        &self,
        buf: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <i64 as sqlx::Encode<'q, sqlx::Sqlite>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Sqlite> for UserId {
    fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        <i64 as sqlx::Decode<'r, sqlx::Sqlite>>::decode(value).map(UserId)
    }
}

/// The verified identity of the client making a request.
///
/// A `Caller` exists only after a token passed verification, because there
/// is no public constructor. The identity never comes from the body or from a
/// header other than `Authorization`.
#[derive(Debug, Clone)]
pub struct Caller {
    subject: UserId,
    roles: Vec<String>,
}

impl Caller {
    /// Returns the user id from the token's `sub` claim.
    pub fn subject(&self) -> UserId {
        self.subject
    }

    /// Returns the roles listed in the verified token.
    pub fn roles(&self) -> &[String] {
        &self.roles
    }
}

/// The application's roles, declared as a Rust enum so that a route's
/// `role = Role::Admin` is checked by the compiler, not matched as a string.
///
/// `#[derive(gauntlet::Role)]` on an enum of unit variants implements it
/// with the variant names in snake case, which is how tokens list them in
/// their `roles` claim.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a role enum",
    label = "a route's `role` must be a variant of an enum that implements `gauntlet::Role`",
    note = "declare the roles with `#[derive(gauntlet::Role)] enum Role {{ Admin, Accountant }}` and write `role = Role::Admin`"
)]
pub trait Role: Copy + 'static {
    /// Returns the role's name as tokens list it.
    fn name(&self) -> &'static str;
}

/// Settings for token signing and verification.
#[derive(Clone)]
pub struct JwtConfig {
    secret: Vec<u8>,
    issuer: String,
    audience: String,
    leeway: Duration,
    lifetime: Duration,
}

impl fmt::Debug for JwtConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtConfig")
            .field("secret", &"<redacted>")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("leeway", &self.leeway)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// An error in a [`JwtConfig`], found when the application is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtConfigError {
    /// The HS256 secret is shorter than [`MIN_SECRET_BYTES`].
    SecretTooShort {
        /// The length that was given.
        len: usize,
    },
    /// The leeway exceeds [`MAX_LEEWAY`].
    LeewayTooLarge,
    /// The issuer or audience is empty.
    MissingIssuerOrAudience,
}

impl fmt::Display for JwtConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JwtConfigError::SecretTooShort { len } => write!(
                f,
                "the HS256 secret is {len} bytes; at least {MIN_SECRET_BYTES} random bytes are required"
            ),
            JwtConfigError::LeewayTooLarge => write!(
                f,
                "the token leeway exceeds the maximum of {} seconds",
                MAX_LEEWAY.as_secs()
            ),
            JwtConfigError::MissingIssuerOrAudience => {
                write!(f, "the token issuer and audience must not be empty")
            }
        }
    }
}

impl std::error::Error for JwtConfigError {}

impl JwtConfig {
    /// HS256 with the given secret, issuer and audience; 30 seconds of
    /// leeway and one-hour tokens until changed.
    pub fn hs256(
        secret: impl Into<Vec<u8>>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        JwtConfig {
            secret: secret.into(),
            issuer: issuer.into(),
            audience: audience.into(),
            leeway: Duration::from_secs(30),
            lifetime: Duration::from_secs(3600),
        }
    }

    /// Generates a random 32-byte secret: for development only, since every
    /// token is invalidated when the process restarts.
    pub fn random_secret() -> Vec<u8> {
        let mut secret = vec![0u8; MIN_SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        secret
    }

    /// Sets the tolerated clock skew for `exp` (at most [`MAX_LEEWAY`]).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Sets the lifetime of issued tokens.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    pub(crate) fn check(&self) -> Result<(), JwtConfigError> {
        if self.secret.len() < MIN_SECRET_BYTES {
            return Err(JwtConfigError::SecretTooShort {
                len: self.secret.len(),
            });
        }
        if self.leeway > MAX_LEEWAY {
            return Err(JwtConfigError::LeewayTooLarge);
        }
        if self.issuer.is_empty() || self.audience.is_empty() {
            return Err(JwtConfigError::MissingIssuerOrAudience);
        }
        Ok(())
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    iat: u64,
    iss: String,
    aud: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    roles: Vec<String>,
}

/// Verifies bearer tokens and issues new ones.
pub(crate) struct Authenticator {
    config: JwtConfig,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    pub(crate) fn new(config: JwtConfig) -> Result<Self, JwtConfigError> {
        config.check()?;

        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = config.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[config.issuer.as_str()]);
        validation.set_audience(&[config.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);

        Ok(Authenticator {
            encoding: EncodingKey::from_secret(&config.secret),
            decoding: DecodingKey::from_secret(&config.secret),
            validation,
            config,
        })
    }

    /// Verifies the `Authorization: Bearer` header. Every failure is the
    /// same 401; the reason is kept for the log only.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let token = bearer_token(headers)?;

        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|error| ApiError::unauthorized().with_cause(error))?;

        let subject = data
            .claims
            .sub
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| {
                ApiError::unauthorized().with_cause("`sub` is not a positive integer")
            })?;

        Ok(Caller {
            subject: UserId(subject),
            roles: data.claims.roles,
        })
    }

    pub(crate) fn issue(&self, subject: UserId, roles: &[String]) -> Result<AccessToken, ApiError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(ApiError::internal)?
            .as_secs();
        let claims = Claims {
            sub: subject.0.to_string(),
            iat: now,
            exp: now + self.config.lifetime.as_secs(),
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            roles: roles.to_vec(),
        };

        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)?;

        Ok(AccessToken {
            access_token: token,
            token_type: "Bearer",
            expires_in: self.config.lifetime.as_secs(),
        })
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values
        .next()
        .ok_or_else(|| ApiError::unauthorized().with_cause("no Authorization header"))?;
    if values.next().is_some() {
        return Err(ApiError::unauthorized().with_cause("several Authorization headers"));
    }

    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized().with_cause("Authorization is not ASCII"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized().with_cause("Authorization has no scheme"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ApiError::unauthorized().with_cause("Authorization is not a bearer token"));
    }
    Ok(token.trim())
}

/// The body of a successful login, as OAuth 2.0 clients expect it.
#[derive(Debug, Clone, Serialize)]
pub struct AccessToken {
    /// The signed JWT.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
}
