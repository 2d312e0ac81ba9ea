//! What `hook-layer` adds to a request in an axum router, against what
//! `jwt-authorizer` adds on the same HS256 token.
//!
//! Four routers, each with one GET route at `/hook` whose handler returns
//! `"ok"`, take the same request: `/hook?session_token=<token>` with
//! `Authorization: Bearer <token>` as well, so that every router sees the
//! same bytes.
//!
//! - `bare (axum 0.8)`: no authentication;
//! - `hook-layer (axum 0.8)`: `InteractionHookLayer` (issuer, audience,
//!   30 s leeway), the handler taking `HookSession`;
//! - `hook-layer, 2 redirectUrls in turn (axum 0.8)`: the same, on two
//!   tokens of the same size that differ in `redirectUrl`, taken in turn, so
//!   that nothing remembered from the previous request's URL applies (the
//!   other candidates repeat one token, and so one URL);
//! - `bare (axum 0.7)`: no authentication;
//! - `jwt-authorizer (axum 0.7)`: the layer built with
//!   `JwtAuthorizer::from_secret` on the same key, checking HS256, `iss`,
//!   `aud`, `exp` and `nbf` with 30 s leeway, the handler taking
//!   `JwtClaims<Incoming>`.
//!
//! jwt-authorizer 0.15 is built on axum 0.7 and hook-layer's extractor is
//! for axum 0.8, so each runs in a router of its own axum version, and what
//! each adds is measured against the bare router of that version.
//! hook-layer does strictly more than jwt-authorizer here: both require
//! `state` and `redirectUrl` (jwt-authorizer through `Incoming`'s
//! deserialization), but only hook-layer parses `redirectUrl` and checks it
//! against its redirect policy (an absolute https URL with a host name, not
//! an IP address or this machine, no user information, no spelling that
//! URL parsers would read differently).
//!
//! Candidates run round-robin in one process, each round timing a batch of
//! requests of every candidate in turn, so that whatever the neighbours do
//! falls on all of them alike. Each request is a `oneshot` on a clone of
//! the router, driven by `block_on` on a current-thread tokio runtime, the
//! same way for every candidate. The figures are medians over the rounds:
//! time per request, and the per-round differences (added by each layer)
//! and their per-round ratio, with the middle half of the rounds (25th to
//! 75th percentile) as the spread.
//!
//! Before timing, every candidate's response is checked to be 200, and
//! tokens that are forged, expired, or for another issuer or audience are
//! checked to be refused (401) by both layers; during timing every response
//! is still checked to be 200.
//!
//! `cargo bench --manifest-path compare/jwt-authorizer/Cargo.toml` (add
//! `-- --test` for 3 rounds instead of 101).

// The key, claims and round-robin harness of hook-layer's own benches.
#[path = "../../../hook-layer/benches/support/mod.rs"]
mod support;

use support::rounds::{BATCH, candidate, format_ns, measure, spread};
use support::{Incoming, KEY, claims_of};

use std::hint::black_box;

use axum::routing::get;
use axum07::routing::get as get07;
use hook_layer::testing::MockIssuer;
use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
use http::header::AUTHORIZATION;
use http::{HeaderValue, Request, StatusCode, Uri};
use jsonwebtoken::Algorithm;
use jwt_authorizer::{IntoLayer, JwtAuthorizer, JwtClaims, Validation};
use serde_json::Value;
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// The leeway both layers allow on `exp` (and `nbf`), hook-layer's default.
const LEEWAY_SECONDS: u64 = 30;

fn secret(key: &[u8]) -> HookSecret {
    HookSecret::from_bytes(key).unwrap()
}

/// The request every router gets: the token in the query (for hook-layer)
/// and in the `Authorization` header (for jwt-authorizer).
#[derive(Clone)]
struct Target {
    uri: Uri,
    bearer: HeaderValue,
}

impl Target {
    fn new(token: &str) -> Self {
        Self {
            uri: format!("/hook?session_token={token}").parse().unwrap(),
            bearer: format!("Bearer {token}").parse().unwrap(),
        }
    }

    fn request(&self) -> Request<String> {
        let mut request = Request::new(String::new());
        *request.uri_mut() = self.uri.clone();
        request
            .headers_mut()
            .insert(AUTHORIZATION, self.bearer.clone());
        request
    }
}

