//! Secret rotation and several tenants, end to end over HTTP: a journey
//! that began under the previous secret completes under it, a third
//! secret is refused, and tenants cannot be confused with each other.

use hook_layer::HookSecret;
use hook_layer::config::TenantSettings;
use hook_layer::testing::{MockIssuer, Outcome};
use hook_tests::{SECRET, TestServer, client};
use reqwest::StatusCode;
use reqwest::header::LOCATION;

const PREVIOUS: &[u8; 32] = b"the secret before the rotation!!";
const STRANGER: &[u8; 32] = b"a secret this hook never knew!!!";
const TENANT_B: &str = "https://b.vii.au01.mattr.global";
const HOOK_B: &str = "https://hook-b.example.com/interaction";
const SECRET_B: &[u8; 32] = b"tenant B's own hook secret, 32 b";

fn secret(bytes: &[u8]) -> HookSecret {
    HookSecret::from_bytes(bytes).unwrap()
}

/// Opens the welcome page with `token`, then declines the terms; returns
/// the welcome status and, when it was accepted, the redirect back.
async fn decline(server: &TestServer, token: &str) -> (StatusCode, Option<String>) {
    let http = client();
    let welcome = http
        .get(server.url(&format!("/interaction?session_token={token}")))
        .send()
        .await
        .unwrap();
    let status = welcome.status();
    if status != StatusCode::OK {
        return (status, None);
    }
    let response = http
        .post(server.url(&format!("/interaction/terms?session_token={token}")))
        .form(&[("decision", "decline")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    (status, Some(location))
}

#[tokio::test]
async fn a_journey_begun_before_a_rotation_completes_after_it() {
    let server = TestServer::start_configured("/interaction", true, |config| {
        config
            .with_previous_secrets(vec![secret(PREVIOUS)])
            .expect("a valid rotation")
    })
    .await;
    let as_tenant = |key: &[u8]| {
        let base = server.issuer();
        MockIssuer::new(secret(key))
            .tenant(base.tenant_url())
            .hook_url(server.config.tenant().hook_url.clone())
            .redirect_url(server.url(example_server::CALLBACK_PATH))
    };

    // Under the previous secret: accepted, and answered with it.
    let before = as_tenant(PREVIOUS);
    // Each issuance has its own `state`, as MATTR VII's do: a session is
    // answered once.
    let (status, location) = decline(&server, &before.session().state("before").token()).await;
    assert_eq!(status, StatusCode::OK);
    let location = location.unwrap();
    let read = before.read_redirect(&location).unwrap();
    assert!(
        matches!(read.outcome, Outcome::Failed { .. }),
        "{:?}",
        read.outcome
    );
    assert!(
        as_tenant(SECRET).read_redirect(&location).is_err(),
        "signed with the previous secret, not the current one"
    );

    // Under the current secret: answered with it.
    let now = as_tenant(SECRET);
    let (status, location) = decline(&server, &now.session().state("after").token()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(now.read_redirect(&location.unwrap()).is_ok());

    // A third secret is refused.
    let (status, _) = decline(&server, &as_tenant(STRANGER).session().token()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn several_tenants_are_told_apart() {
    let server = TestServer::start_configured("/interaction", true, |config| {
        let first = config.settings.tenants()[0].clone();
        let b = TenantSettings {
            name: Some("b".into()),
            issuer: TENANT_B.into(),
            hook_url: HOOK_B.into(),
            secrets: vec![secret(SECRET_B)],
        };
        example_server::Config::for_tenants(vec![first, b], true).expect("two tenants")
    })
    .await;
    let tenant_b =
        |key: &[u8], hook: &str| MockIssuer::new(secret(key)).tenant(TENANT_B).hook_url(hook);

    // Tenant B's token, signed with B's secret, for B's hook URL.
    let b = tenant_b(SECRET_B, HOOK_B);
    let (status, location) = decline(&server, &b.session().token()).await;
    assert_eq!(status, StatusCode::OK);
    let read = b.read_redirect(&location.unwrap()).unwrap();
    assert!(matches!(read.outcome, Outcome::Failed { .. }));

    // Tenant A still works alongside.
    let (status, _) = decline(&server, &server.issuer().session().token()).await;
    assert_eq!(status, StatusCode::OK);

    // Confusions: A's secret with B's issuer, B's secret with A's issuer,
    // B's issuer and secret for A's hook URL.
    let a_secret_b_issuer = tenant_b(SECRET, HOOK_B).session().token();
    let b_secret_a_issuer = MockIssuer::new(secret(SECRET_B))
        .tenant(server.issuer().tenant_url())
        .hook_url(server.config.tenant().hook_url.clone())
        .session()
        .token();
    let b_for_a_hook = tenant_b(SECRET_B, &server.config.tenant().hook_url)
        .session()
        .token();
    let unknown = MockIssuer::new(secret(SECRET))
        .tenant("https://c.vii.au01.mattr.global")
        .hook_url(server.config.tenant().hook_url.clone())
        .session()
        .token();
    for (what, token, code) in [
        ("A's secret, B's issuer", a_secret_b_issuer, "bad_signature"),
        ("B's secret, A's issuer", b_secret_a_issuer, "bad_signature"),
        ("B, for A's hook URL", b_for_a_hook, "wrong_audience"),
        ("an unknown issuer", unknown, "wrong_issuer"),
    ] {
        let response = client()
            .get(server.url(&format!("/interaction?session_token={token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
        let page = response.text().await.unwrap();
        assert!(page.contains(&format!("({code})")), "{what}: {page}");
    }
    server.stop().await;
}
