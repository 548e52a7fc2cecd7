//! Password hashing with Argon2id.
//!
//! [`verify`] takes an `Option` so that a login for an unknown account costs
//! the same hash computation as one for a known account: response time then
//! does not tell whether an email is registered.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Hashes a password into a PHC string with a random salt and Argon2id's
/// default parameters.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
}

/// Checks a password against a stored PHC hash; with no stored hash it
/// checks against a fixed dummy hash and returns `false`.
pub fn verify(stored: Option<&str>, password: &str) -> bool {
    let Some(stored) = stored else {
        let _ = check(dummy_hash(), password);
        return false;
    };
    check(stored, password)
}

/// [`verify`] on the blocking thread pool, so that the hashing work does
/// not stall the request workers.
pub async fn verify_in_background(stored: Option<String>, password: String) -> bool {
    let verified = tokio::task::spawn_blocking(move || verify(stored.as_deref(), &password)).await;
    match verified {
        Ok(verified) => verified,
        Err(error) => {
            tracing::error!(%error, "password verification task failed");
            false
        }
    }
}

fn check(stored: &str, password: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(error) => {
            tracing::error!(%error, "a stored password hash is not a valid PHC string");
            false
        }
    }
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash("gauntlet-dummy-password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_accepts_only_the_hashed_password() {
        let stored = hash("correct horse").expect("hashing succeeds");
        assert!(verify(Some(&stored), "correct horse"));
        assert!(!verify(Some(&stored), "wrong horse"));
    }

    #[test]
    fn verify_without_hash_is_false() {
        assert!(!verify(None, "gauntlet-dummy-password"));
    }

    #[test]
    fn verify_rejects_malformed_hash() {
        assert!(!verify(Some("not-a-phc-string"), "anything"));
    }
}
