//! Session JWTs (HS256). The signing key is generated once, sealed, and kept in the database, so
//! sessions survive restarts and are valid on every replica.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::AuthError;
use super::store;
use crate::crypto::{Vault, random_token};

const ISSUER: &str = "berth";
const KEY_NAME: &str = "jwt_signing_key";

/// The claims of a Berth session token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: Uuid,
    /// Session id (a `user_session` row).
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
}

/// Signs and verifies session tokens.
#[derive(Clone)]
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys([redacted])")
    }
}

impl SessionKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Loads the sealed key from the database, creating it on first start (race-safe across
    /// replicas: the first insert wins, everyone reads the winner).
    pub async fn load_or_create(pool: &sqlx::PgPool, vault: &Vault) -> Result<Self, AuthError> {
        let fresh = random_token(64);
        let sealed = vault.seal(fresh.as_bytes(), KEY_NAME);
        store::insert_server_secret_if_missing(pool, KEY_NAME, &sealed).await?;
        let stored = store::server_secret(pool, KEY_NAME)
            .await?
            .ok_or_else(|| AuthError::Internal("the signing key vanished".into()))?;
        let secret = vault.open(&stored, KEY_NAME).map_err(|e| {
            AuthError::Internal(format!(
                "cannot open the session signing key ({e}); is BERTH_SECRET_KEY the same on every replica?"
            ))
        })?;
        Ok(Self::from_secret(&secret))
    }

    pub fn sign(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        issued: DateTime<Utc>,
        expires: DateTime<Utc>,
    ) -> Result<String, AuthError> {
        let claims = Claims {
            sub: user_id,
            sid: session_id,
            iat: issued.timestamp(),
            exp: expires.timestamp(),
            iss: ISSUER.into(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Internal(format!("jwt encode: {e}")))
    }

    /// Checks signature, issuer and expiry; the session row is checked by the caller.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|_| AuthError::InvalidToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_with_its_key_only_and_expires() {
        let keys = SessionKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        let now = Utc::now();
        let (u, s) = (Uuid::new_v4(), Uuid::new_v4());
        let t = keys
            .sign(u, s, now, now + chrono::Duration::hours(1))
            .unwrap();
        let claims = keys.verify(&t).unwrap();
        assert_eq!((claims.sub, claims.sid), (u, s));
        let other = SessionKeys::from_secret(b"another key another key another!");
        assert!(other.verify(&t).is_err());
        let old = keys
            .sign(
                u,
                s,
                now - chrono::Duration::hours(2),
                now - chrono::Duration::hours(1),
            )
            .unwrap();
        assert!(keys.verify(&old).is_err());
    }
}
