//! Password hashing with argon2id (OWASP's recommended parameters: 19 MiB, 2 passes).
//! Hashing takes tens of milliseconds of CPU on purpose, so it runs on the blocking pool,
//! never on the async workers that serve other requests.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::{Rng, RngCore};

use crate::AppError;

/// Verified against when the username is unknown, so that a login for a missing account
/// takes as long as one for a real account with a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_now("salus-dummy-password").unwrap_or_default());

fn hash_now(password: &str) -> Result<String, AppError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(e.to_string()))
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_now(&password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
}

/// Checks `password` against `hash`, or against a dummy hash when there is no account.
pub async fn verify(password: String, hash: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => verify_now(&password, &h),
        None => {
            verify_now(&password, &DUMMY_HASH);
            false
        }
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))
}

/// A random password for a new or reset account, shown once: 20 characters from an
/// alphabet without look-alikes (no 0/O, 1/l/I), about 115 bits.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash_now("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_now("correct horse battery staple", &h));
        assert!(!verify_now("correct horse battery stapl", &h));
        assert!(!verify_now("anything", "not a hash"));
    }

    #[test]
    fn generated_passwords_differ_and_are_long() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert_eq!(a.chars().count(), 20);
    }
}
