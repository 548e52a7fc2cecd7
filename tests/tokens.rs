//! Token verification against the known JWT attacks, for each supported
//! algorithm (HS256, RS256, ES256, EdDSA).
//!
//! Every test makes its keys here: HS256 secrets and P-256 and Ed25519 key
//! pairs with ring, RSA key pairs with the `openssl` command. Without
//! `openssl` the RS256 cases are skipped with a notice, unless `CI` is set,
//! where they fail. Each test serves a small app on a loopback port with one
//! protected route, `GET /me`, and one public route that issues a token,
//! `GET /token`.

use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use gauntlet::auth::JwtConfigError;
use gauntlet::prelude::*;
use gauntlet::{AccessToken, App, BuildError, Database, JwtConfig, JwtKey};
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::StatusCode;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use tokio::net::TcpListener;

const ISSUER: &str = "tokens-test";
const AUDIENCE: &str = "tokens-test-api";

/// The user id that every test token names, and the one row of `accounts`.
const SUBJECT: i64 = 7;

/// The leeway of every test server; the crafted times lie well beyond it.
const LEEWAY: Duration = Duration::from_secs(30);

/// The DER prefix of a SubjectPublicKeyInfo for an uncompressed P-256 point
/// (RFC 5480): id-ecPublicKey, prime256v1, then a 66-byte BIT STRING.
const P256_SPKI_PREFIX: &[u8] = &[
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The DER prefix of a SubjectPublicKeyInfo for an Ed25519 key (RFC 8410).
const ED25519_SPKI_PREFIX: &[u8] = &[
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

// ---------------------------------------------------------------------------
// The app under test
// ---------------------------------------------------------------------------

#[derive(Debug, Resource)]
#[resource(table = "accounts", owner = "id")]
pub struct Account {
    #[resource(id)]
    pub id: UserId,
    pub name: String,
}

/// Returns the caller's own account: 200 only for a verified token of
/// [`SUBJECT`].
#[get("/me")]
async fn me(caller: Caller, db: Db) -> ApiResult<Owned<Account>> {
    let id = Id::new(caller.subject().get()).ok_or_else(ApiError::not_found)?;
    Account::owned_by(&caller).get(&db, id).await
}

/// Issues a token for [`SUBJECT`] with the app's signing key, after
/// checking that the account exists, as a login route would.
#[get(
    "/token",
    public,
    unscoped(reason = "issues a token for the test account before anyone is authenticated")
)]
async fn issue_token(db: UnscopedDb, tokens: Tokens) -> ApiResult<Public<AccessToken>> {
    let pool = db.pool().as_sqlite().ok_or_else(ApiError::not_found)?;
    let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM accounts WHERE id = ?")
        .bind(SUBJECT)
        .fetch_optional(pool)
        .await?;
    let (id,) = found.ok_or_else(ApiError::unauthorized)?;
    Ok(Public(tokens.issue(UserId::new(id))?))
}

struct Server {
    base: String,
    client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _directory: tempfile::TempDir,
}

/// A response read in full.
struct Reply {
    status: StatusCode,
    www_authenticate: Option<String>,
    content_type: Option<String>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("the body is not JSON ({error}): {}", self.body))
    }

    /// Returns the problem document without its `request_id`, which differs
    /// between any two requests.
    fn problem_without_request_id(&self) -> Value {
        let mut problem = self.json();
        if let Some(object) = problem.as_object_mut() {
            object.remove("request_id");
        }
        problem
    }
}

async fn build_app(config: JwtConfig, directory: &tempfile::TempDir) -> Result<App, BuildError> {
    let url = format!("sqlite://{}", directory.path().join("tokens.db").display());
    let database = Database::connect(&url).await.expect("opening SQLite");
    sqlx::query("CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        .execute(
            database
                .setup_pool()
                .as_sqlite()
                .expect("a SQLite database"),
        )
        .await
        .expect("creating the accounts table");
    sqlx::query("INSERT OR IGNORE INTO accounts (id, name) VALUES (?, 'seven')")
        .bind(SUBJECT)
        .execute(
            database
                .setup_pool()
                .as_sqlite()
                .expect("a SQLite database"),
        )
        .await
        .expect("inserting the test account");

    App::builder()
        .database(database)
        .jwt(config)
        .route(me)
        .route(issue_token)
        .build()
}

