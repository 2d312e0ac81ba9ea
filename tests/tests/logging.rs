//! What gets logged: with the `tracing` feature, every refusal is one
//! event with its code and reason, and no event carries the token; the
//! example server logs how each journey ended and that codes were sent,
//! never a claim, a code or a token.
//!
//! Each test captures its own thread's events (`set_default`), and every
//! test in this file does, so that no thread without a subscriber leaves
//! tracing's per-callsite cache saying "nobody listens".

use std::io::Write;
use std::sync::{Arc, Mutex};

use example_server::progress::Progress;
use hook_layer::testing::{MockIssuer, Outcome};
use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
use hook_tests::{TestServer, client, element_text, form_action, input_value};
use reqwest::StatusCode;
use reqwest::header::LOCATION;

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn refusals_are_logged_without_the_token() {
    let secret = HookSecret::from_bytes(b"logging test secret of 32 bytes!").unwrap();
    let issuer = MockIssuer::new(secret.clone());
    let layer = InteractionHookLayer::new(secret).audience(MockIssuer::HOOK_URL);
    let other = HookSecret::from_bytes(&[3; 32]).unwrap();
    let forged = issuer.session().signed_with(&other).token();
    let misaddressed = issuer
        .session()
        .audience("https://elsewhere.example/hook")
        .token();
    let valid = issuer.session().token();

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        for token in [&forged, &misaddressed, &valid] {
            let uri = format!("/interaction?session_token={token}")
                .parse()
                .unwrap();
            let _: Result<HookSession, _> = layer.verify(&uri);
        }
    });

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let events: Vec<&str> = log.lines().collect();
    assert_eq!(
        events.len(),
        2,
        "one event per refusal, none for the valid token: {log}"
    );
    assert!(
        events[0].contains("code=\"bad_signature\"") || events[0].contains("code=bad_signature"),
        "{log}"
    );
    assert!(events[1].contains("wrong_audience"), "{log}");
    assert!(events.iter().all(
        |event| event.contains("path=\"/interaction\"") || event.contains("path=/interaction")
    ));
    for token in [&forged, &misaddressed, &valid] {
        for segment in token.split('.') {
            assert!(
                !log.contains(segment),
                "a log line holds part of a token: {log}"
            );
        }
    }
}

impl Captured {
    /// Makes this thread's default subscriber write here, at debug level,
    /// without timestamps (whose digits could pass for a code).
    fn start(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .without_time()
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Accepts the terms and gives details for the session `token`; the code
/// page.
async fn reach_code_step(server: &TestServer, token: &str) -> String {
    let http = client();
    let terms = server.url(&format!("/interaction/terms?session_token={token}"));
    let response = http
        .post(terms)
        .form(&[("decision", "accept")])
        .send()
        .await
        .unwrap();
    let details = follow(server, &response).await;
    let response = http
        .post(server.url(&form_action(&details).unwrap()))
        .form(&[
            ("progress", input_value(&details, "progress").unwrap()),
            ("preferred_name", "Ada"),
            ("date_of_birth", "1990-04-21"),
        ])
        .send()
        .await
        .unwrap();
    follow(server, &response).await
}

/// The page a step's `303 See Other` leads to.
async fn follow(server: &TestServer, response: &reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = hook_tests::location(response).unwrap();
    let page = client().get(server.url(&location)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    page.text().await.unwrap()
}

/// Starts an issuance at the simulated MATTR VII; the session token.
async fn start_issuance(server: &TestServer) -> String {
    let response = client()
        .post(server.url("/dev/start"))
        .form(&[("given_name", "Ada"), ("email", "ada@example.com")])
        .send()
        .await
        .unwrap();
    let location = response.headers()[LOCATION].to_str().unwrap();
    location.split_once("session_token=").unwrap().1.to_owned()
}

/// A finished journey logs one line saying how it ended, with the start of
/// its `state` and nothing else that identifies the holder: no claim, no
/// code, no token.
#[tokio::test]
async fn journeys_log_how_they_ended_without_claims_or_codes() {
    let captured = Captured::default();
    let _guard = captured.start();
    let server = TestServer::start().await;
    let http = client();

    let completed = start_issuance(&server).await;
    let page = reach_code_step(&server, &completed).await;
    let code = element_text(&page, "dev-code").unwrap().to_owned();
    let response = http
        .post(server.url(&form_action(&page).unwrap()))
        .form(&[
            ("progress", input_value(&page, "progress").unwrap()),
            ("code", &code),
        ])
        .send()
        .await
        .unwrap();
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let read = server.issuer().read_redirect(&location).unwrap();
    assert!(matches!(read.outcome, Outcome::Completed { .. }));
    let callback = http.get(&location).send().await.unwrap();
    assert_eq!(callback.status(), StatusCode::OK);

    let declined = start_issuance(&server).await;
    let response = http
        .post(server.url(&format!("/interaction/terms?session_token={declined}")))
        .form(&[("decision", "decline")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    server.stop().await;

    let log = captured.text();
    let ends: Vec<&str> = log
        .lines()
        .filter(|line| {
            line.contains("interaction completed") || line.contains("interaction failed")
        })
        .collect();
    assert_eq!(ends.len(), 2, "one line per journey: {log}");
    assert!(ends[0].contains("interaction completed"), "{log}");
    assert!(
        ends[1].contains("interaction failed") && ends[1].contains("terms declined"),
        "{log}"
    );
    for secret in [
        code.as_str(),
        "ada@example.com",
        "1990-04-21",
        "preferredName",
    ] {
        assert!(!log.contains(secret), "{secret} in the log: {log}");
    }
    for token in [&completed, &declined] {
        for segment in token.split('.') {
            assert!(!log.contains(segment), "part of a token in the log: {log}");
        }
    }
}

/// Without dev mode the code goes nowhere but the log, which says a code
/// was sent and to whom (masked), and never holds the code; the page does
/// not show it either.
#[tokio::test]
async fn without_dev_mode_the_code_is_neither_shown_nor_logged() {
    let captured = Captured::default();
    let _guard = captured.start();
    let server = TestServer::start_with(false).await;
    // Without the simulated issuer, loopback redirects are refused.
    let token = server
        .issuer()
        .session()
        .redirect_url("https://tenant.vii.au01.mattr.global/callback")
        .claim("email", "ada@example.com")
        .token();
    let page = reach_code_step(&server, &token).await;
    assert!(page.contains("has no way to send codes"), "{page}");
    assert!(!page.contains("dev-code"), "{page}");

    // The code, as only the server can read it: from the sealed progress.
    let layer = InteractionHookLayer::new(HookSecret::from_bytes(hook_tests::SECRET).unwrap())
        .issuer(server.base.clone())
        .audience(server.config.tenant().hook_url.clone());
    let uri = format!("/interaction?session_token={token}")
        .parse()
        .unwrap();
    let session: HookSession = layer.verify(&uri).unwrap();
    let progress: Progress = session
        .open_for(
            example_server::progress::SEALED_FOR,
            input_value(&page, "progress").unwrap(),
        )
        .unwrap();
    let code = progress.code.expect("a code was sent");
    assert!(!page.contains(&code), "the code is on the page");
    server.stop().await;

    let log = captured.text();
    let sent: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("one-time code sent"))
        .collect();
    assert_eq!(sent.len(), 1, "{log}");
    assert!(sent[0].contains("a***@example.com"), "{log}");
    assert!(!log.contains(&code), "the code is in the log: {log}");
    assert!(!log.contains("ada@example.com"), "{log}");
}