/// The four routers, all with one route at `/hook`.
struct Routers {
    bare: axum::Router,
    hook: axum::Router,
    bare07: axum07::Router,
    authorizer: axum07::Router,
}

impl Routers {
    fn new(runtime: &Runtime) -> Self {
        let bare = axum::Router::new().route("/hook", get(|| async { "ok" }));
        let hook = axum::Router::new()
            .route("/hook", get(|_: HookSession| async { "ok" }))
            .layer(
                InteractionHookLayer::new(secret(KEY))
                    .issuer(MockIssuer::TENANT)
                    .audience(MockIssuer::HOOK_URL),
            );
        let bare07 = axum07::Router::new().route("/hook", get07(|| async { "ok" }));
        let validation = Validation::new()
            .algs(vec![Algorithm::HS256])
            .iss(&[MockIssuer::TENANT])
            .aud(&[MockIssuer::HOOK_URL])
            .exp(true)
            .nbf(true)
            .leeway(LEEWAY_SECONDS);
        let key = std::str::from_utf8(KEY).expect("the benchmark key is ASCII");
        let authorizer = runtime
            .block_on(
                JwtAuthorizer::<Incoming>::from_secret(key)
                    .validation(validation)
                    .build(),
            )
            .expect("jwt-authorizer builds from a secret");
        let authorizer = axum07::Router::new()
            .route("/hook", get07(|_: JwtClaims<Incoming>| async { "ok" }))
            .layer(authorizer.into_layer());
        Self {
            bare,
            hook,
            bare07,
            authorizer,
        }
    }

    /// The statuses of bare, hook-layer, bare 0.7 and jwt-authorizer for
    /// this target.
    fn statuses(&self, runtime: &Runtime, target: &Target) -> [StatusCode; 4] {
        [
            send(runtime, &self.bare, target),
            send(runtime, &self.hook, target),
            send07(runtime, &self.bare07, target),
            send07(runtime, &self.authorizer, target),
        ]
    }
}

/// One request through an axum 0.8 router.
fn send(runtime: &Runtime, router: &axum::Router, target: &Target) -> StatusCode {
    let response = runtime.block_on(router.clone().oneshot(target.request()));
    black_box(response.unwrap()).status()
}

/// One request through an axum 0.7 router.
fn send07(runtime: &Runtime, router: &axum07::Router, target: &Target) -> StatusCode {
    let response = runtime.block_on(router.clone().oneshot(target.request()));
    black_box(response.unwrap()).status()
}

/// Both layers accept a good token and refuse bad ones, so the timings
/// cannot be of refusals.
fn check(runtime: &Runtime, routers: &Routers, issuer: &MockIssuer, claims: &Value) {
    let good = Target::new(&issuer.session().claims(claims).token());
    assert_eq!(
        routers.statuses(runtime, &good),
        [StatusCode::OK; 4],
        "every router accepts the good token"
    );
    let other_key = secret(&[0x42; 32]);
    let bad = [
        (
            "forged",
            issuer.session().claims(claims).signed_with(&other_key),
        ),
        ("expired", issuer.session().claims(claims).expired()),
        (
            "another issuer",
            issuer
                .session()
                .claims(claims)
                .issuer("https://stranger.vii.au01.mattr.global"),
        ),
        (
            "another audience",
            issuer
                .session()
                .claims(claims)
                .audience("https://elsewhere.example.com/interaction"),
        ),
    ];
    for (what, token) in bad {
        let [_, hook, _, authorizer] = routers.statuses(runtime, &Target::new(&token.token()));
        assert_eq!(
            hook,
            StatusCode::UNAUTHORIZED,
            "hook-layer refuses a {what} token"
        );
        assert_eq!(
            authorizer,
            StatusCode::UNAUTHORIZED,
            "jwt-authorizer refuses a {what} token"
        );
    }
}