/// Serves an app with `config` on a free loopback port.
async fn start(config: JwtConfig) -> Server {
    let directory = tempfile::tempdir().expect("creating a temporary directory");
    let app = build_app(config.leeway(LEEWAY), &directory)
        .await
        .expect("building the app");

    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("a local address"));
    let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(app.serve(listener, async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("building the HTTP client");

    Server {
        base,
        client,
        shutdown: Some(shutdown),
        task,
        _directory: directory,
    }
}

impl Server {
    /// Sends `GET path`, with `Authorization: Bearer <token>` when a token
    /// is given.
    async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: no response: {error}"));
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_string)
        };
        let www_authenticate = header("www-authenticate");
        let content_type = header("content-type");
        let status = response.status();
        let body = response.text().await.expect("reading the response body");
        Reply {
            status,
            www_authenticate,
            content_type,
            body,
        }
    }

    /// Checks that `token` authenticates as [`SUBJECT`] on `GET /me`.
    async fn assert_accepted(&self, token: &str, case: &str) {
        let reply = self.get("/me", Some(token)).await;

        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{case}: the token must be accepted: {}",
            reply.body
        );
        assert_eq!(
            reply.json()["id"],
            SUBJECT,
            "{case}: the token must authenticate user {SUBJECT}"
        );
    }

    /// Checks that `token` gets the same 401 as a request without a token:
    /// the generic problem body and a `Bearer` challenge.
    async fn assert_rejected(&self, token: &str, case: &str) {
        let reference = self.get("/me", None).await;
        let reply = self.get("/me", Some(token)).await;

        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{case}: the token must be rejected: {}",
            reply.body
        );
        assert_eq!(
            reply.www_authenticate.as_deref(),
            Some("Bearer"),
            "{case}: the 401 must carry `WWW-Authenticate: Bearer`"
        );
        assert_eq!(
            reply.content_type.as_deref(),
            Some("application/problem+json"),
            "{case}: the 401 must be a problem document"
        );
        assert_eq!(
            reply.problem_without_request_id(),
            reference.problem_without_request_id(),
            "{case}: the 401 body must be the generic one a request without a token gets"
        );
    }

    async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .expect("the server stops within five seconds")
            .expect("the server task does not panic")
            .expect("the server stops without an error");
    }
}

// ---------------------------------------------------------------------------
// Keys made by the tests
// ---------------------------------------------------------------------------

/// The keys of one algorithm: the test's copy for crafting tokens and the
/// server's configuration.
struct Material {
    /// The JWS `alg` name.
    name: &'static str,
    algorithm: Algorithm,
    kid: String,
    /// Signs the tokens the test crafts.
    encoding: EncodingKey,
    /// What the server verifies with: the secret, or the public key only.
    verifying: JwtKey,
    /// The secret or the whole key pair, so the server can issue tokens.
    signing: JwtKey,
    /// The public key PEM, which an algorithm-confusion attack uses as an
    /// HMAC secret. `None` for HS256.
    public_pem: Option<Vec<u8>>,
    /// The private key PEM. `None` for HS256.
    private_pem: Option<Vec<u8>>,
    /// The public key as a JWK. `None` for HS256.
    jwk: Option<Value>,
}

fn base64url(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Wraps DER in a PEM block with 64-character lines.
fn pem(label: &str, der: &[u8]) -> Vec<u8> {
    let encoded = STANDARD.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in encoded.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        text.push('\n');
    }
    text.push_str(&format!("-----END {label}-----\n"));
    text.into_bytes()
}

fn hs256(kid: &str) -> Material {
    let mut secret = [0u8; 32];
    SystemRandom::new()
        .fill(&mut secret)
        .expect("generating an HS256 secret");
    let key = JwtKey::hs256(kid, secret);
    Material {
        name: "HS256",
        algorithm: Algorithm::HS256,
        kid: kid.to_string(),
        encoding: EncodingKey::from_secret(&secret),
        verifying: key.clone(),
        signing: key,
        public_pem: None,
        private_pem: None,
        jwk: None,
    }
}

fn es256(kid: &str) -> Material {
    let random = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random)
        .expect("generating a P-256 key");
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &random)
        .expect("reading the generated P-256 key");
    let point = pair.public_key().as_ref().to_vec();
    assert_eq!(point.len(), 65, "ring returns an uncompressed P-256 point");

    let private_pem = pem("PRIVATE KEY", pkcs8.as_ref());
    let public_pem = pem("PUBLIC KEY", &[P256_SPKI_PREFIX, &point].concat());
    let jwk = json!({
        "kty": "EC",
        "crv": "P-256",
        "kid": kid,
        "alg": "ES256",
        "use": "sig",
        "x": base64url(&point[1..33]),
        "y": base64url(&point[33..65]),
    });
    asymmetric(
        "ES256",
        Algorithm::ES256,
        kid,
        EncodingKey::from_ec_der(pkcs8.as_ref()),
        KeyFiles {
            private_pem,
            public_pem,
            jwk,
        },
        JwtKey::es256_public_pem,
        JwtKey::es256_private_pem,
    )
}

