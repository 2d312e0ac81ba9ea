//! Round trips against the protocol as documented, with an independent
//! JWT implementation (`jsonwebtoken::encode`/`decode`) on MATTR VII's side,
//! its HMAC from the RustCrypto crates through a provider of its own (not
//! the layer's code, and no RSA or elliptic-curve code in the build).

#[path = "../../hook-layer/tests/support/app_provider.rs"]
mod app_provider;

use std::sync::Once;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use hook_layer::{CompletionError, HookRedirect, HookSecret, HookSession, InteractionHookLayer};
use http::{Request, StatusCode, header::LOCATION};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

/// MATTR VII's example secret, as its API returns it.
const SECRET: &str = "dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=";
const TENANT: &str = "https://tenant.vii.au01.mattr.global";
const HOOK_URL: &str = "https://hook.example.com/interaction";
const REDIRECT_URL: &str =
    "https://tenant.vii.au01.mattr.global/core/v1/openid/interaction-hook/callback?flow=vci";

/// Installs jsonwebtoken's HMAC provider, once per process.
fn jwt() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        app_provider::PROVIDER
            .install_default()
            .expect("no other provider in this test binary");
    });
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The incoming token exactly as PROTOCOL.md describes it, signed by
/// jsonwebtoken with the decoded secret.
fn mattr_session_token(iat: u64) -> String {
    let claims = json!({
        "iss": TENANT,
        "aud": HOOK_URL,
        "iat": iat,
        "exp": iat + 1200,
        "state": "af0ifjsldkj",
        "redirectUrl": REDIRECT_URL,
        "claims": { "email": "ada@example.com", "given_name": "Ada" },
    });
    jwt();
    let header = Header::new(Algorithm::HS256);
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_base64_secret(SECRET).unwrap(),
    )
    .unwrap()
}

#[derive(Clone, Deserialize)]
struct Profile {
    given_name: String,
}

async fn finish(session: HookSession<Profile>) -> Result<HookRedirect, CompletionError> {
    let name = session.claims().given_name.clone();
    session
        .complete()
        .claim("preferredName", name)?
        .claim("termsAccepted", true)?
        .persist(["preferredName"])
        .redirect()
}

async fn refuse(session: HookSession<Profile>) -> Result<HookRedirect, CompletionError> {
    session
        .fail("Insufficient identity assurance level")
        .redirect()
}

fn app() -> Router {
    Router::new()
        .route("/interaction/finish", get(finish))
        .route("/interaction/refuse", get(refuse))
        .layer(
            InteractionHookLayer::new(SECRET.parse::<HookSecret>().unwrap())
                .issuer(TENANT)
                .audience(HOOK_URL)
                .claims::<Profile>(),
        )
}

/// Follows the hook to its redirect and decodes the response token as MATTR
/// VII would: HS256 with the same secret, `iss` = hook, `aud` = tenant.
async fn response_payload(path: &str, iat: u64) -> (url::Url, Value) {
    let uri = format!("{path}?session_token={}", mattr_session_token(iat));
    let response = app()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = url::Url::parse(response.headers()[LOCATION].to_str().unwrap()).unwrap();
    let tokens: Vec<_> = location
        .query_pairs()
        .filter(|(name, _)| name == "session_token")
        .collect();
    assert_eq!(tokens.len(), 1);
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[HOOK_URL]);
    validation.set_audience(&[TENANT]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    jwt();
    let key = DecodingKey::from_base64_secret(SECRET).unwrap();
    let data = jsonwebtoken::decode::<Value>(tokens[0].1.as_ref(), &key, &validation).unwrap();
    assert_eq!(data.header.alg, Algorithm::HS256);
    assert_eq!(data.header.typ.as_deref(), Some("JWT"));
    (location, data.claims)
}

#[tokio::test]
async fn a_completion_decodes_to_the_documented_payload() {
    let (location, payload) = response_payload("/interaction/finish", now()).await;
    assert_eq!(location.path(), "/core/v1/openid/interaction-hook/callback");
    assert_eq!(
        location.query_pairs().next().unwrap(),
        ("flow".into(), "vci".into())
    );

    let iat = payload["iat"].as_u64().unwrap();
    assert!(iat.abs_diff(now()) <= 5);
    assert_eq!(
        payload,
        json!({
            "iss": HOOK_URL,
            "aud": TENANT,
            "iat": iat,
            "exp": iat + 60,
            "state": "af0ifjsldkj",
            "claims": { "preferredName": "Ada", "termsAccepted": true },
            "claimsToPersist": ["preferredName"],
        })
    );
}

#[tokio::test]
async fn a_failure_decodes_to_the_documented_payload() {
    let (_, payload) = response_payload("/interaction/refuse", now()).await;
    let iat = payload["iat"].as_u64().unwrap();
    assert_eq!(
        payload,
        json!({
            "iss": HOOK_URL,
            "aud": TENANT,
            "iat": iat,
            "exp": iat + 60,
            "state": "af0ifjsldkj",
            "error": { "message": "Insufficient identity assurance level" },
        })
    );
}

#[tokio::test]
async fn a_token_signed_with_the_secret_text_instead_of_its_bytes_is_refused() {
    // A common mistake on either side: HMAC keyed with the base64 string.
    let claims = json!({
        "iss": TENANT, "aud": HOOK_URL, "iat": now(), "exp": now() + 60,
        "state": "s", "redirectUrl": REDIRECT_URL, "claims": { "given_name": "Ada" },
    });
    jwt();
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
    )
    .unwrap();
    let uri = format!("/interaction/finish?session_token={token}");
    let response = app()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
