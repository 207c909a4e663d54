//! Argon2id password hashing, always off the async runtime (it is deliberately slow).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tracing::Instrument;

use super::AuthError;
use crate::crypto::Secret;

/// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string.
pub async fn hash(password: Secret<String>) -> Result<String, AuthError> {
    blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AuthError::Internal(format!("argon2: {e}")))
    })
    .await
}

/// Checks a password against a PHC string.
pub async fn verify(password: Secret<String>, phc: String) -> Result<bool, AuthError> {
    blocking(move || {
        let parsed =
            PasswordHash::new(&phc).map_err(|e| AuthError::Internal(format!("argon2: {e}")))?;
        Ok(hasher()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok())
    })
    .await
}

/// A hash to verify against when the user does not exist, so timing does not reveal usernames.
pub async fn dummy_hash() -> String {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            hash(Secret::new("berth-dummy-password".to_owned()))
                .await
                .unwrap_or_default()
        })
        .await
        .clone()
}

async fn blocking<T, F>(f: F) -> Result<T, AuthError>
where
    F: FnOnce() -> Result<T, AuthError> + Send + 'static,
    T: Send + 'static,
{
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(f))
        .instrument(tracing::Span::current())
        .await
        .map_err(|e| AuthError::Internal(format!("password hashing task: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let phc = hash(Secret::new("correct horse".into())).await.unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(
            verify(Secret::new("correct horse".into()), phc.clone())
                .await
                .unwrap()
        );
        assert!(
            !verify(Secret::new("wrong horse".into()), phc)
                .await
                .unwrap()
        );
    }
}