fn ed25519(kid: &str) -> Material {
    let pkcs8 =
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("generating an Ed25519 key");
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("reading the Ed25519 key");
    let public = pair.public_key().as_ref().to_vec();

    let private_pem = pem("PRIVATE KEY", pkcs8.as_ref());
    let public_pem = pem("PUBLIC KEY", &[ED25519_SPKI_PREFIX, &public].concat());
    let jwk = json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "kid": kid,
        "alg": "EdDSA",
        "x": base64url(&public),
    });
    asymmetric(
        "EdDSA",
        Algorithm::EdDSA,
        kid,
        EncodingKey::from_ed_der(pkcs8.as_ref()),
        KeyFiles {
            private_pem,
            public_pem,
            jwk,
        },
        JwtKey::ed25519_public_pem,
        JwtKey::ed25519_private_pem,
    )
}

/// Returns RS256 keys, or `None` after a notice when `openssl` is missing
/// and `CI` is unset.
fn rs256(kid: &str) -> Option<Material> {
    let files = rsa_key_files()?;
    // Each kid gets its own key pair; two kids are enough for every test.
    let (private_pem, public_pem, modulus) = if kid.ends_with("-b") {
        &files[1]
    } else {
        &files[0]
    };
    let jwk = json!({
        "kty": "RSA",
        "kid": kid,
        "alg": "RS256",
        "use": "sig",
        "n": base64url(modulus),
        "e": "AQAB",
    });
    Some(asymmetric(
        "RS256",
        Algorithm::RS256,
        kid,
        EncodingKey::from_rsa_pem(private_pem).expect("reading the RSA private key PEM"),
        KeyFiles {
            private_pem: private_pem.clone(),
            public_pem: public_pem.clone(),
            jwk,
        },
        JwtKey::rs256_public_pem,
        JwtKey::rs256_private_pem,
    ))
}

type PublicPem = fn(String, Vec<u8>) -> Result<JwtKey, JwtConfigError>;
type PrivatePem = fn(String, Vec<u8>, Vec<u8>) -> Result<JwtKey, JwtConfigError>;

/// The PEM files and JWK of an asymmetric key pair.
struct KeyFiles {
    private_pem: Vec<u8>,
    public_pem: Vec<u8>,
    jwk: Value,
}

/// Configures the server's keys from `files` with the `JwtKey` readers of
/// one algorithm.
fn asymmetric(
    name: &'static str,
    algorithm: Algorithm,
    kid: &str,
    encoding: EncodingKey,
    files: KeyFiles,
    public_key: PublicPem,
    key_pair: PrivatePem,
) -> Material {
    let KeyFiles {
        private_pem,
        public_pem,
        jwk,
    } = files;
    let verifying = public_key(kid.to_string(), public_pem.clone())
        .unwrap_or_else(|error| panic!("{name}: reading the public key PEM failed: {error}"));
    let signing = key_pair(kid.to_string(), private_pem.clone(), public_pem.clone())
        .unwrap_or_else(|error| panic!("{name}: reading the key pair PEMs failed: {error}"));
    Material {
        name,
        algorithm,
        kid: kid.to_string(),
        encoding,
        verifying,
        signing,
        public_pem: Some(public_pem),
        private_pem: Some(private_pem),
        jwk: Some(jwk),
    }
}

/// A private key PEM, its public key PEM and its modulus.
type RsaFiles = (Vec<u8>, Vec<u8>, Vec<u8>);

/// Generates two 2048-bit RSA key pairs with `openssl`, once per test run.
fn rsa_key_files() -> Option<&'static [RsaFiles]> {
    static FILES: OnceLock<Option<Vec<RsaFiles>>> = OnceLock::new();
    FILES
        .get_or_init(|| {
            if Command::new("openssl").arg("version").output().is_err() {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "the `openssl` command is required in CI to generate the RS256 test keys"
                );
                eprintln!(
                    "NOTE: `openssl` was not found, so the RS256 cases are skipped; install it to run them"
                );
                return None;
            }
            Some(vec![generate_rsa(), generate_rsa()])
        })
        .as_deref()
}

