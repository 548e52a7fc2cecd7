//! Authentication: verified callers from bearer tokens signed with HS256,
//! RS256, ES256 or EdDSA.
//!
//! The token's `kid` selects one configured key, and the key fixes the
//! algorithm: the `alg` header is only compared with it, so `alg: none` and
//! algorithm-confusion tokens fail verification. Headers that point at other
//! keys (`jku`, `x5u`, `jwk`, `x5c`) are rejected, never fetched. `exp`,
//! `iss`, `aud` and `sub` are required, `nbf` and `iat` must not be in the
//! future, and clock skew is bounded by a leeway of at most a minute.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::header::AUTHORIZATION;
use http::HeaderMap;
use jsonwebtoken::{Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

mod config;
mod keys;
mod token;

pub use config::{
    JwtConfig, JwtConfigError, DEFAULT_KID, DEFAULT_LEEWAY, DEFAULT_LIFETIME, MAX_LEEWAY,
    MIN_SECRET_BYTES,
};
pub use keys::{JwtKey, MIN_RSA_BITS};

/// Defines an integer id newtype stored as a 64-bit integer on both backends.
macro_rules! integer_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a raw id read from storage. Only a verified token puts
            /// an id into a [`Caller`], so holding one grants nothing.
            pub fn new(raw: i64) -> Self {
                $name(raw)
            }

            /// Returns the raw integer id.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl sqlx::Type<sqlx::Sqlite> for $name {
            fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
                <i64 as sqlx::Type<sqlx::Sqlite>>::type_info()
            }

            fn compatible(ty: &sqlx::sqlite::SqliteTypeInfo) -> bool {
                <i64 as sqlx::Type<sqlx::Sqlite>>::compatible(ty)
            }
        }

        impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <i64 as sqlx::Encode<'q, sqlx::Sqlite>>::encode_by_ref(&self.0, buf)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Sqlite> for $name {
            fn decode(
                value: sqlx::sqlite::SqliteValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                <i64 as sqlx::Decode<'r, sqlx::Sqlite>>::decode(value).map($name)
            }
        }

        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <i64 as sqlx::Type<sqlx::Postgres>>::type_info()
            }
        }

        impl sqlx::Encode<'_, sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <i64 as sqlx::Encode<'_, sqlx::Postgres>>::encode_by_ref(&self.0, buf)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(
                value: sqlx::postgres::PgValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                <i64 as sqlx::Decode<'r, sqlx::Postgres>>::decode(value).map($name)
            }
        }
    };
}

integer_id!(
    /// The id of a user, as carried in a token's `sub` claim.
    UserId
);

integer_id!(
    /// The id of a tenant (an organisation), as carried in a token's
    /// `tenant` claim. Resources declared with `tenant = "..."` are scoped
    /// to it.
    TenantId
);

/// The verified identity of the client making a request.
///
/// A `Caller` exists only after a token passed verification, because there
/// is no public constructor. The identity never comes from the body or from a
/// header other than `Authorization`.
#[derive(Debug, Clone)]
pub struct Caller {
    subject: UserId,
    tenant: Option<TenantId>,
    roles: Vec<String>,
}

impl Caller {
    /// Returns the user id from the token's `sub` claim.
    pub fn subject(&self) -> UserId {
        self.subject
    }

