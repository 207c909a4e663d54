//! Secrets at rest: AES-256-GCM sealing and the `Secret` wrapper that never shows its value.
//!
//! The sealing key comes from `BERTH_SECRET_KEY` or a key file created in the data directory on
//! first start (mode 0600). Every sealed value carries a version byte and a random 96-bit nonce.
//! This module must not log, print or serialize plaintext.

use std::fmt;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rand::RngCore;
use serde::{Serialize, Serializer};
use zeroize::Zeroizing;

/// A value that must never be shown: `Debug`, `Display` and `Serialize` all print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }
    /// The only way to read the value; grep for `expose` to audit every use.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Secret<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Secret)
    }
}

impl<T> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the secret key must be 32 bytes encoded as base64 or hex (got {0} bytes)")]
    KeyLength(usize),
    #[error("the secret key is neither base64 nor hex")]
    KeyEncoding,
    #[error("cannot read or create the key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("sealed value is malformed")]
    Malformed,
    #[error("sealed value cannot be opened: wrong secret key, or the data was altered")]
    Open,
}

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// Decodes a 32-byte key written as base64 (standard or URL-safe) or 64 hex digits.
pub fn decode_key(text: &str) -> Result<Zeroizing<[u8; 32]>, CryptoError> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).map_err(|_| CryptoError::KeyEncoding)?
    } else {
        B64.decode(text)
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
            .map_err(|_| CryptoError::KeyEncoding)?
    };
    let bytes = Zeroizing::new(bytes);
    let key: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| CryptoError::KeyLength(bytes.len()))?;
    Ok(Zeroizing::new(key))
}

/// Seals and opens secrets with one AES-256-GCM key.
#[derive(Clone)]
pub struct Vault {
    cipher: Aes256Gcm,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Vault([redacted])")
    }
}

impl Vault {
    pub fn from_key(key: &[u8; 32]) -> Self {
        Self {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// Uses the configured key, or the key file in `data_dir`, creating it (0600) on first start.
    pub fn load(configured: Option<&Secret<String>>, data_dir: &Path) -> Result<Self, CryptoError> {
        if let Some(text) = configured {
            let key = decode_key(text.expose())?;
            return Ok(Self::from_key(&key));
        }
        let path = data_dir.join("secret.key");
        let file_err = |source| CryptoError::KeyFile {
            path: path.display().to_string(),
            source,
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let key = decode_key(&text)?;
                Ok(Self::from_key(&key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(file_err)?;
                let mut key = Zeroizing::new([0u8; 32]);
                rand::rng().fill_bytes(key.as_mut());
                let encoded = Zeroizing::new(B64.encode(key.as_ref()));
                write_private_file(&path, encoded.as_bytes()).map_err(file_err)?;
                Ok(Self::from_key(&key))
            }
            Err(e) => Err(file_err(e)),
        }
    }

    /// Seals `plaintext`; `context` (e.g. `"environment:<id>"`) is bound as associated data so a
    /// sealed value cannot be moved to another row.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption cannot fail for in-memory buffers");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a value sealed with the same key and context.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(CryptoError::Malformed);
        }
        let (nonce, body) = sealed[1..].split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Open)
    }

    /// Seals a string secret.
    pub fn seal_str(&self, secret: &Secret<String>, context: &str) -> Vec<u8> {
        self.seal(secret.expose().as_bytes(), context)
    }

    /// Opens a string secret.
    pub fn open_str(&self, sealed: &[u8], context: &str) -> Result<Secret<String>, CryptoError> {
        let bytes = self.open(sealed, context)?;
        String::from_utf8(bytes.to_vec())
            .map(Secret::new)
            .map_err(|_| CryptoError::Malformed)
    }
}

/// Writes a file readable only by its owner, replacing any existing one atomically.
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(contents)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Random bytes encoded URL-safe without padding (tokens, key material).
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// SHA-256 of a value, hex encoded (API token lookup hashes).
pub fn sha256_hex(value: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_the_same_key_and_context() {
        let vault = Vault::from_key(&[7u8; 32]);
        let sealed = vault.seal(b"kubeconfig token", "environment:1");
        assert_eq!(
            vault.open(&sealed, "environment:1").unwrap().as_slice(),
            b"kubeconfig token"
        );
        assert!(matches!(
            vault.open(&sealed, "environment:2"),
            Err(CryptoError::Open)
        ));
        let other = Vault::from_key(&[8u8; 32]);
        assert!(matches!(
            other.open(&sealed, "environment:1"),
            Err(CryptoError::Open)
        ));
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(vault.open(&tampered, "environment:1").is_err());
    }

    #[test]
    fn sealing_the_same_value_twice_gives_different_ciphertexts() {
        let vault = Vault::from_key(&[1u8; 32]);
        assert_ne!(vault.seal(b"x", "c"), vault.seal(b"x", "c"));
    }

    #[test]
    fn secrets_never_show_their_value() {
        let s = Secret::new("hunter2".to_owned());
        assert_eq!(format!("{s:?}"), "[redacted]");
        assert_eq!(format!("{s}"), "[redacted]");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"[redacted]\"");
    }

    #[test]
    fn keys_decode_from_base64_and_hex_and_wrong_lengths_are_refused() {
        let hex_key = "00".repeat(32);
        assert!(decode_key(&hex_key).is_ok());
        assert!(decode_key(&B64.encode([3u8; 32])).is_ok());
        assert!(matches!(
            decode_key(&B64.encode([3u8; 16])),
            Err(CryptoError::KeyLength(16))
        ));
        assert!(decode_key("not a key!").is_err());
    }

    #[test]
    fn the_key_file_is_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let a = Vault::load(None, dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join("secret.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let sealed = a.seal(b"v", "c");
        let b = Vault::load(None, dir.path()).unwrap();
        assert_eq!(b.open(&sealed, "c").unwrap().as_slice(), b"v");
    }
}