fn generate_rsa() -> RsaFiles {
    let directory = tempfile::tempdir().expect("creating a directory for the RSA key");
    let private_path = directory.path().join("private.pem");
    let public_path = directory.path().join("public.pem");

    run_openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        path_arg(&private_path),
    ]);
    run_openssl(&[
        "pkey",
        "-in",
        path_arg(&private_path),
        "-pubout",
        "-out",
        path_arg(&public_path),
    ]);
    let modulus = run_openssl(&["rsa", "-in", path_arg(&private_path), "-noout", "-modulus"]);
    let hex = modulus
        .trim()
        .strip_prefix("Modulus=")
        .unwrap_or_else(|| panic!("unexpected `openssl rsa -modulus` output: {modulus}"));
    let modulus = (0..hex.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(&hex[index..index + 2], 16).expect("a hex modulus"))
        .collect();

    (
        std::fs::read(&private_path).expect("reading the RSA private key"),
        std::fs::read(&public_path).expect("reading the RSA public key"),
        modulus,
    )
}

fn path_arg(path: &std::path::Path) -> &str {
    path.to_str().expect("the temporary path is UTF-8")
}

fn run_openssl(args: &[&str]) -> String {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("running openssl");
    assert!(
        output.status.success(),
        "openssl {} failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("openssl prints UTF-8")
}

// ---------------------------------------------------------------------------
// Crafting tokens
// ---------------------------------------------------------------------------

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs()
}

/// Returns claims that the test servers accept, valid for ten minutes.
fn valid_claims() -> Value {
    let now = now();
    json!({
        "sub": SUBJECT.to_string(),
        "iat": now,
        "exp": now + 600,
        "iss": ISSUER,
        "aud": AUDIENCE,
    })
}

/// Returns the header of a token signed by `material`, naming its kid.
fn header_of(material: &Material) -> Value {
    json!({ "alg": material.name, "typ": "JWT", "kid": material.kid })
}

/// Joins the encoded header and claims and signs them with `key`.
fn sign_parts(header: &Value, claims: &Value, key: &EncodingKey, algorithm: Algorithm) -> String {
    let input = format!(
        "{}.{}",
        base64url(header.to_string()),
        base64url(claims.to_string())
    );
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, algorithm)
        .expect("signing the test token");
    format!("{input}.{signature}")
}

/// Signs `header` and `claims` with the material's own key and algorithm.
fn mint(material: &Material, header: &Value, claims: &Value) -> String {
    sign_parts(header, claims, &material.encoding, material.algorithm)
}

/// Replaces the signature segment of `token`.
fn with_signature(token: &str, signature: &str) -> String {
    let (input, _) = token
        .rsplit_once('.')
        .expect("a token has a signature segment");
    format!("{input}.{signature}")
}

fn signature_of(token: &str) -> &str {
    token
        .rsplit_once('.')
        .expect("a token has a signature segment")
        .1
}

