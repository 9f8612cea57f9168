//! TLS for every connection Siphon opens or serves, from PEM files: one crypto provider, one
//! way to read CA bundles, certificate chains and keys (errors name the file and its role),
//! and the three levels of server checking the database drivers' modes map to.
//!
//! Every client (PostgreSQL, MySQL, the raw Kafka reader, the schema registry) and the REST
//! API's HTTPS listener build their rustls configuration here, so a certificate problem reads
//! the same whichever server it concerns.

mod encrypted_key;
mod verify;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::Secret;

/// The provider every rustls configuration uses. Several dependencies enable both `ring` and
/// `aws-lc-rs`, and rustls then refuses to pick one itself, so Siphon names it.
pub fn provider() -> Arc<CryptoProvider> {
    install_crypto_provider();
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// Installs `ring` as the process's default provider (for the crates that build their own
/// rustls configuration, such as reqwest and tokio-rustls users). Idempotent.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider was installed first, which serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// How much of the server's certificate a client checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerCheck {
    /// Encrypt only (libpq `require`, MySQL `REQUIRED`): any certificate is accepted, so the
    /// connection resists eavesdropping but not a man in the middle.
    None,
    /// The chain must lead to a trusted CA; the host name is not compared (`verify-ca`).
    Ca,
    /// The chain and the host name (`verify-full`, `VERIFY_IDENTITY`).
    Full,
}

/// A client's TLS settings: what to trust, which identity to present, what to check.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientTls {
    /// PEM CA bundle; unset: the system's trust store.
    pub ca: Option<PathBuf>,
    /// PEM client certificate chain, with `key` (mutual TLS).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Password of an encrypted `key`.
    pub key_password: Option<Secret>,
    pub check: ServerCheck,
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls")
            .field("ca", &self.ca)
            .field("cert", &self.cert)
            .field("key", &self.key)
            .field(
                "key_password",
                &self.key_password.as_ref().map(|_| "[hidden]"),
            )
            .field("check", &self.check)
            .finish()
    }
}

/// Why a TLS configuration could not be built. Every variant names the file and what it was
/// for; all are definite (a file does not fix itself).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the {role} `{}`: {detail}", path.display())]
    Read {
        role: &'static str,
        path: PathBuf,
        detail: String,
    },
    #[error("the {role} `{}` holds no PEM certificate", path.display())]
    NoCertificate { role: &'static str, path: PathBuf },
    #[error("the {role} `{}` holds no usable certificate: {detail}", path.display())]
    BadCertificate {
        role: &'static str,
        path: PathBuf,
        detail: String,
    },
    #[error(
        "the private key `{}` is encrypted and no password is set for it", path.display()
    )]
    KeyNeedsPassword { path: PathBuf },
    #[error("the private key `{}` cannot be used: {detail}", path.display())]
    BadKey { path: PathBuf, detail: String },
    #[error("a client certificate needs both a certificate and a key file; {missing} is unset")]
    HalfIdentity { missing: &'static str },
    #[error(
        "no trusted CA: the system trust store is empty or unreadable ({detail}); set a CA file"
    )]
    NoSystemRoots { detail: String },
    #[error("TLS configuration refused: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The bytes of `path`, an error naming the file and its `role` otherwise.
fn read_file(path: &Path, role: &'static str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::Read {
        role,
        path: path.to_owned(),
        detail: e.to_string(),
    })
}

/// Reads every certificate of a PEM file (a CA bundle or a chain, leaf first).
pub fn read_certificates(
    path: &Path,
    role: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read_file(path, role)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadCertificate {
            role,
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            role,
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// Reads a PEM private key (PKCS#8, PKCS#1 or SEC1).
pub fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read_file(path, "private key")?;
    if encrypted_key::is_encrypted(&bytes) {
        return Err(TlsError::KeyNeedsPassword {
            path: path.to_owned(),
        });
    }
    plain_key(path, &bytes)
}

/// An unencrypted PEM key from the bytes of `path`.
fn plain_key(path: &Path, bytes: &[u8]) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(bytes).map_err(|e| TlsError::BadKey {
        path: path.to_owned(),
        detail: e.to_string(),
    })
}

/// The trust anchors: the CA file's certificates, or the system's store without one.
pub fn root_store(ca: Option<&Path>) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    match ca {
        Some(path) => {
            for cert in read_certificates(path, "CA file")? {
                roots.add(cert).map_err(|e| TlsError::BadCertificate {
                    role: "CA file",
                    path: path.to_owned(),
                    detail: e.to_string(),
                })?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                let detail = match found.errors.first() {
                    Some(e) => e.to_string(),
                    None => "no certificate found".into(),
                };
                return Err(TlsError::NoSystemRoots { detail });
            }
        }
    }
    Ok(roots)
}

/// A rustls client configuration for `tls`.
pub fn client_config(tls: &ClientTls) -> Result<rustls::ClientConfig, TlsError> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match tls.check {
        ServerCheck::None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verify::AcceptAny::new(provider))),
        ServerCheck::Ca => {
            let roots = Arc::new(root_store(tls.ca.as_deref())?);
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verify::ChainOnly::new(
                    roots, provider,
                )?))
        }
        ServerCheck::Full => builder.with_root_certificates(root_store(tls.ca.as_deref())?),
    };
    Ok(match client_identity(tls)? {
        Some((chain, key)) => builder.with_client_auth_cert(chain, key)?,
        None => builder.with_no_client_auth(),
    })
}

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn client_identity(tls: &ClientTls) -> Result<Option<Identity>, TlsError> {
    match (&tls.cert, &tls.key) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(TlsError::HalfIdentity { missing: "the key" }),
        (None, Some(_)) => Err(TlsError::HalfIdentity {
            missing: "the certificate",
        }),
        (Some(cert), Some(key)) => {
            let chain = read_certificates(cert, "client certificate")?;
            let key = match &tls.key_password {
                Some(password) => decrypt_private_key(key, password)?,
                None => read_private_key(key)?,
            };
            Ok(Some((chain, key)))
        }
    }
}

/// Reads a PEM private key that may be encrypted: an encrypted PKCS#8 key is decrypted in
/// memory with `password` (`encrypted_key`); a plain key is read as it is.
pub fn decrypt_private_key(
    path: &Path,
    password: &Secret,
) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read_file(path, "private key")?;
    if encrypted_key::is_encrypted(&bytes) {
        return encrypted_key::decrypt(path, &bytes, password.expose());
    }
    // Read once: the plain key comes from the same bytes.
    plain_key(path, &bytes)
}

/// A rustls server configuration presenting `cert` (chain, leaf first) with `key`.
pub fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, TlsError> {
    let chain = read_certificates(cert, "server certificate")?;
    let key = read_private_key(key)?;
    Ok(rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?)
}

#[cfg(test)]
pub(crate) mod tests;
