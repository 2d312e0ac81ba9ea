//! The example server's JSON API as a native app uses it, over real HTTP:
//! the app is opened by the hook URL, reads `session_token` from it, calls
//! the backend with `Authorization: Bearer`, carries the sealed progress
//! from call to call, and opens the `redirectUrl` it is given, where
//! MATTR VII (here the simulated one) reads the response token.

use std::sync::Arc;

use hook_layer::HookSecret;
use hook_layer::testing::Outcome;
use hook_tests::{SwitchableStore, TestServer, client, query_param, start_issuance};
use reqwest::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

/// The app, for one session.
struct App<'s> {
    server: &'s TestServer,
    http: reqwest::Client,
    token: String,
}

/// What an API call answered.
struct Answer {
    status: StatusCode,
    /// `WWW-Authenticate`, if any.
    challenge: Option<String>,
    body: Value,
}

impl<'s> App<'s> {
    /// Starts an issuance at the simulated MATTR VII, which sends the
    /// holder to the hook URL: the link that opens the app. The app reads
    /// the session token from it.
    async fn open(server: &'s TestServer) -> Self {
        let link = start_issuance(server).await;
        let token = query_param(&link, "session_token").expect("a session token");
        Self::with_token(server, &token)
    }

    fn with_token(server: &'s TestServer, token: &str) -> Self {
        Self {
            server,
            http: client(),
            token: token.to_owned(),
        }
    }

    fn url(&self, call: &str) -> String {
        self.server.url(&format!("/interaction/api/{call}"))
    }

    async fn session(&self) -> Answer {
        let request = self
            .http
            .get(self.url("session"))
            .header(AUTHORIZATION, format!("Bearer {}", self.token));
        answer(request.send().await.unwrap()).await
    }

    async fn call(&self, call: &str, body: Value) -> Answer {
        let request = self
            .http
            .post(self.url(call))
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        answer(request.send().await.unwrap()).await
    }

    /// Accepts the terms and gives details: the progress at the code step.
    async fn reach_code_step(&self) -> String {
        let terms = self.call("terms", json!({ "decision": "accept" })).await;
        assert_eq!(terms.status, StatusCode::OK, "{}", terms.body);
        let details = self
            .call(
                "details",
                json!({
                    "progress": terms.body["progress"],
                    "preferred_name": "Ada",
                    "date_of_birth": "1990-04-21",
                }),
            )
            .await;
        assert_eq!(details.status, StatusCode::OK, "{}", details.body);
        assert_eq!(details.body["next"], "code");
        details.body["progress"].as_str().unwrap().to_owned()
    }

    /// Sends a code: the progress holding it, and the code (dev mode).
    async fn send_code(&self, progress: &str) -> (String, String) {
        let sent = self
            .call("code", json!({ "progress": progress, "action": "send" }))
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
        let code = sent.body["devCode"].as_str().expect("dev mode").to_owned();
        (sent.body["progress"].as_str().unwrap().to_owned(), code)
    }

    async fn check_code(&self, progress: &str, code: &str) -> Answer {
        self.call(
            "code",
            json!({ "progress": progress, "action": "check", "code": code }),
        )
        .await
    }
}

/// Reads a JSON answer; every answer of the API is JSON and never cached.
async fn answer(response: Response) -> Answer {
    let status = response.status();
    let headers = response.headers().clone();
    assert_eq!(
        headers[CONTENT_TYPE], "application/json",
        "{status}: JSON, whatever the status"
    );
    assert_eq!(headers[CACHE_CONTROL], "no-store", "{status}");
    let challenge = headers
        .get(WWW_AUTHENTICATE)
        .map(|value| value.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}"));
    Answer {
        status,
        challenge,
        body,
    }
}

fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