fn without(mut claims: Value, name: &str) -> Value {
    claims
        .as_object_mut()
        .expect("claims are an object")
        .remove(name);
    claims
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

/// Every crafted token that a server configured with `material` alone must
/// reject, each with the name of its case.
fn crafted_tokens(material: &Material) -> Vec<(String, String)> {
    let header = header_of(material);
    let claims = valid_claims();
    let valid = mint(material, &header, &claims);
    let now = now();
    let mut cases: Vec<(String, String)> = Vec::new();

    // `alg: none` in several spellings, with no signature or the valid one.
    for spelling in ["none", "None", "NONE", "nOnE"] {
        let unsigned = with(header.clone(), "alg", json!(spelling));
        let input = format!(
            "{}.{}",
            base64url(unsigned.to_string()),
            base64url(claims.to_string())
        );
        cases.push((
            format!("alg {spelling:?} without signature"),
            format!("{input}."),
        ));
        cases.push((
            format!("alg {spelling:?} with the valid signature kept"),
            format!("{input}.{}", signature_of(&valid)),
        ));
    }

    // The header names another algorithm, and the key really signed it.
    for other in [
        "HS256", "HS384", "HS512", "RS256", "RS512", "PS256", "ES256", "ES384", "EdDSA", "hs256",
        "rs256", "es256", "eddsa",
    ] {
        if other == material.name {
            continue;
        }
        let relabelled = with(header.clone(), "alg", json!(other));
        cases.push((
            format!(
                "alg relabelled to {other}, signed by the {} key",
                material.name
            ),
            mint(material, &relabelled, &claims),
        ));
    }

    // The same key under a sibling algorithm of its family, correctly
    // signed: a verifier that checked only the key type would accept these.
    let siblings: &[(&str, Algorithm)] = match material.algorithm {
        Algorithm::HS256 => &[("HS384", Algorithm::HS384), ("HS512", Algorithm::HS512)],
        Algorithm::RS256 => &[
            ("RS384", Algorithm::RS384),
            ("RS512", Algorithm::RS512),
            ("PS256", Algorithm::PS256),
        ],
        _ => &[],
    };
    for (sibling, algorithm) in siblings {
        let relabelled = with(header.clone(), "alg", json!(sibling));
        cases.push((
            format!("{sibling} signed with the {} key", material.name),
            sign_parts(&relabelled, &claims, &material.encoding, *algorithm),
        ));
    }

    // Algorithm confusion: the public key PEM used as an HMAC secret.
    if let Some(public_pem) = &material.public_pem {
        let confused = with(header.clone(), "alg", json!("HS256"));
        cases.push((
            "HS256 signed with the public key PEM as secret".to_string(),
            sign_parts(
                &confused,
                &claims,
                &EncodingKey::from_secret(public_pem),
                Algorithm::HS256,
            ),
        ));
        let trimmed = public_pem.trim_ascii_end();
        cases.push((
            "HS256 signed with the trimmed public key PEM as secret".to_string(),
            sign_parts(
                &confused,
                &claims,
                &EncodingKey::from_secret(trimmed),
                Algorithm::HS256,
            ),
        ));
    }

    // Signatures that are not the key's signature of this token.
    let signature = signature_of(&valid);
    let signature_bytes = URL_SAFE_NO_PAD
        .decode(signature)
        .expect("the signature is base64url");
    cases.push(("empty signature".to_string(), with_signature(&valid, "")));
    cases.push((
        "signature truncated to half".to_string(),
        with_signature(
            &valid,
            &base64url(&signature_bytes[..signature_bytes.len() / 2]),
        ),
    ));
    cases.push((
        "signature missing its last byte".to_string(),
        with_signature(
            &valid,
            &base64url(&signature_bytes[..signature_bytes.len() - 1]),
        ),
    ));
    cases.push((
        "signature of zero bytes only".to_string(),
        with_signature(&valid, &base64url(vec![0u8; signature_bytes.len()])),
    ));
    let mut flipped = signature_bytes.clone();
    flipped[0] ^= 0x01;
    cases.push((
        "signature with one bit flipped".to_string(),
        with_signature(&valid, &base64url(&flipped)),
    ));
    let other_subject = with(claims.clone(), "sub", json!("8"));
    let tampered_input = format!(
        "{}.{}",
        base64url(header.to_string()),
        base64url(other_subject.to_string())
    );
    cases.push((
        "claims changed after signing".to_string(),
        format!("{tampered_input}.{signature}"),
    ));

    // Claims: times, issuer and audience.
    let claim_cases = [
        ("exp missing", without(claims.clone(), "exp")),
        (
            "exp past the leeway",
            with(claims.clone(), "exp", json!(now - 120)),
        ),
        (
            "exp as a string",
            with(claims.clone(), "exp", json!((now + 600).to_string())),
        ),
        (
            "nbf in the future",
            with(claims.clone(), "nbf", json!(now + 600)),
        ),
        (
            "nbf as a string",
            with(claims.clone(), "nbf", json!((now + 600).to_string())),
        ),
        (
            "iat in the future",
            with(claims.clone(), "iat", json!(now + 600)),
        ),
        ("iss missing", without(claims.clone(), "iss")),
        (
            "iss wrong",
            with(claims.clone(), "iss", json!("someone-else")),
        ),
        (
            "iss as a list",
            with(claims.clone(), "iss", json!([ISSUER, "someone-else"])),
        ),
        ("aud missing", without(claims.clone(), "aud")),
        (
            "aud wrong",
            with(claims.clone(), "aud", json!("another-api")),
        ),
        ("sub missing", without(claims.clone(), "sub")),
    ];
    for (case, crafted) in claim_cases {
        cases.push((case.to_string(), mint(material, &header, &crafted)));
    }

    // Key selection and key references in the header.
    cases.push((
        "kid naming no configured key".to_string(),
        mint(
            material,
            &with(header.clone(), "kid", json!("unknown-kid")),
            &claims,
        ),
    ));
    cases.push((
        "kid that is not a string".to_string(),
        mint(material, &with(header.clone(), "kid", json!(1)), &claims),
    ));
    let references = [
        ("jku", json!("http://127.0.0.1:9/jwks.json")),
        ("x5u", json!("http://127.0.0.1:9/cert.pem")),
        (
            "jwk",
            material
                .jwk
                .clone()
                .unwrap_or_else(|| json!({ "kty": "oct", "k": base64url(b"attacker") })),
        ),
        ("x5c", json!(["MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGU="])),
    ];
    for (name, value) in references {
        cases.push((
            format!("header carrying {name}"),
            mint(material, &with(header.clone(), name, value), &claims),
        ));
    }
    cases.push((
        "header with crit".to_string(),
        mint(
            material,
            &with(header.clone(), "crit", json!(["exp"])),
            &claims,
        ),
    ));

    cases
}

/// Serves an app that verifies with `material` alone, checks that a
/// correctly signed token passes and that every crafted token gets the
/// generic 401.
async fn check_attacks(material: &Material) {
    let server = start(JwtConfig::new(ISSUER, AUDIENCE).key(material.verifying.clone())).await;
    let name = material.name;

    let valid = mint(material, &header_of(material), &valid_claims());
    server
        .assert_accepted(&valid, &format!("{name}: correctly signed token"))
        .await;
    let without_kid = json!({ "alg": material.name, "typ": "JWT" });
    server
        .assert_accepted(
            &mint(material, &without_kid, &valid_claims()),
            &format!("{name}: token without kid, one key configured"),
        )
        .await;

    for (case, token) in crafted_tokens(material) {
        server
            .assert_rejected(&token, &format!("{name}: {case}"))
            .await;
    }
    server.stop().await;
}

#[tokio::test]
async fn hs256_attacks_are_rejected() {
    check_attacks(&hs256("hs-a")).await;
}

#[tokio::test]
async fn rs256_attacks_are_rejected() {
    let Some(material) = rs256("rs-a") else {
        return;
    };
    check_attacks(&material).await;
}

#[tokio::test]
async fn es256_attacks_are_rejected() {
    check_attacks(&es256("es-a")).await;
}

#[tokio::test]
async fn eddsa_attacks_are_rejected() {
    check_attacks(&ed25519("ed-a")).await;
}

/// The classic confusion attack spelled out: a verifier that took `alg`
/// from the header would check this HMAC with the public key as secret.
#[tokio::test]
async fn rsa_public_key_as_hmac_secret_is_rejected() {
    let Some(material) = rs256("rs-a") else {
        return;
    };
    let public_pem = material.public_pem.clone().expect("an RSA key has a PEM");
    let server = start(JwtConfig::new(ISSUER, AUDIENCE).key(material.verifying.clone())).await;

    let header = json!({ "alg": "HS256", "typ": "JWT", "kid": material.kid });
    let forged = sign_parts(
        &header,
        &valid_claims(),
        &EncodingKey::from_secret(&public_pem),
        Algorithm::HS256,
    );
    server
        .assert_rejected(&forged, "HS256 token signed with the RS256 public key PEM")
        .await;

    let unnamed = json!({ "alg": "HS256", "typ": "JWT" });
    let forged = sign_parts(
        &unnamed,
        &valid_claims(),
        &EncodingKey::from_secret(&public_pem),
        Algorithm::HS256,
    );
    server
        .assert_rejected(&forged, "the same forgery without kid")
        .await;
    server.stop().await;
}

// ---------------------------------------------------------------------------
// Rotation and several algorithms at once
// ---------------------------------------------------------------------------

/// Checks two keys of one algorithm. Tokens of either kid pass, and a token
/// without kid or under the other key's kid fails. After the old key is
/// removed, its tokens fail.
async fn check_rotation(old: &Material, new: &Material) {
    let name = old.name;
    let old_token = mint(old, &header_of(old), &valid_claims());
    let new_token = mint(new, &header_of(new), &valid_claims());

    let mut both = JwtConfig::new(ISSUER, AUDIENCE)
        .key(old.verifying.clone())
        .key(new.verifying.clone());
    // Two HS256 secrets can both sign, so the app needs the signing kid.
    if new.verifying.can_sign() {
        both = both.signing_key(new.kid.clone());
    }
    let server = start(both).await;
    server
        .assert_accepted(&old_token, &format!("{name}: token of the old kid"))
        .await;
    server
        .assert_accepted(&new_token, &format!("{name}: token of the new kid"))
        .await;
    let no_kid = json!({ "alg": name, "typ": "JWT" });
    server
        .assert_rejected(
            &mint(new, &no_kid, &valid_claims()),
            &format!("{name}: token without kid while two keys are configured"),
        )
        .await;
    server
        .assert_rejected(
            &mint(new, &header_of(old), &valid_claims()),
            &format!("{name}: token signed by the new key under the old kid"),
        )
        .await;
    server.stop().await;

    let server = start(JwtConfig::new(ISSUER, AUDIENCE).key(new.verifying.clone())).await;
    server
        .assert_rejected(&old_token, &format!("{name}: token of a removed kid"))
        .await;
    server
        .assert_accepted(&new_token, &format!("{name}: token of the remaining kid"))
        .await;
    server.stop().await;
}

#[tokio::test]
async fn hs256_rotation() {
    check_rotation(&hs256("hs-a"), &hs256("hs-b")).await;
}

#[tokio::test]
async fn rs256_rotation() {
    let (Some(old), Some(new)) = (rs256("rs-a"), rs256("rs-b")) else {
        return;
    };
    check_rotation(&old, &new).await;
}

#[tokio::test]
async fn es256_rotation() {
    check_rotation(&es256("es-a"), &es256("es-b")).await;
}

#[tokio::test]
async fn eddsa_rotation() {
    check_rotation(&ed25519("ed-a"), &ed25519("ed-b")).await;
}

/// Returns the keys of every algorithm: HS256, ES256 and EdDSA always,
/// RS256 when `openssl` is present.
fn all_materials() -> Vec<Material> {
    let mut materials = vec![hs256("hs-a"), es256("es-a"), ed25519("ed-a")];
    materials.extend(rs256("rs-a"));
    materials
}

/// One key of each algorithm in one configuration: each kid verifies with
/// its own algorithm only.
#[tokio::test]
async fn mixed_algorithms_select_by_kid() {
    let materials = all_materials();
    let config = materials
        .iter()
        .fold(JwtConfig::new(ISSUER, AUDIENCE), |config, material| {
            config.key(material.verifying.clone())
        });
    let server = start(config).await;

    for material in &materials {
        let token = mint(material, &header_of(material), &valid_claims());
        server
            .assert_accepted(&token, &format!("{}: token of its own kid", material.name))
            .await;
    }
    for signer in &materials {
        for named in &materials {
            if signer.kid == named.kid {
                continue;
            }
            let token = mint(signer, &header_of(named), &valid_claims());
            server
                .assert_rejected(
                    &token,
                    &format!(
                        "{} signature under the kid of the {} key",
                        signer.name, named.name
                    ),
                )
                .await;
        }
    }
    server.stop().await;
}

// ---------------------------------------------------------------------------
// JWKS files, issued tokens and configuration errors
// ---------------------------------------------------------------------------

#[tokio::test]
async fn jwks_file_keys_verify_tokens() {
    let materials: Vec<Material> = all_materials()
        .into_iter()
        .filter(|material| material.jwk.is_some())
        .collect();
    let mut keys: Vec<Value> = materials
        .iter()
        .filter_map(|material| material.jwk.clone())
        .collect();
    // An encryption key, which the loader skips.
    keys.push(json!({
        "kty": "EC", "crv": "P-256", "kid": "encryption", "use": "enc",
        "x": base64url([1u8; 32]), "y": base64url([2u8; 32]),
    }));
    let directory = tempfile::tempdir().expect("creating a directory for the JWKS");
    let path = directory.path().join("jwks.json");
    std::fs::write(&path, json!({ "keys": keys }).to_string()).expect("writing the JWKS");

    let config = JwtConfig::from_jwks_file(&path, ISSUER, AUDIENCE).expect("reading the JWKS");
    let server = start(config).await;

    for material in &materials {
        let token = mint(material, &header_of(material), &valid_claims());
        server
            .assert_accepted(&token, &format!("{}: token of a JWKS key", material.name))
            .await;
        let no_kid = json!({ "alg": material.name, "typ": "JWT" });
        server
            .assert_rejected(
                &mint(material, &no_kid, &valid_claims()),
                &format!("{}: token without kid against a JWKS", material.name),
            )
            .await;
    }
    let stranger = es256("es-stranger");
    server
        .assert_rejected(
            &mint(&stranger, &header_of(&stranger), &valid_claims()),
            "token of a kid that the JWKS does not list",
        )
        .await;
    let issued = server.get("/token", None).await;
    assert_eq!(
        issued.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "public keys alone cannot issue tokens: {}",
        issued.body
    );
    server.stop().await;
}

#[tokio::test]
async fn jwks_with_private_key_issues_tokens() {
    let material = es256("es-a");
    let directory = tempfile::tempdir().expect("creating a directory for the JWKS");
    let path = directory.path().join("jwks.json");
    let jwks = json!({ "keys": [material.jwk.clone().expect("an ES256 JWK")] });
    std::fs::write(&path, jwks.to_string()).expect("writing the JWKS");
    let private_pem = material.private_pem.clone().expect("an ES256 private key");

    // ANCHOR: jwks_signing
    let config = JwtConfig::from_jwks_file(&path, ISSUER, AUDIENCE)
        .expect("reading the JWKS")
        .signing_key_pem(&material.kid, &private_pem)
        .expect("the private key matches the JWKS key");
    // ANCHOR_END: jwks_signing
    let server = start(config).await;

    let issued = server.get("/token", None).await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.body);
    let token = issued.json()["access_token"]
        .as_str()
        .expect("an access token")
        .to_string();
    let header = jsonwebtoken::decode_header(&token).expect("a JWT header");
    assert_eq!(header.kid.as_deref(), Some("es-a"));
    server
        .assert_accepted(&token, "token issued with the JWKS key's private part")
        .await;
    server.stop().await;
}

