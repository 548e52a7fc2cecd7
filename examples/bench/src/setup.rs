//! Databases, seed data, keys and tokens shared by the three variants.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use gauntlet::{Database, Pool};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::json;
use sqlx::{Connection, PgConnection};

/// The issuer and audience every variant checks.
pub const ISSUER: &str = "gauntlet-bench";
/// See [`ISSUER`].
pub const AUDIENCE: &str = "gauntlet-bench-api";
/// The `kid` of the HS256 key.
pub const HS256_KID: &str = "hs";
/// The `kid` of the Ed25519 key.
pub const EDDSA_KID: &str = "ed";

/// The user whose token every workload sends; owns invoices 1 to `n`.
pub const CALLER: i64 = 1;
/// Another user, who owns the 100 invoices after the caller's.
pub const OTHER_USER: i64 = 2;
/// How many invoices the other user owns.
pub const OTHER_USER_INVOICES: i64 = 100;

/// The signing and verifying material of one run.
#[derive(Clone)]
pub struct Keys {
    pub hs256_secret: Vec<u8>,
    pub ed25519_pkcs8: Vec<u8>,
    pub ed25519_public_pem: String,
    /// The `iat` of every token of the run, so that the processes of one
    /// run sign identical tokens: Ed25519 verification time depends on the
    /// signature, and callgrind would count the difference.
    pub issued_at: u64,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys { .. }")
    }
}

impl Keys {
    /// Fresh keys. The secret and the private key are passed to the server
    /// process on its command line, which is acceptable only because both
    /// live for one benchmark run on loopback.
    pub fn generate() -> anyhow::Result<Self> {
        let random = SystemRandom::new();
        let mut hs256_secret = vec![0u8; 32];
        ring::rand::SecureRandom::fill(&random, &mut hs256_secret)
            .map_err(|_| anyhow::anyhow!("no randomness for the HS256 secret"))?;
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&random)
            .map_err(|_| anyhow::anyhow!("generating an Ed25519 key failed"))?;
        let issued_at = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
        Self::from_parts(hs256_secret, pkcs8.as_ref().to_vec(), issued_at)
    }

    pub fn from_parts(
        hs256_secret: Vec<u8>,
        ed25519_pkcs8: Vec<u8>,
        issued_at: u64,
    ) -> anyhow::Result<Self> {
        let pair = Ed25519KeyPair::from_pkcs8(&ed25519_pkcs8)
            .map_err(|_| anyhow::anyhow!("the Ed25519 key is not PKCS#8"))?;
        // SubjectPublicKeyInfo of an Ed25519 key (RFC 8410): a fixed
        // 12-byte prefix, then the 32-byte public key.
        let mut spki = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        spki.extend_from_slice(pair.public_key().as_ref());
        let ed25519_public_pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(spki)
        );
        Ok(Keys {
            hs256_secret,
            ed25519_pkcs8,
            ed25519_public_pem,
            issued_at,
        })
    }

    /// A token for `subject`, valid for a day from the start of the run.
    pub fn token(&self, algorithm: Algorithm, subject: i64) -> anyhow::Result<String> {
        let now = self.issued_at;
        let claims = json!({
            "sub": subject.to_string(),
            "iat": now,
            "exp": now + 86_400,
            "iss": ISSUER,
            "aud": AUDIENCE,
        });
        let (kid, key) = match algorithm {
            Algorithm::HS256 => (HS256_KID, EncodingKey::from_secret(&self.hs256_secret)),
            Algorithm::EdDSA => (EDDSA_KID, EncodingKey::from_ed_der(&self.ed25519_pkcs8)),
            other => anyhow::bail!("the benchmark signs no {other:?} tokens"),
        };
        let mut header = Header::new(algorithm);
        header.kid = Some(kid.to_string());
        Ok(jsonwebtoken::encode(&header, &claims, &key)?)
    }
}

/// Opens `url`, migrates it with the invoices example's migrations, and
/// fills it with `invoices` rows of [`CALLER`] and the
/// [`OTHER_USER_INVOICES`] rows of [`OTHER_USER`] after them.
pub async fn prepare(url: &str, invoices: i64) -> anyhow::Result<Database> {
    let database = Database::connect(url)
        .await
        .with_context(|| format!("opening {url}"))?;
    let total = invoices + OTHER_USER_INVOICES;
    match database.setup_pool() {
        Pool::Sqlite(pool) => {
            sqlx::migrate!("../invoices/migrations/sqlite")
                .run(pool)
                .await?;
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM invoices")
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM users").execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO users (id, email, display_name, password_hash) \
                 VALUES (1, 'caller@example.com', 'Caller', 'x'), \
                        (2, 'other@example.com', 'Other', 'y')",
            )
            .execute(&mut *tx)
            .await?;
            // One statement, one transaction: a million rows in seconds.
            sqlx::query(
                "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1) \
                 INSERT INTO invoices (id, owner_id, customer_name, customer_address, line_items, \
                     total_cents, note, due_date, is_paid, payment_reference) \
                 SELECT i, CASE WHEN i > ?2 THEN 2 ELSE 1 END, 'Customer ' || i, '1 Main Street', \
                     '[{\"description\":\"Work\",\"quantity\":2,\"unit_price_cents\":5000}]', \
                     10000, '', '2026-03-01', 0, 'pay_' || i FROM seq",
            )
            .bind(total)
            .bind(invoices)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            sqlx::query("ANALYZE").execute(pool).await?;
        }
        Pool::Postgres(pool) => {
            sqlx::migrate!("../invoices/migrations/postgres")
                .run(pool)
                .await?;
            let mut tx = pool.begin().await?;
            sqlx::query("TRUNCATE invoices, users")
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO users (id, email, display_name, password_hash) \
                 VALUES (1, 'caller@example.com', 'Caller', 'x'), \
                        (2, 'other@example.com', 'Other', 'y')",
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO invoices (id, owner_id, customer_name, customer_address, line_items, \
                     total_cents, note, due_date, is_paid, payment_reference) \
                 SELECT i, CASE WHEN i > $2 THEN 2 ELSE 1 END, 'Customer ' || i, '1 Main Street', \
                     '[{\"description\":\"Work\",\"quantity\":2,\"unit_price_cents\":5000}]'::jsonb, \
                     10000, '', DATE '2026-03-01', FALSE, 'pay_' || i \
                 FROM generate_series(1::bigint, $1::bigint) AS i",
            )
            .bind(total)
            .bind(invoices)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            sqlx::query("ANALYZE invoices").execute(pool).await?;
        }
    }
    Ok(database)
}

/// The URL of the machine's PostgreSQL server database `name`.
pub fn postgres_url(name: &str) -> String {
    format!("postgres://postgres@127.0.0.1:5432/{name}")
}

/// Creates the database `name` on the local PostgreSQL server; `Ok(false)`
/// when the server is not reachable.
pub async fn create_postgres_database(name: &str) -> anyhow::Result<bool> {
    let Ok(mut admin) = PgConnection::connect(&postgres_url("postgres")).await else {
        return Ok(false);
    };
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\""))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await?;
    Ok(true)
}

/// Drops the database `name`, ending its connections first.
pub async fn drop_postgres_database(name: &str) -> anyhow::Result<()> {
    let mut admin = PgConnection::connect(&postgres_url("postgres")).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    Ok(())
}

/// The SQLite URL of a file in `dir`.
pub fn sqlite_url(dir: &Path, name: &str) -> String {
    format!("sqlite://{}?mode=rwc", dir.join(name).display())
}
