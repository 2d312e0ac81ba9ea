//! The example server end to end over real HTTP: the simulated MATTR VII
//! starts an issuance, the journey runs, and the response comes back.

use std::sync::Arc;

use hook_layer::HookSecret;
use hook_layer::attempts::RedisStore;
use hook_layer::testing::{Outcome, RedisServer};
use hook_tests::{
    TestServer, client, element_text, form_action, input_value, location, start_issuance,
};
use reqwest::{StatusCode, header::LOCATION};

/// A journey in progress: the session token and the page last served.
struct Journey<'s> {
    server: &'s TestServer,
    http: reqwest::Client,
    welcome_url: String,
    page: String,
    /// Where the page last opened with a GET is (path and query): what
    /// the address bar shows.
    page_url: String,
}

impl<'s> Journey<'s> {
    /// Starts an issuance as the simulated MATTR VII's start page does and
    /// opens the welcome page it redirects to.
    async fn start(server: &'s TestServer) -> Self {
        let http = client();
        let welcome_url = start_issuance(server).await;
        let response = http.get(&welcome_url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let page = response.text().await.unwrap();
        Self {
            server,
            http,
            page_url: welcome_url.trim_start_matches(&server.base).to_owned(),
            welcome_url,
            page,
        }
    }

    /// A journey for the session `token`, not yet on any page.
    fn with_token(server: &'s TestServer, token: &str) -> Self {
        Self {
            server,
            http: client(),
            welcome_url: server.url(&format!("{}?session_token={token}", server.step(""))),
            page: String::new(),
            page_url: String::new(),
        }
    }

    fn token(&self) -> &str {
        self.welcome_url.split_once("session_token=").unwrap().1
    }

    /// Posts `fields` to the current page's form; returns the response.
    async fn submit(&mut self, fields: &[(&str, &str)]) -> reqwest::Response {
        let action = form_action(&self.page).expect("the page has a form");
        let mut fields: Vec<(&str, &str)> = fields.to_vec();
        let progress = input_value(&self.page, "progress").map(str::to_owned);
        if let Some(progress) = &progress {
            fields.push(("progress", progress));
        }
        self.http
            .post(self.server.url(&action))
            .form(&fields)
            .send()
            .await
            .unwrap()
    }

    /// Posts and expects a page back, which becomes the current page.
    async fn submit_page(&mut self, fields: &[(&str, &str)], status: StatusCode) {
        let response = self.submit(fields).await;
        assert_eq!(response.status(), status);
        assert!(location(&response).is_none());
        self.page = response.text().await.unwrap();
    }

    /// Posts and expects post/redirect/get: a `303` to a page of the
    /// journey, which is opened and becomes the current page. Its address.
    async fn submit_and_follow(&mut self, fields: &[(&str, &str)]) -> String {
        let response = self.submit(fields).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let location = location(&response).unwrap();
        assert!(location.starts_with('/'), "a page of the hook: {location}");
        self.open(&location, StatusCode::OK).await;
        location
    }

    /// Opens `path_and_query` with a GET, expecting `status`; it becomes
    /// the current page.
    async fn open(&mut self, path_and_query: &str, status: StatusCode) {
        let response = self
            .http
            .get(self.server.url(path_and_query))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{path_and_query}");
        self.page = response.text().await.unwrap();
        self.page_url = path_and_query.to_owned();
    }

    /// Opens the current page's address again, as a reload does.
    async fn reload(&mut self, status: StatusCode) {
        let url = self.page_url.clone();
        self.open(&url, status).await;
    }

    async fn open_terms(&mut self) {
        let url = format!(
            "{}?session_token={}",
            self.server.step("/terms"),
            self.token()
        );
        self.open(&url, StatusCode::OK).await;
        assert!(self.page.contains("Terms of service"));
    }

    async fn reach_code_step(&mut self) {
        self.open_terms().await;
        let details = self.submit_and_follow(&[("decision", "accept")]).await;
        assert!(
            details.starts_with(&format!("{}?", self.server.step("/details"))),
            "{details}"
        );
        assert!(self.page.contains("A few details"));
        let code = self
            .submit_and_follow(&[("preferred_name", "Ada"), ("date_of_birth", "1990-04-21")])
            .await;
        assert!(
            code.starts_with(&format!("{}?", self.server.step("/verify"))),
            "{code}"
        );
        assert!(self.page.contains("Enter your one-time code"));
    }

    /// Posts, expects the redirect back to MATTR VII, and reads it as MATTR
    /// VII would; then checks the simulated issuer's callback page too.
    async fn submit_expecting_return(&mut self, fields: &[(&str, &str)]) -> (Outcome, String) {
        let response = self.submit(fields).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
        assert!(location.starts_with(&self.server.url("/dev/callback?session_token=")));
        let read = self.server.issuer().read_redirect(&location).unwrap();
        let callback = self.http.get(&location).send().await.unwrap();
        assert_eq!(callback.status(), StatusCode::OK);
        (read.outcome, callback.text().await.unwrap())
    }
}

#[tokio::test]
async fn the_whole_journey_returns_the_collected_claims() {
    let server = TestServer::start().await;
    let mut journey = Journey::start(&server).await;
    assert!(journey.page.contains("Hello, Ada"));
    assert!(journey.page.contains("ada@example.com"));

    journey.reach_code_step().await;
    let code = element_text(&journey.page, "dev-code").unwrap().to_owned();
    let (outcome, page) = journey.submit_expecting_return(&[("code", &code)]).await;
    let Outcome::Completed {
        claims,
        claims_to_persist,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(claims["preferredName"], "Ada");
    assert_eq!(claims["dateOfBirth"], "1990-04-21");
    assert_eq!(claims["termsAccepted"], true);
    assert_eq!(claims_to_persist, ["preferredName"]);
    assert!(page.contains("Issuance continues"));
    assert!(page.contains("<dd>1990-04-21</dd>"));
    server.stop().await;
}

/// MATTR's tutorial configures a bare tunnel URL as the hook URL; the
/// journey then lives at the root and the simulated MATTR VII under /dev.
#[tokio::test]
async fn a_hook_url_without_a_path_runs_the_journey_at_the_root() {
    let server = TestServer::start_at("", true).await;
    assert_eq!(server.config.hook_path(), "/");
    let mut journey = Journey::start(&server).await;
    assert!(journey.page.contains("Hello, Ada"));
    assert!(
        journey
            .welcome_url
            .starts_with(&server.url("/?session_token="))
    );
    journey.reach_code_step().await;
    assert!(form_action(&journey.page).unwrap().starts_with("/verify?"));
    let code = element_text(&journey.page, "dev-code").unwrap().to_owned();
    let (outcome, _) = journey.submit_expecting_return(&[("code", &code)]).await;
    assert!(matches!(outcome, Outcome::Completed { .. }), "{outcome:?}");
    let start = client().get(server.url("/dev")).send().await.unwrap();
    assert_eq!(start.status(), StatusCode::OK);
    assert!(start.text().await.unwrap().contains("Simulated MATTR VII"));
    // Without a token, the root is the hook refusing, not the start page.
    let root = client().get(server.url("/")).send().await.unwrap();
    assert_eq!(root.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn declining_the_terms_fails_the_issuance() {
    let server = TestServer::start().await;
    let mut journey = Journey::start(&server).await;
    journey.open_terms().await;
    let (outcome, page) = journey
        .submit_expecting_return(&[("decision", "decline")])
        .await;
    assert_eq!(
        outcome,
        Outcome::Failed {
            message: "The holder declined the terms of service.".into()
        }
    );
    assert!(page.contains("Issuance failed"));
    assert!(page.contains("The holder declined the terms of service."));
}

#[tokio::test]
async fn bad_details_are_shown_on_the_form_and_can_be_corrected() {
    let server = TestServer::start().await;
    let mut journey = Journey::start(&server).await;
    journey.open_terms().await;
    journey.submit_and_follow(&[("decision", "accept")]).await;

    journey
        .submit_page(
            &[("preferred_name", " "), ("date_of_birth", "2999-01-01")],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert!(
        journey
            .page
            .contains(r##"<li><a href="#preferred_name">Preferred name</a>: Enter the name"##)
    );
    assert!(
        journey
            .page
            .contains("Enter the name you would like to be called.")
    );
    assert!(
        journey
            .page
            .contains("Your date of birth must be in the past.")
    );
    assert!(
        journey.page.contains(r#"value="2999-01-01""#),
        "entered values are kept"
    );

    journey
        .submit_page(
            &[("preferred_name", "Ada"), ("date_of_birth", "1990-02-30")],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert!(journey.page.contains("Enter a real date"));

    journey
        .submit_and_follow(&[("preferred_name", "Ada"), ("date_of_birth", "1990-04-21")])
        .await;
    assert!(journey.page.contains("Enter your one-time code"));
}

#[tokio::test]
async fn three_wrong_codes_fail_the_issuance() {
    let server = TestServer::start().await;
    let mut journey = Journey::start(&server).await;
    journey.reach_code_step().await;
    let code = element_text(&journey.page, "dev-code").unwrap().to_owned();
    let wrong = if code == "000000" { "111111" } else { "000000" };

    journey.submit_and_follow(&[("code", wrong)]).await;
    assert!(
        journey
            .page
            .contains("That code is not right. 2 attempts left.")
    );
    journey.submit_and_follow(&[("code", "12")]).await;
    assert!(
        journey
            .page
            .contains("That code is not right. 1 attempt left.")
    );
    let (outcome, page) = journey.submit_expecting_return(&[("code", wrong)]).await;
    assert_eq!(
        outcome,
        Outcome::Failed {
            message: "The one-time code was entered incorrectly 3 times.".into()
        }
    );
    assert!(page.contains("Issuance failed"));
}

#[tokio::test]
async fn a_tampered_progress_field_is_refused() {
    let server = TestServer::start().await;
    let mut journey = Journey::start(&server).await;
    journey.reach_code_step().await;
    // One character changed in the middle of the sealed progress.
    let sealed = input_value(&journey.page, "progress").unwrap().to_owned();
    let mut tampered = sealed.clone().into_bytes();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    journey.page = journey.page.replace(&sealed, &tampered);
    journey
        .submit_page(&[("code", "123456")], StatusCode::BAD_REQUEST)
        .await;
    assert!(journey.page.contains("opened out of order"));
}

#[tokio::test]
async fn expired_forged_and_misaddressed_tokens_are_refused() {
    let server = TestServer::start().await;
    let issuer = server.issuer();
    let http = client();
    let other_secret = HookSecret::from_bytes(&[42; 32]).unwrap();
    let cases = [
        (
            issuer.session().expired().uri("/interaction"),
            "This session has expired",
            "(expired)",
        ),
        (
            issuer
                .session()
                .signed_with(&other_secret)
                .uri("/interaction"),
            "This link is not valid",
            "(bad_signature)",
        ),
        (
            issuer
                .session()
                .audience("https://other-hook.example/interaction")
                .uri("/interaction"),
            "This link is not valid",
            "(wrong_audience)",
        ),
        (
            "/interaction".to_owned(),
            "Start from your wallet",
            "(missing_token)",
        ),
    ];
    for (uri, title, code) in cases {
        let response = http.get(server.url(&uri)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{code}");
        assert_eq!(response.headers()["cache-control"], "no-store");
        let page = response.text().await.unwrap();
        assert!(
            page.contains(title) && page.contains(code),
            "{code}: {page}"
        );
    }
    // Every later step is guarded the same way.
    let forged = issuer.session().signed_with(&other_secret).token();
    for step in [
        "/interaction/terms",
        "/interaction/details",
        "/interaction/verify",
    ] {
        let response = http
            .post(server.url(&format!("{step}?session_token={forged}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{step}");
    }
}

#[tokio::test]
async fn health_and_assets_are_outside_the_layer() {
    let server = TestServer::start().await;
    let http = client();
    let health = http.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.unwrap(), "ok");
    let css = http
        .get(server.url("/assets/style.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}

#[tokio::test]
async fn a_response_is_accepted_once() {
    let server = TestServer::start().await;
    let mut journey = Journey::start(&server).await;
    journey.open_terms().await;
    let response = journey.submit(&[("decision", "decline")]).await;
    let location = response.headers()[LOCATION].to_str().unwrap().to_owned();
    let first = journey.http.get(&location).send().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let replay = journey.http.get(&location).send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(replay.text().await.unwrap().contains("Unknown issuance"));
}

/// Sent raw: no HTTP client will build a 1 MB URL. hyper refuses it (431,
/// request head too large) before the router or the layer runs, and the
/// server carries on.
#[tokio::test]
async fn a_1_mb_query_string_is_refused_before_the_hook() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::start().await;
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!(
        "GET /interaction?session_token={} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n",
        "a".repeat(1 << 20)
    );
    // The server may answer and close before reading all of it.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).await.unwrap();
    let status = String::from_utf8_lossy(&head);
    assert_eq!(
        status, "HTTP/1.1 431",
        "hyper's request-head limit answers first"
    );
    let health = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

/// Replaying the first code page does not reset the count: it is kept in
/// the attempt store, so the code cannot be guessed by trying a million.
#[tokio::test]
async fn wrong_codes_cannot_be_reset_by_replaying_a_page() {
    let server = TestServer::start().await;
    let mut journey = Journey::start(&server).await;
    journey.reach_code_step().await;
    let first_page = journey.page.clone();
    let code = element_text(&first_page, "dev-code").unwrap().to_owned();
    let wrong = if code == "000000" { "111111" } else { "000000" };

    for left in ["2 attempts left", "1 attempt left"] {
        journey.page = first_page.clone();
        journey.submit_and_follow(&[("code", wrong)]).await;
        assert!(journey.page.contains(left), "{left}");
    }
    journey.page = first_page.clone();
    let (outcome, _) = journey.submit_expecting_return(&[("code", wrong)]).await;
    assert!(matches!(outcome, Outcome::Failed { .. }));

    // Locked: even the right code, from the untouched first page, signs
    // nothing; the page says the issuance has ended.
    journey.page = first_page;
    journey
        .submit_page(&[("code", &code)], StatusCode::CONFLICT)
        .await;
    assert!(
        journey.page.contains("This issuance has already ended"),
        "{}",
        journey.page
    );
}

/// Without the simulated issuer (production mode), paths outside the
/// journey are plain 404s, not refused tokens: the layer guards matched
/// routes only.
#[tokio::test]
async fn production_mode_guards_only_the_journey() {
    let server = TestServer::start_with(false).await;
    let http = client();
    let favicon = http.get(server.url("/favicon.ico")).send().await.unwrap();
    assert_eq!(favicon.status(), StatusCode::NOT_FOUND);
    let dev = http.get(server.url("/dev/callback")).send().await.unwrap();
    assert_eq!(dev.status(), StatusCode::NOT_FOUND);
    let landing = http.get(server.url("/")).send().await.unwrap();
    assert_eq!(landing.status(), StatusCode::OK);
    let hook = http.get(server.url("/interaction")).send().await.unwrap();
    assert_eq!(hook.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(hook.headers()["www-authenticate"], "Bearer");
    assert!(
        hook.text()
            .await
            .unwrap()
            .contains("Start from your wallet")
    );

    // The code page says honestly that this example cannot send codes.
    // Without the simulated issuer, loopback redirects are refused: the
    // token must send the browser back to a real tenant address.
    let token = server
        .issuer()
        .session()
        .redirect_url("https://tenant.vii.au01.mattr.global/callback")
        .claim("email", "ada@example.com")
        .token();
    let mut journey = Journey::with_token(&server, &token);
    journey.reach_code_step().await;
    assert!(journey.page.contains("has no way to send codes"));
    assert!(!journey.page.contains("dev-code"));
}

/// An empty code is not an attempt: the page asks for the code again.
#[tokio::test]
async fn an_empty_code_asks_for_the_code_without_counting() {
    let server = TestServer::start().await;
    let mut journey = Journey::start(&server).await;
    journey.reach_code_step().await;
    let code = element_text(&journey.page, "dev-code").unwrap().to_owned();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for empty in ["", "   "] {
        journey
            .submit_page(&[("code", empty)], StatusCode::UNPROCESSABLE_ENTITY)
            .await;
        assert!(journey.page.contains("Enter the 6-digit code."));
    }
    journey.submit_and_follow(&[("code", wrong)]).await;
    assert!(
        journey.page.contains("2 attempts left"),
        "the empty codes counted"
    );
    server.stop().await;
}

/// "Send a new code" sends another one, up to three per session; the new
/// code works and the old one no longer does.
#[tokio::test]
async fn codes_can_be_resent_a_limited_number_of_times() {
    let server = TestServer::start().await;
    let mut journey = Journey::start(&server).await;
    journey.reach_code_step().await;
    let first = element_text(&journey.page, "dev-code").unwrap().to_owned();
    let mut codes = vec![first];
    for _ in 0..2 {
        resend(&mut journey).await;
        assert!(journey.page.contains("A new code is on its way."));
        codes.push(element_text(&journey.page, "dev-code").unwrap().to_owned());
    }
    // A fourth code is refused; the page keeps the last one.
    resend(&mut journey).await;
    assert!(journey.page.contains("You have been sent 3 codes"));
    assert!(!journey.page.contains("A new code is on its way."));
    let last = codes.last().unwrap().clone();
    assert_eq!(element_text(&journey.page, "dev-code"), Some(last.as_str()));
    let (outcome, _) = journey.submit_expecting_return(&[("code", &last)]).await;
    assert!(matches!(outcome, Outcome::Completed { .. }), "{outcome:?}");
    server.stop().await;
}

/// Chooses "Send a new code" on the code page: a `303` back to the code
/// page, which becomes the current page.
async fn resend(journey: &mut Journey<'_>) {
    let action = hook_tests::form_actions(&journey.page)
        .into_iter()
        .find(|action| action.contains("/resend?"))
        .expect("a resend form");
    let progress = input_value(&journey.page, "progress").unwrap().to_owned();
    let response = journey
        .http
        .post(journey.server.url(&action))
        .form(&[("progress", progress.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = location(&response).unwrap();
    assert!(location.starts_with("/interaction/verify?"), "{location}");
    journey.open(&location, StatusCode::OK).await;
}

/// Many wrong codes at once for one session, on a multi-thread runtime:
/// the attempt is reserved before the code is checked, so three codes are
/// checked: two "try again" redirects, one failure sent back to MATTR VII,
/// and everything else says the issuance has ended, signing nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn parallel_wrong_codes_check_at_most_the_limit() {
    parallel_wrong_codes(TestServer::start().await).await;
}

/// The same with the counts in Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn parallel_wrong_codes_check_at_most_the_limit_in_redis() {
    let redis =
        RedisServer::start().unwrap_or_else(|error| panic!("redis-server did not start: {error}"));
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    parallel_wrong_codes(TestServer::start_with_store(Arc::new(store)).await).await;
}

/// The Redis test is ignored when redis-server is missing; with
/// `HOOK_REQUIRE_REDIS=1` (as `.ci/run` sets) that fails here instead.
#[test]
fn redis_server_is_installed_where_required() {
    RedisServer::assert_installed_where_required(cfg!(redis_installed));
}

async fn parallel_wrong_codes(server: TestServer) {
    let mut journey = Journey::start(&server).await;
    journey.reach_code_step().await;
    let code = element_text(&journey.page, "dev-code").unwrap().to_owned();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let tally = hook_tests::fire_codes(&server, &journey.page, wrong, 48).await;
    assert_eq!((tally.try_again, tally.failed), (2, 1), "{tally:?}");
    assert_eq!(tally.completed + tally.other, 0, "{tally:?}");
    assert_eq!(tally.already_answered(), 45, "{tally:?}");
    assert_eq!(
        tally.responses.len(),
        1,
        "one response, offered to all: {tally:?}"
    );
    // And the right code now signs nothing either.
    journey
        .submit_page(&[("code", &code)], StatusCode::CONFLICT)
        .await;
    assert!(journey.page.contains("This issuance has already ended"));
    server.stop().await;
}

/// An address that leads nowhere gets a small 404 page in the same frame,
/// with the way back to the simulated MATTR VII in dev mode only.
#[tokio::test]
async fn unknown_paths_get_a_404_page() {
    for dev in [true, false] {
        let server = TestServer::start_with(dev).await;
        let response = client()
            .get(server.url("/no/such/page"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert_eq!(response.headers()["x-content-type-options"], "nosniff");
        let page = response.text().await.unwrap();
        assert!(page.contains("<h1>Page not found</h1>"), "{page}");
        assert!(page.contains(r#"href="/assets/style.css""#), "{page}");
        assert_eq!(page.contains(r#"href="/dev""#), dev, "{page}");
        server.stop().await;
    }
}

/// The hook without a token is a dead end for someone trying the example:
/// in dev mode the page leads to the simulated MATTR VII, otherwise not.
#[tokio::test]
async fn the_rejection_page_leads_to_the_simulated_issuer_in_dev_mode_only() {
    for dev in [true, false] {
        let server = TestServer::start_with(dev).await;
        let response = client()
            .get(server.url("/interaction"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let page = response.text().await.unwrap();
        assert!(page.contains("Start from your wallet"), "{page}");
        assert_eq!(page.contains(r#"href="/dev""#), dev, "{page}");
        server.stop().await;
    }
}

/// The welcome page for `token`.
async fn welcome_page(server: &TestServer, token: &str) -> String {
    client()
        .get(server.url(&format!("/interaction?session_token={token}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The welcome page names the claims for people, not by their keys.
#[tokio::test]
async fn the_welcome_page_shows_readable_claim_names() {
    let server = TestServer::start().await;
    let token = server
        .issuer()
        .session()
        .claim("given_name", "Ada")
        .claim("email", "ada@example.com")
        .claim("phone_number", "+64 21 555 0134")
        .token();
    let page = welcome_page(&server, &token).await;
    for label in [
        "<dt>Given name</dt><dd>Ada</dd>",
        "<dt>Email</dt><dd>ada@example.com</dd>",
        "<dt>Phone number</dt><dd>+64 21 555 0134</dd>",
    ] {
        assert!(page.contains(label), "{label} in {page}");
    }
    assert!(!page.contains("given_name<"), "{page}");
}

/// Claim values are data, never markup: askama escapes them in text and
/// in attributes.
#[tokio::test]
async fn claims_cannot_inject_markup() {
    let server = TestServer::start().await;
    let token = server
        .issuer()
        .session()
        .claim("given_name", "<script>alert(1)</script>")
        .claim("\"><img src=x>", "x")
        .token();
    let page = welcome_page(&server, &token).await;
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<img"), "{page}");
    assert!(page.contains("Hello, &#60;script&#62;"), "{page}");
}

/// Post/redirect/get: each step that succeeds is a `303` to the next
/// step's page, so the address bar names the page shown, and reloading it
/// repeats nothing: no code is sent again, no code checked again.
#[tokio::test]
async fn every_step_lands_on_a_page_that_reloads_without_repeating_anything() {
    let server = TestServer::start().await;
    let mut journey = Journey::start(&server).await;
    journey.open_terms().await;
    journey.submit_and_follow(&[("decision", "accept")]).await;
    assert!(
        journey
            .page_url
            .starts_with("/interaction/details?session_token=")
    );
    journey.reload(StatusCode::OK).await;
    assert!(journey.page.contains("A few details"));
    journey
        .submit_and_follow(&[("preferred_name", "Ada"), ("date_of_birth", "1990-04-21")])
        .await;
    assert!(
        journey
            .page_url
            .starts_with("/interaction/verify?session_token=")
    );
    // The whole journey's state fits an address comfortably.
    assert!(journey.page_url.len() < 1500, "{}", journey.page_url.len());
    let code = element_text(&journey.page, "dev-code").unwrap().to_owned();

    // Reloading the code page shows the same code: nothing was sent.
    for _ in 0..3 {
        journey.reload(StatusCode::OK).await;
        assert_eq!(element_text(&journey.page, "dev-code"), Some(code.as_str()));
    }
    // A wrong code lands on the code page, saying so; reloading it checks
    // nothing.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let after_wrong = journey.submit_and_follow(&[("code", wrong)]).await;
    assert_eq!(
        hook_tests::query_param(&after_wrong, "note").as_deref(),
        Some("wrong-2")
    );
    for _ in 0..3 {
        journey.reload(StatusCode::OK).await;
        assert!(
            journey
                .page
                .contains("That code is not right. 2 attempts left.")
        );
    }
    journey.submit_and_follow(&[("code", wrong)]).await;
    assert!(
        journey.page.contains("1 attempt left"),
        "the reloads counted"
    );
    // The reloads sent no codes: two more may be sent.
    for _ in 0..2 {
        resend(&mut journey).await;
        assert!(journey.page.contains("A new code is on its way."));
        journey.reload(StatusCode::OK).await;
    }
    resend(&mut journey).await;
    assert!(journey.page.contains("You have been sent 3 codes"));
    let last = element_text(&journey.page, "dev-code").unwrap().to_owned();
    let (outcome, _) = journey.submit_expecting_return(&[("code", &last)]).await;
    assert!(matches!(outcome, Outcome::Completed { .. }), "{outcome:?}");
    server.stop().await;
}

/// Twenty submissions of the right code at once: one is signed and sent
/// back to MATTR VII; every other says the issuance has already been
/// completed. Then the session is answered, and every page of it says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn parallel_right_codes_are_answered_once() {
    answered_once(TestServer::start().await).await;
}

/// The same with the counts and the answer in Redis.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
#[cfg_attr(not(redis_installed), ignore = "redis-server is not installed")]
async fn parallel_right_codes_are_answered_once_in_redis() {
    let redis =
        RedisServer::start().unwrap_or_else(|error| panic!("redis-server did not start: {error}"));
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    answered_once(TestServer::start_with_store(Arc::new(store)).await).await;
}

async fn answered_once(server: TestServer) {
    let mut journey = Journey::start(&server).await;
    journey.reach_code_step().await;
    let code_page = journey.page.clone();
    let code_url = journey.page_url.clone();
    let code = element_text(&code_page, "dev-code").unwrap().to_owned();
    let tally = hook_tests::fire_codes(&server, &code_page, &code, 20).await;
    assert_eq!(tally.completed, 1, "{tally:?}");
    assert_eq!(tally.already_completed, 19, "{tally:?}");
    assert_eq!(
        tally.failed + tally.already_ended + tally.try_again + tally.other,
        0
    );
    assert_eq!(
        tally.responses.len(),
        1,
        "one response, offered to all: {tally:?}"
    );

    // The last step again, as a reload of it would: nothing is signed.
    journey.page = code_page;
    let response = journey.submit(&[("code", &code)]).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(location(&response).is_none());
    assert_eq!(response.headers()["cache-control"], "no-store");
    let page = response.text().await.unwrap();
    assert!(
        page.contains("This issuance has already been completed"),
        "{page}"
    );
    assert!(page.contains("Continue to your wallet"), "{page}");
    let (_, offered) = hook_tests::offered_response(&server.issuer(), &page).expect("offered");
    assert!(
        tally.responses.contains(&offered),
        "the same response, offered again"
    );
    assert!(page.contains(r#"href="/dev""#), "dev mode leads on: {page}");
    // Every page of the session says so, instead of its form.
    let token = journey.token().to_owned();
    for url in [
        format!("/interaction?session_token={token}"),
        format!("/interaction/terms?session_token={token}"),
        code_url,
    ] {
        journey.open(&url, StatusCode::CONFLICT).await;
        assert!(
            journey
                .page
                .contains("This issuance has already been completed"),
            "{url}"
        );
        assert!(!journey.page.contains("<form"), "{url}");
    }
    for (step, fields) in [
        ("/interaction/terms", vec![("decision", "decline")]),
        ("/interaction/resend", vec![("progress", "x")]),
    ] {
        let response = journey
            .http
            .post(server.url(&format!("{step}?session_token={token}")))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CONFLICT, "{step}");
        assert!(location(&response).is_none(), "{step}");
    }
    server.stop().await;
}

/// A declined issuance has ended: its pages say so, and a second decision
/// signs nothing.
#[tokio::test]
async fn a_declined_issuance_says_it_has_ended() {
    let server = TestServer::start().await;
    let mut journey = Journey::start(&server).await;
    journey.open_terms().await;
    let terms = journey.page.clone();
    let (outcome, _) = journey
        .submit_expecting_return(&[("decision", "decline")])
        .await;
    assert!(matches!(outcome, Outcome::Failed { .. }), "{outcome:?}");
    journey.page = terms;
    for decision in ["decline", "accept"] {
        let response = journey.submit(&[("decision", decision)]).await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let page = response.text().await.unwrap();
        assert!(page.contains("This issuance has already ended"), "{page}");
    }
    let welcome = journey.welcome_url.clone();
    let response = journey.http.get(&welcome).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let page = response.text().await.unwrap();
    assert!(page.contains("This issuance has already ended"), "{page}");
    assert!(
        page.contains("start the credential issuance again"),
        "{page}"
    );
    server.stop().await;
}

/// While the attempt store is down no page can tell whether its session
/// was answered: each says to try again in a moment (503), and the journey
/// goes on when the store is back.
#[tokio::test]
async fn a_store_outage_asks_to_try_again() {
    let store = Arc::new(hook_tests::SwitchableStore::default());
    let server = TestServer::start_with_store(store.clone()).await;
    let mut journey = Journey::start(&server).await;
    journey.reach_code_step().await;
    let code = element_text(&journey.page, "dev-code").unwrap().to_owned();
    store.set_down(true);
    journey
        .submit_page(&[("code", &code)], StatusCode::SERVICE_UNAVAILABLE)
        .await;
    assert!(journey.page.contains("Please try again in a moment"));
    assert!(journey.page.contains("Nothing was checked"));
    let welcome = journey.welcome_url.clone();
    let response = journey.http.get(&welcome).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    store.set_down(false);
    journey.reload(StatusCode::OK).await;
    let (outcome, _) = journey.submit_expecting_return(&[("code", &code)]).await;
    assert!(matches!(outcome, Outcome::Completed { .. }), "{outcome:?}");
    server.stop().await;
}