/// For each algorithm, the app issues tokens with the signing key's kid and
/// algorithm and the default lifetime, and accepts them.
#[tokio::test]
async fn issued_tokens_carry_signing_kid() {
    for material in all_materials() {
        let name = material.name;
        let server = start(JwtConfig::new(ISSUER, AUDIENCE).key(material.signing.clone())).await;

        let issued = server.get("/token", None).await;
        assert_eq!(issued.status, StatusCode::OK, "{name}: {}", issued.body);
        let body = issued.json();
        let token = body["access_token"].as_str().expect("an access token");
        let header = jsonwebtoken::decode_header(token).expect("a JWT header");

        assert_eq!(header.kid.as_deref(), Some(material.kid.as_str()), "{name}");
        assert_eq!(header.alg, material.algorithm, "{name}");
        assert_eq!(
            body["expires_in"],
            gauntlet::auth::DEFAULT_LIFETIME.as_secs(),
            "{name}: the default lifetime"
        );
        server
            .assert_accepted(token, &format!("{name}: issued token"))
            .await;
        server.stop().await;
    }
}

#[tokio::test]
async fn rotation_signs_with_chosen_key() {
    let old = hs256("hs-a");
    let new = hs256("hs-b");
    // ANCHOR: rotation_config
    let config = JwtConfig::new(ISSUER, AUDIENCE)
        .key(old.signing.clone())
        .key(new.signing.clone())
        .signing_key("hs-b");
    // ANCHOR_END: rotation_config
    let server = start(config).await;

    let issued = server.get("/token", None).await;
    let body = issued.json();
    let token = body["access_token"].as_str().expect("an access token");
    let header = jsonwebtoken::decode_header(token).expect("a JWT header");

    assert_eq!(header.kid.as_deref(), Some("hs-b"));
    server
        .assert_accepted(token, "token issued with the chosen key")
        .await;
    server.stop().await;
}

