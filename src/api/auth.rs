//! Optional API authentication: a bearer token and/or basic credentials from `[service]`.
//! Off when neither is set; when on, every endpoint but `GET /` needs one of them (401).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;

use super::AppState;
use super::error::ApiError;
use crate::config::ServiceConfig;

/// The accepted credentials.
#[derive(Clone, Default)]
pub struct Auth {
    token: Option<String>,
    basic: Option<(String, String)>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("token", &self.token.is_some())
            .field("basic", &self.basic.as_ref().map(|(u, _)| u))
            .finish()
    }
}

impl Auth {
    pub fn from_service(service: &ServiceConfig) -> Self {
        Auth {
            token: service
                .api_auth_token
                .as_ref()
                .map(|t| t.expose().to_owned()),
            basic: match (&service.api_basic_user, &service.api_basic_password) {
                (Some(u), Some(p)) => Some((u.clone(), p.expose().to_owned())),
                _ => None,
            },
        }
    }

    pub fn enabled(&self) -> bool {
        self.token.is_some() || self.basic.is_some()
    }

    fn accepts(&self, authorization: Option<&HeaderValue>) -> bool {
        let Some(value) = authorization.and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let (scheme, credentials) = value.trim().split_once(' ').unwrap_or((value, ""));
        let credentials = credentials.trim();
        if scheme.eq_ignore_ascii_case("bearer") {
            return self
                .token
                .as_deref()
                .is_some_and(|t| constant_time_eq(t.as_bytes(), credentials.as_bytes()));
        }
        if scheme.eq_ignore_ascii_case("basic")
            && let Some((user, password)) = &self.basic
            && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(credentials)
        {
            let expected = format!("{user}:{password}");
            return constant_time_eq(expected.as_bytes(), &decoded);
        }
        false
    }
}

/// Compares without stopping at the first difference, so timing does not leak the secret.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        diff |= usize::from(x ^ b.get(i).copied().unwrap_or(!x));
    }
    diff == 0
}

/// The middleware: lets `GET /` through, checks everything else when auth is on.
pub async fn require(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let auth = &state.auth;
    let open = request.method() == Method::GET && request.uri().path() == "/";
    if !auth.enabled() || open || auth.accepts(request.headers().get(header::AUTHORIZATION)) {
        return next.run(request).await;
    }
    let mut response = ApiError::new(
        StatusCode::UNAUTHORIZED,
        "authentication required: send Authorization: Bearer <token> or Basic credentials",
    )
    .into_response();
    let challenge = match (auth.token.is_some(), auth.basic.is_some()) {
        (true, false) => "Bearer realm=\"siphon\"",
        _ => "Basic realm=\"siphon\"",
    };
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_bearer_and_basic() {
        let auth = Auth {
            token: Some("t0k".into()),
            basic: Some(("admin".into(), "pw".into())),
        };
        let h = |s: &str| HeaderValue::from_str(s).unwrap();
        assert!(auth.accepts(Some(&h("Bearer t0k"))));
        assert!(auth.accepts(Some(&h("bearer  t0k"))));
        assert!(!auth.accepts(Some(&h("Bearer t0"))));
        assert!(auth.accepts(Some(&h("Basic YWRtaW46cHc="))));
        assert!(!auth.accepts(Some(&h("Basic YWRtaW46cHg="))));
        assert!(!auth.accepts(Some(&h("Basic !!!"))));
        assert!(!auth.accepts(None));
        assert!(!format!("{auth:?}").contains("pw"));
    }

    #[test]
    fn constant_time_eq_is_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