    /// Returns the tenant from the token's `tenant` claim, if it has one.
    pub fn tenant(&self) -> Option<TenantId> {
        self.tenant
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

/// The verification state of one configured key.
struct VerifyingKey {
    key: JwtKey,
    /// Built from the key's own algorithm, so a token's `alg` header can
    /// only select this algorithm or be rejected.
    validation: Validation,
}

/// Verifies bearer tokens and issues new ones.
pub(crate) struct Authenticator {
    keys: Vec<VerifyingKey>,
    signer: Option<usize>,
    leeway: u64,
    lifetime: Duration,
    issuer: String,
    audience: String,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|entry| entry.key.kid()).collect();
        f.debug_struct("Authenticator")
            .field("kids", &kids)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// Claims read from a verified token. jsonwebtoken has already checked
/// `exp`, `nbf`, `iss` and `aud`. The field types add two checks: `iss` is
/// a single string, and `iat` and `nbf` are numbers when present.
#[derive(Debug, Deserialize)]
struct VerifiedClaims {
    sub: String,
    #[serde(rename = "iss")]
    _issuer: String,
    #[serde(default)]
    iat: Option<f64>,
    #[serde(default)]
    nbf: Option<f64>,
    #[serde(default)]
    roles: Vec<String>,
    /// A positive integer, written as a number or a string of digits.
    #[serde(default)]
    tenant: Option<serde_json::Value>,
}

/// The claims of an issued token.
#[derive(Debug, Serialize)]
struct IssuedClaims<'a> {
    sub: String,
    exp: u64,
    iat: u64,
    iss: &'a str,
    aud: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    roles: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<String>,
}

impl Authenticator {
    pub(crate) fn new(config: JwtConfig) -> Result<Self, JwtConfigError> {
        let signer = config.check()?;

        let keys = config
            .keys
            .into_iter()
            .map(|key| {
                let mut validation = Validation::new(key.algorithm);
                validation.algorithms = vec![key.algorithm];
                validation.leeway = config.leeway.as_secs();
                validation.validate_exp = true;
                validation.validate_nbf = true;
                validation.validate_aud = true;
                validation.set_issuer(&[config.issuer.as_str()]);
                validation.set_audience(&[config.audience.as_str()]);
                validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
                VerifyingKey { key, validation }
            })
            .collect();

        Ok(Authenticator {
            keys,
            signer,
            leeway: config.leeway.as_secs(),
            lifetime: config.lifetime,
            issuer: config.issuer,
            audience: config.audience,
        })
    }

    /// Verifies the `Authorization: Bearer` header. Every failure is the
    /// same 401; the reason is kept for the log only.
    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let token = bearer_token(headers)?;
        let claims = self
            .verify(token)
            .map_err(|cause| ApiError::unauthorized().with_cause(cause))?;

        let subject = claims
            .sub
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| {
                ApiError::unauthorized().with_cause("`sub` is not a positive integer")
            })?;

        let tenant = match &claims.tenant {
            None => None,
            Some(value) => {
                let raw = match value {
                    serde_json::Value::Number(number) => number.as_i64(),
                    serde_json::Value::String(text) => text.parse::<i64>().ok(),
                    _ => None,
                };
                let id = raw.filter(|id| *id > 0).ok_or_else(|| {
                    ApiError::unauthorized().with_cause("`tenant` is not a positive integer")
                })?;
                Some(TenantId(id))
            }
        };