/// The whole journey as the app plays it, one wrong code included; the
/// redirect it opens carries a response MATTR VII accepts, once.
#[tokio::test]
async fn the_app_completes_the_journey_and_mattr_vii_continues() {
    let server = TestServer::start().await;
    let app = App::open(&server).await;

    let session = app.session().await;
    assert_eq!(session.status, StatusCode::OK);
    assert_eq!(session.body["claims"]["given_name"], "Ada");
    assert_eq!(session.body["claims"]["email"], "ada@example.com");
    assert_eq!(session.body["answered"], Value::Null);
    assert_eq!(session.body["codeChannel"], "screen");
    assert!(session.body["expiresAt"].as_u64().is_some());

    let terms = app.call("terms", json!({ "decision": "accept" })).await;
    assert_eq!(terms.status, StatusCode::OK);
    assert_eq!(terms.body["next"], "details");
    let progress = terms.body["progress"].clone();

    // Details are validated as the form is: every field's problem at once.
    let invalid = app
        .call(
            "details",
            json!({ "progress": progress, "preferred_name": " ", "date_of_birth": "2999-01-01" }),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.body["error"], "invalid_fields");
    assert_eq!(
        invalid.body["fields"],
        json!({
            "preferred_name": "Enter the name you would like to be called.",
            "date_of_birth": "Your date of birth must be in the past.",
        })
    );
    let details = app
        .call(
            "details",
            json!({ "progress": progress, "preferred_name": "Ada", "date_of_birth": "1990-04-21" }),
        )
        .await;
    assert_eq!(details.status, StatusCode::OK, "{}", details.body);
    let progress = details.body["progress"].as_str().unwrap().to_owned();

    // Nothing to check before a code is sent; an empty code is no attempt.
    let early = app.check_code(&progress, "123456").await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert_eq!(early.body["error"], "no_code_sent");
    let sent = app
        .call("code", json!({ "progress": progress, "action": "send" }))
        .await;
    assert_eq!(sent.status, StatusCode::OK);
    assert_eq!(sent.body["channel"], "screen");
    assert_eq!(sent.body["sentTo"], "a***@example.com");
    let code = sent.body["devCode"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    let progress = sent.body["progress"].as_str().unwrap().to_owned();
    let empty = app.check_code(&progress, " ").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.body["fields"]["code"], "Enter the 6-digit code.");

    let wrong_code = app.check_code(&progress, wrong(&code)).await;
    assert_eq!(wrong_code.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong_code.body["error"], "wrong_code");
    assert_eq!(wrong_code.body["attemptsLeft"], 2);

    let done = app.check_code(&progress, &code).await;
    assert_eq!(done.status, StatusCode::OK);
    let object = done.body.as_object().unwrap();
    assert_eq!(object.len(), 1, "only the URL: {}", done.body);
    let redirect_url = object["redirectUrl"].as_str().unwrap().to_owned();

    // The app opens the URL; MATTR VII reads the response token.
    assert!(redirect_url.starts_with(&server.url("/dev/callback?session_token=")));
    let read = server.issuer().read_redirect(&redirect_url).unwrap();
    let Outcome::Completed {
        claims,
        claims_to_persist,
    } = read.outcome
    else {
        panic!("{:?}", read.outcome)
    };
    assert_eq!(claims["preferredName"], "Ada");
    assert_eq!(claims["dateOfBirth"], "1990-04-21");
    assert_eq!(claims["termsAccepted"], true);
    assert_eq!(claims_to_persist, ["preferredName"]);
    let callback = client().get(&redirect_url).send().await.unwrap();
    assert_eq!(callback.status(), StatusCode::OK);
    assert!(
        callback
            .text()
            .await
            .unwrap()
            .contains("Issuance continues")
    );

    // Answered once: the API and the pages both say so, and sign nothing.
    let session = app.session().await;
    assert_eq!(session.status, StatusCode::OK);
    assert_eq!(session.body["answered"], "completed");
    for (call, body) in [
        (
            "code",
            json!({ "progress": progress, "action": "check", "code": code }),
        ),
        ("terms", json!({ "decision": "decline" })),
    ] {
        let again = app.call(call, body).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{call}");
        assert_eq!(
            again.body,
            json!({
                "error": "already_answered",
                "message": "This issuance has already been completed.",
                "answered": "completed",
                "redirectUrl": redirect_url,
            })
        );
    }
    let page = client()
        .get(server.url(&format!("/interaction?session_token={}", app.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::CONFLICT);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("This issuance has already been completed")
    );
    server.stop().await;
}

/// Declining, and three wrong codes, end the issuance the same way: a
/// redirect URL whose response MATTR VII reads as failed.
#[tokio::test]
async fn declining_and_wrong_codes_end_the_issuance() {
    let server = TestServer::start().await;
    let app = App::open(&server).await;
    let declined = app.call("terms", json!({ "decision": "decline" })).await;
    assert_eq!(declined.status, StatusCode::OK);
    let url = declined.body["redirectUrl"].as_str().unwrap();
    let read = server.issuer().read_redirect(url).unwrap();
    assert_eq!(
        read.outcome,
        Outcome::Failed {
            message: "The holder declined the terms of service.".into()
        }
    );
    assert_eq!(app.session().await.body["answered"], "ended");

    let app = App::open(&server).await;
    let progress = app.reach_code_step().await;
    let (progress, code) = app.send_code(&progress).await;
    for left in [2, 1] {
        let answer = app.check_code(&progress, wrong(&code)).await;
        assert_eq!(answer.body["attemptsLeft"], left);
    }
    let third = app.check_code(&progress, wrong(&code)).await;
    assert_eq!(third.status, StatusCode::OK);
    let read = server
        .issuer()
        .read_redirect(third.body["redirectUrl"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        read.outcome,
        Outcome::Failed {
            message: "The one-time code was entered incorrectly 3 times.".into()
        }
    );
    let late = app.check_code(&progress, &code).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert_eq!(late.body["answered"], "ended");
    server.stop().await;
}

/// Codes are sent at most three times, as on the pages.
#[tokio::test]
async fn codes_are_sent_a_limited_number_of_times() {
    let server = TestServer::start().await;
    let app = App::open(&server).await;
    let mut progress = app.reach_code_step().await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        let (next, code) = app.send_code(&progress).await;
        progress = next;
        codes.push(code);
    }
    let fourth = app
        .call("code", json!({ "progress": progress, "action": "send" }))
        .await;
    assert_eq!(fourth.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(fourth.body["error"], "too_many_codes_sent");
    let done = app.check_code(&progress, &codes[2]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    server.stop().await;
}

/// Refusals by the layer are JSON with a `WWW-Authenticate: Bearer`
/// challenge: an expired session and a forged token are told apart.
#[tokio::test]
async fn expired_forged_and_missing_tokens_are_refused_in_json() {
    let server = TestServer::start().await;
    let issuer = server.issuer();
    let forged = issuer
        .session()
        .signed_with(&HookSecret::from_bytes(&[42; 32]).unwrap())
        .token();
    let expired = issuer.session().expired().token();
    for (token, code, message) in [
        (&expired, "expired", "the session token has expired"),
        (
            &forged,
            "bad_signature",
            "the session token signature is not valid",
        ),
    ] {
        let app = App::with_token(&server, token);
        for refused in [
            app.session().await,
            app.call("terms", json!({ "decision": "accept" })).await,
        ] {
            assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{code}");
            assert_eq!(
                refused.challenge.as_deref(),
                Some(r#"Bearer error="invalid_token""#),
                "{code}"
            );
            assert_eq!(refused.body, json!({ "error": code, "message": message }));
        }
    }

    // No token: a bare challenge. A token in the query is refused, never
    // read: it belongs in the header.
    let token = issuer.session().token();
    let missing = answer(
        client()
            .get(server.url("/interaction/api/session"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.challenge.as_deref(), Some("Bearer"));
    assert_eq!(missing.body["error"], "missing_token");
    let in_query = server.url(&format!("/interaction/api/session?session_token={token}"));
    let refused = answer(client().get(&in_query).send().await.unwrap()).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.challenge.as_deref(),
        Some(r#"Bearer error="invalid_request""#)
    );
    assert_eq!(refused.body["error"], "token_in_query");
    server.stop().await;
}

/// A token in the query beside the header's, another or the same one:
/// refused as a bad request, whichever is genuine.
#[tokio::test]
async fn a_query_token_that_conflicts_with_the_header_is_refused() {
    let server = TestServer::start().await;
    let issuer = server.issuer();
    let header = issuer.session().state("header").token();
    let query = issuer.session().state("query").token();
    let response = client()
        .get(server.url(&format!("/interaction/api/session?session_token={query}")))
        .header(AUTHORIZATION, format!("Bearer {header}"))
        .send()
        .await
        .unwrap();
    let refused = answer(response).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.challenge.as_deref(),
        Some(r#"Bearer error="invalid_request""#)
    );
    assert_eq!(refused.body["error"], "token_in_query");
    // The same token in both places is refused too: the API never reads
    // the query, where a token would reach logs.
    let same = client()
        .get(server.url(&format!("/interaction/api/session?session_token={header}")))
        .header(AUTHORIZATION, format!("Bearer {header}"))
        .send()
        .await
        .unwrap();
    let same = answer(same).await;
    assert_eq!(same.status, StatusCode::BAD_REQUEST);
    assert_eq!(same.body["error"], "token_in_query");
    server.stop().await;
}

/// Bodies that are not the call's JSON, and progress that is not this
/// session's or not at this step, are refused without effect.
#[tokio::test]
async fn bad_bodies_and_foreign_progress_are_refused() {
    let server = TestServer::start().await;
    let app = App::open(&server).await;
    let not_json = app
        .http
        .post(app.url("terms"))
        .header(AUTHORIZATION, format!("Bearer {}", app.token))
        .form(&[("decision", "accept")])
        .send()
        .await
        .unwrap();
    let not_json = answer(not_json).await;
    assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(not_json.body["error"], "invalid_body");
    let broken = app
        .http
        .post(app.url("terms"))
        .header(AUTHORIZATION, format!("Bearer {}", app.token))
        .header(CONTENT_TYPE, "application/json")
        .body("{\"decision\": ")
        .send()
        .await
        .unwrap();
    let broken = answer(broken).await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.body["error"], "invalid_body");
    let unknown = app.call("terms", json!({ "decision": "maybe" })).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body["fields"]["decision"].is_string());

    let at_details = app.call("terms", json!({ "decision": "accept" })).await;
    let at_details = at_details.body["progress"].as_str().unwrap().to_owned();
    // Progress that is not at the code step yet.
    let early = app
        .call("code", json!({ "progress": at_details, "action": "send" }))
        .await;
    assert_eq!(early.status, StatusCode::BAD_REQUEST);
    assert_eq!(early.body["error"], "invalid_progress");
    // Another session's progress.
    let other = App::open(&server).await;
    let theirs = other.reach_code_step().await;
    let foreign = app
        .call("code", json!({ "progress": theirs, "action": "send" }))
        .await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
    assert_eq!(foreign.body["error"], "invalid_progress");
    let unknown = app
        .call("code", json!({ "progress": theirs, "action": "guess" }))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "progress first");
    server.stop().await;
}

/// While the attempt store is down nothing is checked, sent or signed:
/// 503, and the app may try again.
#[tokio::test]
async fn a_store_outage_is_503_and_the_app_can_try_again() {
    let store = Arc::new(SwitchableStore::default());
    let server = TestServer::start_with_store(store.clone()).await;
    let app = App::open(&server).await;
    let progress = app.reach_code_step().await;
    let (progress, code) = app.send_code(&progress).await;
    store.set_down(true);
    for down in [app.session().await, app.check_code(&progress, &code).await] {
        assert_eq!(down.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(down.body["error"], "store_unavailable");
    }
    store.set_down(false);
    let done = app.check_code(&progress, &code).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body["redirectUrl"].is_string());
    server.stop().await;
}

/// Only dev mode returns the code; otherwise it goes through the code
/// sender (here, nowhere) and never into the answer.
#[tokio::test]
async fn the_code_is_in_the_answer_in_dev_mode_only() {
    let server = TestServer::start_with(false).await;
    // Without the simulated issuer, loopback redirects are refused.
    let token = server
        .issuer()
        .session()
        .redirect_url("https://tenant.vii.au01.mattr.global/callback")
        .claim("email", "ada@example.com")
        .token();
    let app = App::with_token(&server, &token);
    assert_eq!(app.session().await.body["codeChannel"], "none");
    let progress = app.reach_code_step().await;
    let sent = app
        .call("code", json!({ "progress": progress, "action": "send" }))
        .await;
    assert_eq!(sent.status, StatusCode::OK);
    assert_eq!(sent.body["channel"], "none");
    assert!(sent.body.get("devCode").is_none(), "{}", sent.body);
    server.stop().await;
}
