//! Encrypted PKCS#8 private keys (`-----BEGIN ENCRYPTED PRIVATE KEY-----`, PBES2: what
//! `openssl pkcs8 -topk8 -v2 aes-256-cbc` and current `openssl genpkey -aes256` write),
//! decrypted in memory with the configured password. Nothing decrypted is written anywhere.

use std::path::Path;

use pkcs8::EncryptedPrivateKeyInfo;
use pkcs8::der::SecretDocument;
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use super::TlsError;

const BEGIN: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
const END: &str = "-----END ENCRYPTED PRIVATE KEY-----";

/// Whether the PEM text holds a key that needs a password.
pub(super) fn is_encrypted(text: &[u8]) -> bool {
    let has = |needle: &[u8]| text.windows(needle.len()).any(|w| w == needle);
    has(BEGIN.as_bytes()) || has(b"Proc-Type: 4,ENCRYPTED")
}

/// Decrypts the encrypted PKCS#8 key in `text` (read from `path`, named in errors).
pub(super) fn decrypt(
    path: &Path,
    text: &[u8],
    password: &str,
) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bad = |detail: String| TlsError::BadKey {
        path: path.to_owned(),
        detail,
    };
    let text = std::str::from_utf8(text).map_err(|_| bad("it is not PEM text".into()))?;
    let Some(block) = pem_block(text) else {
        // OpenSSL's traditional format (`Proc-Type: 4,ENCRYPTED` inside `BEGIN RSA PRIVATE
        // KEY`) uses MD5-based key derivation; PKCS#8 is the format to convert to.
        return Err(bad(
            "only encrypted PKCS#8 keys (BEGIN ENCRYPTED PRIVATE KEY) can be decrypted; convert it \
             with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in KEY -out NEW_KEY`"
                .into(),
        ));
    };
    let (_, doc) = SecretDocument::from_pem(block).map_err(|e| bad(format!("bad PEM: {e}")))?;
    let info = EncryptedPrivateKeyInfo::try_from(doc.as_bytes())
        .map_err(|e| bad(format!("not an encrypted PKCS#8 key: {e}")))?;
    let plain = info.decrypt(password).map_err(|e| {
        bad(format!(
            "cannot decrypt it ({e}): the password is wrong, or the key \
             uses a cipher other than PBES2 (PBKDF2 or scrypt with AES)"
        ))
    })?;
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        plain.as_bytes().to_vec(),
    )))
}

/// The encrypted key's PEM block alone (files often carry other text around it).
fn pem_block(text: &str) -> Option<&str> {
    let start = text.find(BEGIN)?;
    let end = text[start..].find(END)? + start + END.len();
    Some(&text[start..end])
}