        Ok(Caller {
            subject: UserId(subject),
            tenant,
            roles: claims.roles,
        })
    }

    /// Checks the header, selects the key by `kid`, verifies the signature
    /// with that key's algorithm, then checks the claims. The error is the
    /// reason for the log.
    fn verify(&self, token: &str) -> Result<VerifiedClaims, String> {
        let header = token::read_header(token)?;
        let entry = self.select_key(header.kid.as_deref())?;

        // jsonwebtoken checks this too; rejecting first keeps the reason
        // exact, and covers every spelling of `none`.
        if header.alg != entry.key.algorithm() {
            return Err(format!(
                "the header's alg {:?} is not {}, the algorithm of key {:?}",
                header.alg,
                entry.key.algorithm(),
                entry.key.kid()
            ));
        }

        let data =
            jsonwebtoken::decode::<VerifiedClaims>(token, &entry.key.decoding, &entry.validation)
                .map_err(|error| {
                format!(
                    "verification with key {:?} failed: {error}",
                    entry.key.kid()
                )
            })?;
        let claims = data.claims;

        let latest = unix_now().map_err(|error| error.to_string())? + self.leeway;
        if claims.iat.is_some_and(|iat| iat > latest as f64) {
            return Err("`iat` is in the future beyond the leeway".to_string());
        }
        if claims.nbf.is_some_and(|nbf| nbf > latest as f64) {
            return Err("`nbf` is in the future beyond the leeway".to_string());
        }
        Ok(claims)
    }

    fn select_key(&self, kid: Option<&str>) -> Result<&VerifyingKey, String> {
        match (kid, self.keys.as_slice()) {
            (Some(kid), keys) => keys
                .iter()
                .find(|entry| entry.key.kid() == kid)
                .ok_or_else(|| format!("the kid {kid:?} names no configured key")),
            (None, [only]) => Ok(only),
            (None, _) => Err("the token has no kid and several keys are configured".to_string()),
        }
    }

    pub(crate) fn issue(
        &self,
        subject: UserId,
        roles: &[String],
        tenant: Option<TenantId>,
    ) -> Result<AccessToken, ApiError> {
        let signer = self
            .signer
            .map(|index| &self.keys[index].key)
            .ok_or_else(|| {
                ApiError::internal(
                    "no configured key can sign tokens; add an HS256 secret or a private key PEM",
                )
            })?;
        let encoding = signer.encoding.as_ref().ok_or_else(|| {
            ApiError::internal(format!(
                "the signing key {:?} has no private key",
                signer.kid()
            ))
        })?;

        let now = unix_now().map_err(ApiError::internal)?;
        let claims = IssuedClaims {
            sub: subject.0.to_string(),
            iat: now,
            exp: now + self.lifetime.as_secs(),
            iss: &self.issuer,
            aud: &self.audience,
            roles,
            tenant: tenant.map(|tenant| tenant.get().to_string()),
        };
        let mut header = Header::new(signer.algorithm);
        header.kid = Some(signer.kid().to_string());

        let token = jsonwebtoken::encode(&header, &claims, encoding).map_err(ApiError::internal)?;

        Ok(AccessToken {
            access_token: token,
            token_type: "Bearer",
            expires_in: self.lifetime.as_secs(),
        })
    }
}

