//! Optional bearer / basic authentication: everything but `GET /` needs it when it is on.

use axum::body::Body;
use axum::http::Request;
use siphon::config::Secret;

use crate::{Api, assert_error};

fn request(path: &str, authorization: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().uri(path);
    if let Some(a) = authorization {
        b = b.header("authorization", a);
    }
    b.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn off_by_default() {
    let api = Api::new();
    assert_eq!(api.get("/connectors").await.status, 200);
}

#[tokio::test]
async fn bearer_token_guards_everything_but_the_root() {
    let api = Api::with(|s| s.api_auth_token = Some(Secret::new("t0k")));
    assert_eq!(api.send(request("/", None)).await.status, 200);
    for path in [
        "/connectors",
        "/metrics",
        "/openapi.json",
        "/connector-plugins",
        "/connectors/x",
    ] {
        let r = api.send(request(path, None)).await;
        assert_error(&r, 401);
        assert!(
            r.headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        assert_error(&api.send(request(path, Some("Bearer nope"))).await, 401);
    }
    assert_eq!(
        api.send(request("/connectors", Some("Bearer t0k")))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn basic_credentials_work() {
    let api = Api::with(|s| {
        s.api_basic_user = Some("admin".into());
        s.api_basic_password = Some(Secret::new("pw"));
    });
    // admin:pw
    let ok = api
        .send(request("/connectors", Some("Basic YWRtaW46cHc=")))
        .await;
    assert_eq!(ok.status, 200);
    let r = api
        .send(request("/connectors", Some("Basic YWRtaW46eA==")))
        .await;
    assert_error(&r, 401);
    assert!(
        r.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
}
