//! `service.api_tls_cert` / `service.api_tls_key`: with both set the REST API serves HTTPS
//! only (Kafka Connect's `listeners=https://…` with its `listeners.https.ssl.*` keystore).

use std::path::{Path, PathBuf};

use super::ConfigErrors;

/// The API's certificate chain and key, both or neither.
pub fn api_tls_files<'a>(
    cert: Option<&'a Path>,
    key: Option<&'a Path>,
    problems: &mut ConfigErrors,
) -> Option<(&'a Path, &'a Path)> {
    match (cert, key) {
        (None, None) => None,
        (Some(_), None) => {
            problems.push(
                "service.api_tls_key",
                "required with api_tls_cert (or SIPHON_API_TLS_KEY)",
            );
            None
        }
        (None, Some(_)) => {
            problems.push(
                "service.api_tls_cert",
                "required with api_tls_key (or SIPHON_API_TLS_CERT)",
            );
            None
        }
        (Some(c), Some(k)) => Some((c, k)),
    }
}

/// Reads both files now, so an unreadable certificate or key stops the start naming its key
/// and path, instead of every HTTPS handshake failing later.
pub fn validate_api_tls(cert: Option<&Path>, key: Option<&Path>, problems: &mut ConfigErrors) {
    let Some((cert, key)) = api_tls_files(cert, key, problems) else {
        return;
    };
    if let Err(e) = crate::tls::server_config(cert, key) {
        let field = match e {
            crate::tls::TlsError::BadKey { .. }
            | crate::tls::TlsError::KeyNeedsPassword { .. }
            | crate::tls::TlsError::Read {
                role: "private key",
                ..
            } => "service.api_tls_key",
            // The certificate, or a key that does not match it (rustls names the mismatch).
            _ => "service.api_tls_cert",
        };
        problems.push(field, e.to_string());
    }
}

/// `SIPHON_API_TLS_CERT` / `SIPHON_API_TLS_KEY`; set and empty clears a file setting.
pub fn apply_api_tls_env(
    cert: &mut Option<PathBuf>,
    key: &mut Option<PathBuf>,
    get: &impl Fn(&str) -> Option<String>,
) {
    if let Some(v) = get("SIPHON_API_TLS_CERT") {
        *cert = (!v.is_empty()).then(|| PathBuf::from(v));
    }
    if let Some(v) = get("SIPHON_API_TLS_KEY") {
        *key = (!v.is_empty()).then(|| PathBuf::from(v));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_files_or_neither_and_unreadable_ones_are_named() {
        let mut p = ConfigErrors::default();
        validate_api_tls(Some(Path::new("/x/cert.pem")), None, &mut p);
        assert_eq!(p.keys(), ["service.api_tls_key"]);
        let mut p = ConfigErrors::default();
        validate_api_tls(
            Some(Path::new("/nonexistent/cert.pem")),
            Some(Path::new("/nonexistent/key.pem")),
            &mut p,
        );
        assert_eq!(p.keys(), ["service.api_tls_cert"]);
        assert!(
            p.0[0].to_string().contains("/nonexistent/cert.pem"),
            "{p:?}"
        );
    }
}
