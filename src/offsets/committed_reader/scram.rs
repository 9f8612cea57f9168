//! The client side of SCRAM-SHA-256/512 (RFC 5802, RFC 7677), without channel binding (`n,,`),
//! as Kafka uses it: pure message building and checking; the exchange is in `sasl.rs`.
//!
//! Passwords are used as their UTF-8 bytes (no SASLprep: identical for ASCII passwords, which
//! is what Kafka's own clients assume too).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ring::{digest, hmac, pbkdf2};
use std::num::NonZeroU32;

/// Kafka's minimum (and RFC 7677's recommended) iteration count; fewer is refused so a
/// server (or a man in the middle of a plaintext connection) cannot weaken the hash.
const MIN_ITERATIONS: u32 = 4096;
/// Far above any real setting: bounds the work a hostile server can ask for.
const MAX_ITERATIONS: u32 = 1 << 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramHash {
    Sha256,
    Sha512,
}

impl ScramHash {
    fn pbkdf2(self) -> pbkdf2::Algorithm {
        match self {
            ScramHash::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            ScramHash::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }
    fn hmac(self) -> hmac::Algorithm {
        match self {
            ScramHash::Sha256 => hmac::HMAC_SHA256,
            ScramHash::Sha512 => hmac::HMAC_SHA512,
        }
    }
    fn digest(self) -> &'static digest::Algorithm {
        match self {
            ScramHash::Sha256 => &digest::SHA256,
            ScramHash::Sha512 => &digest::SHA512,
        }
    }
    fn len(self) -> usize {
        self.digest().output_len()
    }
}

/// A server message that breaks the protocol, or a server that does not prove it knows the
/// password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScramError {
    #[error("the server's SCRAM message is malformed: {0}")]
    Malformed(String),
    #[error("the server refused: {0}")]
    Server(String),
    #[error("the server's nonce does not extend ours")]
    Nonce,
    #[error("the server asks for {0} iterations (accepted: {MIN_ITERATIONS} to {MAX_ITERATIONS})")]
    Iterations(u32),
    #[error("the server's signature is wrong: it does not know the password")]
    ServerSignature,
}

/// One authentication, from the client-first message to checking the server-final one.
#[derive(Debug)]
pub struct ScramClient {
    hash: ScramHash,
    password: String,
    nonce: String,
    client_first_bare: String,
}

/// What the client-final message leaves to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedServer {
    signature: Vec<u8>,
}

/// `=` and `,` are escaped in a SCRAM user name (RFC 5802 §5.1).
fn sasl_name(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// The `key=value` attributes of a SCRAM message.
fn attributes(message: &str) -> Result<Vec<(char, &str)>, ScramError> {
    message
        .split(',')
        .map(|part| {
            let mut chars = part.chars();
            match (chars.next(), chars.next()) {
                (Some(k), Some('=')) if k.is_ascii_alphabetic() => Ok((k, &part[2..])),
                _ => Err(ScramError::Malformed(format!("attribute `{part}`"))),
            }
        })
        .collect()
}

fn attribute<'a>(attrs: &[(char, &'a str)], key: char) -> Result<&'a str, ScramError> {
    attrs
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .ok_or_else(|| ScramError::Malformed(format!("no `{key}=` attribute")))
}

fn hmac(hash: ScramHash, key: &[u8], data: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hash.hmac(), key), data)
        .as_ref()
        .to_vec()
}

impl ScramClient {
    /// `nonce`: printable, without `,` (e.g. base64 of random bytes).
    pub fn new(hash: ScramHash, user: &str, password: &str, nonce: String) -> Self {
        let client_first_bare = format!("n={},r={nonce}", sasl_name(user));
        ScramClient {
            hash,
            password: password.to_owned(),
            nonce,
            client_first_bare,
        }
    }

    /// The client-first message: no channel binding, no authorization id.
    pub fn client_first(&self) -> String {
        format!("n,,{}", self.client_first_bare)
    }

    /// The client-final message (with the proof) for the server-first message, and what the
    /// server-final message must then carry.
    pub fn client_final(&self, server_first: &str) -> Result<(String, ExpectedServer), ScramError> {
        let attrs = attributes(server_first)?;
        if let Ok(e) = attribute(&attrs, 'e') {
            return Err(ScramError::Server(e.to_owned()));
        }
        let nonce = attribute(&attrs, 'r')?;
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err(ScramError::Nonce);
        }
        let salt = B64
            .decode(attribute(&attrs, 's')?)
            .map_err(|e| ScramError::Malformed(format!("salt: {e}")))?;
        let iterations: u32 = attribute(&attrs, 'i')?
            .parse()
            .map_err(|_| ScramError::Malformed("iteration count".to_owned()))?;
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return Err(ScramError::Iterations(iterations));
        }
        let hash = self.hash;
        let mut salted = vec![0u8; hash.len()];
        let rounds = NonZeroU32::new(iterations).ok_or(ScramError::Iterations(iterations))?;
        pbkdf2::derive(
            hash.pbkdf2(),
            rounds,
            &salt,
            self.password.as_bytes(),
            &mut salted,
        );
        let client_key = hmac(hash, &salted, b"Client Key");
        let stored_key = digest::digest(hash.digest(), &client_key);
        // "biws" is base64("n,,"): the GS2 header, no channel binding.
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.client_first_bare);
        let client_signature = hmac(hash, stored_key.as_ref(), auth_message.as_bytes());
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(k, s)| k ^ s)
            .collect();
        let server_key = hmac(hash, &salted, b"Server Key");
        let signature = hmac(hash, &server_key, auth_message.as_bytes());
        Ok((
            format!("{without_proof},p={}", B64.encode(proof)),
            ExpectedServer { signature },
        ))
    }
}