#[test]
fn mismatched_key_pair_is_rejected() {
    let mut pairs = vec![
        (es256("es-a"), es256("es-b")),
        (ed25519("ed-a"), ed25519("ed-b")),
    ];
    if let (Some(first), Some(second)) = (rs256("rs-a"), rs256("rs-b")) {
        pairs.push((first, second));
    }
    let readers: [(&str, PrivatePem); 3] = [
        ("ES256", JwtKey::es256_private_pem),
        ("EdDSA", JwtKey::ed25519_private_pem),
        ("RS256", JwtKey::rs256_private_pem),
    ];

    for (first, second) in pairs {
        let (_, read) = readers
            .iter()
            .find(|(name, _)| *name == first.name)
            .expect("a reader for each algorithm");
        let private_pem = first.private_pem.clone().expect("a private key");
        let other_public_pem = second.public_pem.clone().expect("a public key");

        let error = read("mixed".to_string(), private_pem, other_public_pem)
            .expect_err("a private key with another key's public key is rejected");

        assert!(
            matches!(error, JwtConfigError::InvalidKey { .. }),
            "{}: {error}",
            first.name
        );
    }
}

#[test]
fn private_pem_of_another_algorithm_is_rejected() {
    let ed = ed25519("ed-a");
    let es = es256("es-a");

    let error = JwtKey::es256_private_pem(
        "mixed",
        ed.private_pem.clone().expect("an Ed25519 private key"),
        es.public_pem.clone().expect("a P-256 public key"),
    )
    .expect_err("an Ed25519 private key is not an ES256 key");

    assert!(
        matches!(error, JwtConfigError::InvalidKey { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn weak_secret_stops_the_build() {
    let directory = tempfile::tempdir().expect("creating a temporary directory");

    let result = build_app(
        JwtConfig::hs256(&b"only 22 bytes of key.."[..], ISSUER, AUDIENCE),
        &directory,
    )
    .await;

    match result {
        Err(BuildError::Jwt(JwtConfigError::SecretTooShort { len, .. })) => assert_eq!(len, 22),
        other => panic!("a 22-byte secret must stop the build, got {other:?}"),
    }
}

#[tokio::test]
async fn duplicate_kid_stops_the_build() {
    let directory = tempfile::tempdir().expect("creating a temporary directory");
    let first = es256("same");
    let second = ed25519("same");

    let result = build_app(
        JwtConfig::new(ISSUER, AUDIENCE)
            .key(first.verifying)
            .key(second.verifying),
        &directory,
    )
    .await;

    match result {
        Err(BuildError::Jwt(JwtConfigError::DuplicateKid { kid })) => assert_eq!(kid, "same"),
        other => panic!("a kid used twice must stop the build, got {other:?}"),
    }
}