fn unix_now() -> Result<u64, std::time::SystemTimeError> {
    Ok(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const SECRET: &[u8] = b"a unit test secret that is 32+ bytes long";

    fn build(config: JwtConfig) -> Result<Authenticator, JwtConfigError> {
        Authenticator::new(config)
    }

    /// Returns a base64url string of `len` bytes with the high bit set, so
    /// that it stands for a modulus of exactly `len * 8` bits.
    fn modulus(len: usize) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(vec![0xC5u8; len])
    }

    #[test]
    fn hs256_config_builds() {
        let auth = build(JwtConfig::hs256(SECRET, "issuer", "audience"))
            .expect("a 41-byte secret is accepted");

        assert_eq!(auth.keys.len(), 1);
        assert_eq!(auth.keys[0].key.kid(), DEFAULT_KID);
        assert_eq!(auth.signer, Some(0));
    }

    #[test]
    fn weak_secret_is_rejected() {
        let error = build(JwtConfig::hs256(
            &b"31 bytes are one byte too short"[..],
            "i",
            "a",
        ))
        .expect_err("a 31-byte secret is rejected");

        assert_eq!(
            error,
            JwtConfigError::SecretTooShort {
                kid: DEFAULT_KID.to_string(),
                len: 31
            }
        );
    }

    #[test]
    fn weak_secret_among_keys_is_rejected() {
        let config = JwtConfig::new("i", "a")
            .key(JwtKey::hs256("strong", SECRET))
            .key(JwtKey::hs256("weak", b"short"))
            .signing_key("strong");

        let error = build(config).expect_err("the weak second key is rejected");

        assert_eq!(
            error,
            JwtConfigError::SecretTooShort {
                kid: "weak".to_string(),
                len: 5
            }
        );
    }

    #[test]
    fn leeway_above_maximum_is_rejected() {
        let config = JwtConfig::hs256(SECRET, "i", "a").leeway(MAX_LEEWAY + Duration::from_secs(1));

        assert_eq!(build(config).err(), Some(JwtConfigError::LeewayTooLarge));
    }

    #[test]
    fn leeway_at_maximum_is_accepted() {
        let config = JwtConfig::hs256(SECRET, "i", "a").leeway(MAX_LEEWAY);

        assert!(build(config).is_ok());
    }

    #[test]
    fn kid_used_twice_is_rejected() {
        let config = JwtConfig::new("i", "a")
            .key(JwtKey::hs256("2026-05", SECRET))
            .key(JwtKey::hs256(
                "2026-05",
                b"another secret that is 32+ bytes long",
            ))
            .signing_key("2026-05");

        assert_eq!(
            build(config).err(),
            Some(JwtConfigError::DuplicateKid {
                kid: "2026-05".to_string()
            })
        );
    }

    #[test]
    fn empty_kid_is_rejected() {
        let config = JwtConfig::new("i", "a").key(JwtKey::hs256("", SECRET));

        assert_eq!(build(config).err(), Some(JwtConfigError::EmptyKid));
    }

    #[test]
    fn config_without_keys_is_rejected() {
        assert_eq!(
            build(JwtConfig::new("i", "a")).err(),
            Some(JwtConfigError::NoKeys)
        );
    }

    #[test]
    fn empty_issuer_or_audience_is_rejected() {
        assert_eq!(
            build(JwtConfig::hs256(SECRET, "", "a")).err(),
            Some(JwtConfigError::MissingIssuerOrAudience)
        );
        assert_eq!(
            build(JwtConfig::hs256(SECRET, "i", "")).err(),
            Some(JwtConfigError::MissingIssuerOrAudience)
        );
    }

    #[test]
    fn several_signers_need_a_choice() {
        let config = JwtConfig::new("i", "a")
            .key(JwtKey::hs256("old", SECRET))
            .key(JwtKey::hs256(
                "new",
                b"another secret that is 32+ bytes long",
            ));

        assert_eq!(
            build(config.clone()).err(),
            Some(JwtConfigError::SigningKeyNotChosen {
                kids: vec!["old".to_string(), "new".to_string()]
            })
        );

        let chosen = build(config.signing_key("new")).expect("the chosen key signs");
        assert_eq!(chosen.signer, Some(1));
    }

    #[test]
    fn unknown_signing_key_is_rejected() {
        let config = JwtConfig::hs256(SECRET, "i", "a").signing_key("missing");

        assert_eq!(
            build(config).err(),
            Some(JwtConfigError::UnknownSigningKey {
                kid: "missing".to_string()
            })
        );
    }

    #[test]
    fn public_signing_key_is_rejected() {
        let jwks = serde_json::json!({ "keys": [
            { "kty": "RSA", "kid": "rsa", "n": modulus(256), "e": "AQAB" },
        ]});
        let keys = JwtKey::from_jwks(&jwks.to_string()).expect("a 2048-bit RSA JWK is read");
        let config = JwtConfig::new("i", "a").keys(keys).signing_key("rsa");

        assert_eq!(
            build(config).err(),
            Some(JwtConfigError::SigningKeyCannotSign {
                kid: "rsa".to_string()
            })
        );
    }

    #[test]
    fn verification_only_config_builds_without_signer() {
        let jwks = serde_json::json!({ "keys": [
            { "kty": "RSA", "kid": "rsa", "alg": "RS256", "use": "sig", "n": modulus(256), "e": "AQAB" },
        ]});
        let keys = JwtKey::from_jwks(&jwks.to_string()).expect("a 2048-bit RSA JWK is read");

        let auth = build(JwtConfig::new("i", "a").keys(keys)).expect("public keys alone build");

        assert_eq!(auth.signer, None);
        assert!(auth.issue(UserId::new(1), &[], None).is_err());
    }

    #[test]
    fn jwks_small_rsa_modulus_is_rejected() {
        let jwks = serde_json::json!({ "keys": [
            { "kty": "RSA", "kid": "small", "n": modulus(128), "e": "AQAB" },
        ]});

        let error = JwtKey::from_jwks(&jwks.to_string()).expect_err("a 1024-bit key is rejected");

        assert!(error.to_string().contains("1024-bit"), "{error}");
    }

    #[test]
    fn jwks_symmetric_key_is_rejected() {
        let jwks = serde_json::json!({ "keys": [
            { "kty": "oct", "kid": "secret", "k": modulus(32) },
        ]});

        let error = JwtKey::from_jwks(&jwks.to_string()).expect_err("an oct key is rejected");

        assert!(error.to_string().contains("symmetric"), "{error}");
    }

    #[test]
    fn jwks_key_without_kid_is_rejected() {
        let jwks = serde_json::json!({ "keys": [
            { "kty": "RSA", "n": modulus(256), "e": "AQAB" },
        ]});

        let error = JwtKey::from_jwks(&jwks.to_string()).expect_err("a key needs a kid");

        assert!(error.to_string().contains("no `kid`"), "{error}");
    }

    #[test]
    fn jwks_other_curve_is_rejected() {
        let jwks = serde_json::json!({ "keys": [
            { "kty": "EC", "kid": "p384", "crv": "P-384", "x": modulus(48), "y": modulus(48) },
        ]});

        let error = JwtKey::from_jwks(&jwks.to_string()).expect_err("P-384 is rejected");

        assert!(error.to_string().contains("P-256"), "{error}");
    }

    #[test]
    fn jwks_mismatched_alg_is_rejected() {
        let jwks = serde_json::json!({ "keys": [
            { "kty": "RSA", "kid": "rsa", "alg": "PS256", "n": modulus(256), "e": "AQAB" },
        ]});

        let error = JwtKey::from_jwks(&jwks.to_string()).expect_err("PS256 is rejected");

        assert!(error.to_string().contains("PS256"), "{error}");
    }

    #[test]
    fn jwks_encryption_keys_are_skipped() {
        let jwks = serde_json::json!({ "keys": [
            { "kty": "RSA", "kid": "enc", "use": "enc", "alg": "RSA-OAEP", "n": modulus(256), "e": "AQAB" },
            { "kty": "RSA", "kid": "sig", "use": "sig", "n": modulus(256), "e": "AQAB" },
        ]});

        let keys = JwtKey::from_jwks(&jwks.to_string()).expect("the signature key is read");

        let kids: Vec<&str> = keys.iter().map(JwtKey::kid).collect();
        assert_eq!(kids, ["sig"]);
        assert_eq!(keys[0].algorithm(), "RS256");
        assert!(!keys[0].can_sign());
    }

    #[test]
    fn jwks_without_signature_keys_is_rejected() {
        let error = JwtKey::from_jwks(r#"{ "keys": [] }"#).expect_err("an empty set is rejected");

        assert!(
            matches!(error, JwtConfigError::InvalidJwks { .. }),
            "{error}"
        );
    }

    #[test]
    fn jwks_missing_file_is_reported() {
        let directory = tempfile::tempdir().expect("creating a temporary directory");
        let path = directory.path().join("missing.json");

        let error = JwtConfig::from_jwks_file(&path, "i", "a").expect_err("no file, no keys");

        assert!(error.to_string().contains("missing.json"), "{error}");
    }

    #[test]
    fn hs256_key_takes_no_private_pem() {
        let error = JwtConfig::hs256(SECRET, "i", "a")
            .signing_key_pem(DEFAULT_KID, "-----BEGIN PRIVATE KEY-----")
            .expect_err("an HS256 key has no PEM");

        assert!(
            matches!(error, JwtConfigError::InvalidKey { .. }),
            "{error}"
        );
    }

    #[test]
    fn invalid_public_pem_is_rejected() {
        let error = JwtKey::rs256_public_pem("rsa", "not a PEM file").expect_err("garbage");

        assert!(
            matches!(error, JwtConfigError::InvalidKey { .. }),
            "{error}"
        );
    }

    #[test]
    fn debug_output_hides_secrets() {
        let config = JwtConfig::hs256(SECRET, "i", "a");

        let output = format!("{config:?}");

        assert!(!output.contains("unit test secret"), "{output}");
        assert!(output.contains(DEFAULT_KID), "{output}");
    }
}