impl ExpectedServer {
    /// Checks the server-final message: the server must prove it knows the password too.
    pub fn verify(&self, server_final: &str) -> Result<(), ScramError> {
        let attrs = attributes(server_final)?;
        if let Ok(e) = attribute(&attrs, 'e') {
            return Err(ScramError::Server(e.to_owned()));
        }
        let v = B64
            .decode(attribute(&attrs, 'v')?)
            .map_err(|e| ScramError::Malformed(format!("server signature: {e}")))?;
        // Not secret-dependent timing worth guarding: the client already sent its proof.
        if v == self.signature {
            Ok(())
        } else {
            Err(ScramError::ServerSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 §3: user "user", password "pencil".
    #[test]
    fn rfc7677_sha256_exchange() {
        let c = ScramClient::new(
            ScramHash::Sha256,
            "user",
            "pencil",
            "rOprNGfwEbeRWgbNEkqO".to_owned(),
        );
        assert_eq!(c.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                            s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let (client_final, expected) = c.client_final(server_first).unwrap();
        assert_eq!(
            client_final,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        expected
            .verify("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
        assert_eq!(
            expected.verify("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
            Err(ScramError::ServerSignature)
        );
    }

    /// SHA-512 has no RFC vector: the server side is computed here from RFC 5802's
    /// definitions (StoredKey, ClientSignature) and must accept the client's proof.
    #[test]
    fn sha512_proof_verifies_against_the_servers_stored_key() {
        let c = ScramClient::new(ScramHash::Sha512, "a=b,c", "pässword", "abc".to_owned());
        assert_eq!(c.client_first(), "n,,n=a=3Db=2Cc,r=abc");
        let salt = b"0123456789abcdef";
        let server_first = format!("r=abcXYZ,s={},i=4096", B64.encode(salt));
        let (client_final, expected) = c.client_final(&server_first).unwrap();
        // The server's view.
        let mut salted = [0u8; 64];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA512,
            NonZeroU32::new(4096).unwrap(),
            salt,
            "pässword".as_bytes(),
            &mut salted,
        );
        let client_key = hmac(ScramHash::Sha512, &salted, b"Client Key");
        let stored_key = digest::digest(&digest::SHA512, &client_key);
        let (without_proof, proof) = client_final.rsplit_once(",p=").unwrap();
        let auth = format!("n=a=3Db=2Cc,r=abc,{server_first},{without_proof}");
        let signature = hmac(ScramHash::Sha512, stored_key.as_ref(), auth.as_bytes());
        let recovered: Vec<u8> = B64
            .decode(proof)
            .unwrap()
            .iter()
            .zip(&signature)
            .map(|(p, s)| p ^ s)
            .collect();
        assert_eq!(
            digest::digest(&digest::SHA512, &recovered).as_ref(),
            stored_key.as_ref()
        );
        let server_key = hmac(ScramHash::Sha512, &salted, b"Server Key");
        let v = hmac(ScramHash::Sha512, &server_key, auth.as_bytes());
        expected.verify(&format!("v={}", B64.encode(v))).unwrap();
    }

    #[test]
    fn bad_server_messages_are_refused() {
        let c = ScramClient::new(ScramHash::Sha256, "u", "p", "n1".to_owned());
        let s = B64.encode(b"salt");
        assert_eq!(
            c.client_final(&format!("r=other,s={s},i=4096")),
            Err(ScramError::Nonce)
        );
        assert_eq!(
            c.client_final(&format!("r=n1,s={s},i=4096")),
            Err(ScramError::Nonce)
        );
        assert_eq!(
            c.client_final(&format!("r=n1x,s={s},i=1")),
            Err(ScramError::Iterations(1))
        );
        assert_eq!(
            c.client_final("e=unknown-user"),
            Err(ScramError::Server("unknown-user".to_owned()))
        );
        assert!(matches!(
            c.client_final("garbage"),
            Err(ScramError::Malformed(_))
        ));
    }
}