/// Prints one ratio of added costs, as the median of the per-round ratios
/// with the 25th-75th percentile spread, against the goal of 0.5.
fn print_ratio(what: &str, added_hook: &[f64], added_authorizer: &[f64]) {
    let ratios: Vec<f64> = added_hook
        .iter()
        .zip(added_authorizer)
        .map(|(hook, authorizer)| hook / authorizer)
        .collect();
    let (ratio, low, high) = spread(ratios);
    let verdict = if ratio <= 0.5 { "met" } else { "NOT met" };
    println!(
        "{what} / added by jwt-authorizer: {ratio:.2} ({low:.2}-{high:.2}), \
         median of per-round ratios (25th-75th percentile); goal <= 0.50: {verdict}"
    );
}

fn compare_size(runtime: &Runtime, routers: &Routers, size: &str, claims: usize, rounds: usize) {
    let issuer = MockIssuer::new(secret(KEY));
    let claims = claims_of(claims);
    check(runtime, routers, &issuer, &claims);
    let token = issuer.session().claims(&claims).token();
    let target = Target::new(&token);
    // The same token but for another `redirectUrl` of the same length: a
    // layer that remembers the last URL it parsed never finds it here.
    let other_url = MockIssuer::REDIRECT_URL.replace("callback", "recall-2");
    let other_token = issuer
        .session()
        .claims(&claims)
        .redirect_url(other_url)
        .token();
    assert_eq!(other_token.len(), token.len());
    let targets = [target.clone(), Target::new(&other_token)];
    let mut turn = 0;
    let expect_ok = |status: StatusCode| assert_eq!(status, StatusCode::OK);
    let mut candidates = [
        candidate("bare (axum 0.8)", || {
            expect_ok(send(runtime, &routers.bare, &target));
        }),
        candidate("hook-layer (axum 0.8)", || {
            expect_ok(send(runtime, &routers.hook, &target));
        }),
        candidate("hook-layer, 2 redirectUrls in turn (axum 0.8)", || {
            turn ^= 1;
            expect_ok(send(runtime, &routers.hook, &targets[turn]));
        }),
        candidate("bare (axum 0.7)", || {
            expect_ok(send07(runtime, &routers.bare07, &target));
        }),
        candidate("jwt-authorizer (axum 0.7)", || {
            expect_ok(send07(runtime, &routers.authorizer, &target));
        }),
    ];
    let times = measure(&mut candidates, rounds);
    let added = |layer: usize, bare: usize| -> Vec<f64> {
        times[layer]
            .iter()
            .zip(&times[bare])
            .map(|(layer, bare)| layer - bare)
            .collect()
    };
    let added_hook = added(1, 0);
    let added_hook_turns = added(2, 0);
    let added_authorizer = added(4, 3);

    println!(
        "\n{size} ({} B token): {rounds} rounds of {BATCH} requests each, interleaved",
        token.len()
    );
    println!(
        "| candidate | median per request | added over its bare router (median; middle half) |"
    );
    println!("|---|---|---|");
    for (index, candidate) in candidates.iter().enumerate() {
        let (time, _, _) = spread(times[index].clone());
        let added = match index {
            1 => Some(&added_hook),
            2 => Some(&added_hook_turns),
            4 => Some(&added_authorizer),
            _ => None,
        };
        let added = added.map_or(String::new(), |added| {
            let (middle, low, high) = spread(added.clone());
            format!(
                "{} ({} to {})",
                format_ns(middle),
                format_ns(low),
                format_ns(high)
            )
        });
        println!("| {} | {} | {added} |", candidate.name, format_ns(time));
    }
    print_ratio("added by hook-layer", &added_hook, &added_authorizer);
    print_ratio(
        "added by hook-layer, 2 redirectUrls in turn",
        &added_hook_turns,
        &added_authorizer,
    );
}

fn main() {
    let rounds = if std::env::args().any(|arg| arg == "--test") {
        3
    } else {
        101
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let routers = Routers::new(&runtime);
    println!(
        "Each layer's cost over a bare axum router of its own version, on the same request \
         (token in the query and in the Authorization header). Both check the HS256 signature, \
         iss, aud, exp and nbf (30 s leeway) and read `state` and `redirectUrl`; hook-layer also \
         checks `redirectUrl` against its redirect policy, which jwt-authorizer does not."
    );
    for (size, claims) in [("small", 200), ("typical", 1000)] {
        compare_size(&runtime, &routers, size, claims, rounds);
    }
}
