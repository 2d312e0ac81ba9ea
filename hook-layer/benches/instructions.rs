//! Work per call that a noisy machine cannot move: run one case under
//! `valgrind --tool=callgrind` and read the instructions it executed.
//! `scripts/instructions.sh` runs every case twice (1 and 101 calls) and
//! prints the difference per call, so setup cancels out.
//!
//! Run alone (`cargo bench -p hook-layer --features test-util --bench
//! instructions`), it checks every case once and prints the list; with
//! arguments `<case> <calls>` it runs one case that many times. Cases:
//! `floor-<size>` (HMAC-SHA256 of the signing input with a precomputed key
//! state), `layer-<size>` (`verify_token`), `newurl-<size>` (`verify_token`
//! on tokens that each name another `redirectUrl`, so the parse of the
//! last one is never reused), `decode-<size>`
//! (`jsonwebtoken::decode` with the same checks), and `refuse-forged`
//! (a typical token with a wrong signature), `router-bare` and
//! `router-layer` (one request with a small token through an axum router
//! without and with the layer, the handler taking the session); sizes
//! `small`, `typical`,
//! `large` (200 B, 1 KB and 2.65 KB of claims).
//!
//! Tokens are signed at a fixed time and checked by a fixed clock, so the
//! work is the same in every run.

#[path = "../tests/support/app_provider.rs"]
mod app_provider;
mod support;

use support::{Incoming, KEY, claims_of};

use std::hint::black_box;
use std::time::{Duration, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use hmac::{Hmac, KeyInit, Mac};
use hook_layer::testing::MockIssuer;
use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::Sha256;
use tower::ServiceExt;

/// 2025-11-29T13:20:00Z.
const NOW: u64 = 1_764_422_400;

fn clock() -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

fn token(size: &str) -> String {
    token_to(size, MockIssuer::REDIRECT_URL)
}

/// A token of `size` whose `redirectUrl` is `redirect_url`.
fn token_to(size: &str, redirect_url: &str) -> String {
    let bytes = match size {
        "small" => 200,
        "typical" => 1000,
        "large" => 2650,
        other => panic!("unknown size {other}"),
    };
    MockIssuer::new(HookSecret::from_bytes(KEY).unwrap())
        .clock(clock)
        .session()
        .redirect_url(redirect_url)
        .claims(claims_of(bytes))
        .token()
}

/// Runs `case` `calls` times.
fn run(case: &str, calls: usize) {
    let (kind, size) = case.split_once('-').expect("a case is <kind>-<size>");
    let layer = InteractionHookLayer::new(HookSecret::from_bytes(KEY).unwrap())
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL)
        .clock(clock);
    match kind {
        "floor" => {
            let token = token(size);
            let input = token.rsplit_once('.').unwrap().0.as_bytes();
            let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(KEY).unwrap();
            for _ in 0..calls {
                let mut mac = keyed.clone();
                mac.update(black_box(input));
                black_box(mac.finalize().into_bytes());
            }
        }
        "layer" => {
            let token = token(size);
            for _ in 0..calls {
                let session: Result<HookSession, _> = layer.verify_token(black_box(&token));
                black_box(session.unwrap());
            }
        }
        "newurl" => {
            // As many tokens for 1 call as for 101, so that minting them
            // cancels out; the same length as the usual URL's.
            let tokens: Vec<String> = (0..101)
                .map(|i| {
                    let url = format!("https://tenant.vii.au01.mattr.global/core/v1/openid/interaction-hook/call{i:04}");
                    token_to(size, &url)
                })
                .collect();
            for token in tokens.iter().take(calls) {
                let session: Result<HookSession, _> = layer.verify_token(black_box(token));
                black_box(session.unwrap());
            }
        }
        "decode" => {
            let token = token(size);
            let key = DecodingKey::from_secret(KEY).unwrap();
            let mut validation = Validation::new(Algorithm::HS256);
            validation.set_issuer(&[MockIssuer::TENANT]);
            validation.set_audience(&[MockIssuer::HOOK_URL]);
            // jsonwebtoken reads the system clock: the token would be
            // expired by it, so `exp` is left to the layer's cases.
            validation.validate_exp = false;
            for _ in 0..calls {
                let decoded =
                    jsonwebtoken::decode::<Incoming>(black_box(&token), &key, &validation);
                black_box(decoded.unwrap());
            }
        }
        "router" => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let router = match size {
                "bare" => Router::new().route("/hook", get(|| async { "ok" })),
                "layer" => Router::new()
                    .route("/hook", get(|_: HookSession| async { "ok" }))
                    .layer(layer),
                other => panic!("unknown router {other}"),
            };
            let uri = format!("/hook?session_token={}", token("small"));
            for _ in 0..calls {
                let request = Request::get(&uri).body(Body::empty()).unwrap();
                let response = runtime.block_on(router.clone().oneshot(black_box(request)));
                assert_eq!(response.unwrap().status(), StatusCode::OK);
            }
        }
        "refuse" => {
            assert_eq!(size, "forged");
            let mut forged = token("typical");
            forged.truncate(forged.len() - 2);
            forged.push_str("AA");
            for _ in 0..calls {
                let refused: Result<HookSession, _> = layer.verify_token(black_box(&forged));
                black_box(refused.unwrap_err());
            }
        }
        other => panic!("unknown kind {other}"),
    }
}

const CASES: [&str; 15] = [
    "floor-small",
    "floor-typical",
    "floor-large",
    "layer-small",
    "layer-typical",
    "layer-large",
    "newurl-small",
    "newurl-typical",
    "newurl-large",
    "decode-small",
    "decode-typical",
    "decode-large",
    "refuse-forged",
    "router-bare",
    "router-layer",
];

fn main() {
    app_provider::PROVIDER
        .install_default()
        .expect("no provider installed before");
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [case, calls] if !case.starts_with('-') => run(case, calls.parse().expect("a count")),
        _ => {
            // `cargo bench` (and `-- --test`): check every case once.
            for case in CASES {
                run(case, 1);
            }
            println!("cases: {}", CASES.join(" "));
        }
    }
}
