//! What the layer costs, next to its floor, measured side by side:
//!
//! - `verify/*`: a request through `InteractionHookLayer` (on a no-op inner
//!   service) vs `jsonwebtoken::decode` alone with equivalent validation
//!   (and the same plus parsing `redirectUrl`, which a hook must do too) vs
//!   the bare HMAC-SHA256 of the token's signing input, for small, typical
//!   and maximal tokens;
//! - `complete`: signing and building the redirect vs `jsonwebtoken::encode`
//!   alone on the same payload;
//! - `refuse/*`: how cheap a refusal is (forged signature, malformed token,
//!   no token), since refusals are what an attacker can send in bulk.
//!
//! `cargo bench -p hook-layer`; `cargo bench -p hook-layer -- --test` runs
//! each once. Results and their reading are in BENCHMARKS.md.

use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group};
use hmac::{Hmac, KeyInit, Mac};
use hook_layer::testing::MockIssuer;
use hook_layer::{HookSecret, HookSession, InteractionHook, InteractionHookLayer};
use http::{Request, Response};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::Sha256;
use tower::{Layer, Service, service_fn};

#[path = "../tests/support/app_provider.rs"]
mod app_provider;
mod support;

use support::{Incoming, KEY, claims_of};

// Real time throughout, so that jsonwebtoken's `exp` check (which reads the
// system clock) runs just as the layer's does. Tokens live 20 minutes.
fn layer() -> InteractionHookLayer {
    InteractionHookLayer::new(HookSecret::from_bytes(KEY).unwrap())
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL)
}

fn issuer() -> MockIssuer {
    MockIssuer::new(HookSecret::from_bytes(KEY).unwrap())
}

/// Tokens with about 200 B and 1 KB of claims, and the largest that fits
/// the default 4096-byte cap.
fn tokens() -> Vec<(&'static str, String)> {
    let mut maximal = String::new();
    for bytes in (2000..3200).step_by(8) {
        let token = issuer().session().claims(claims_of(bytes)).token();
        if token.len() > 4096 {
            break;
        }
        maximal = token;
    }
    let tokens = vec![
        ("small", issuer().session().claims(claims_of(200)).token()),
        (
            "typical",
            issuer().session().claims(claims_of(1000)).token(),
        ),
        ("maximal", maximal),
    ];
    for (size, token) in &tokens {
        eprintln!("{size} token: {} bytes", token.len());
    }
    tokens
}

/// The inner service: answers at once, does nothing.
type Handler = fn(Request<()>) -> Ready<Result<Response<String>, Infallible>>;
type NoOp = InteractionHook<
    tower::util::ServiceFn<Handler>,
    Map<String, Value>,
    hook_layer::DefaultOnRejection,
>;

fn service() -> NoOp {
    let inner: Handler = |_| ready(Ok(Response::new(String::new())));
    layer().layer(service_fn(inner))
}

/// One request through the service, polled once: every future here is
/// ready at once, so no executor is involved.
fn run(service: &mut NoOp, request: Request<()>) -> Response<String> {
    let mut context = Context::from_waker(Waker::noop());
    assert!(service.poll_ready(&mut context).is_ready());
    match pin!(service.call(request)).poll(&mut context) {
        Poll::Ready(Ok(response)) => response,
        Poll::Ready(Err(never)) => match never {},
        Poll::Pending => unreachable!("the no-op service is always ready"),
    }
}

fn jsonwebtoken_validation() -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[MockIssuer::TENANT]);
    validation.set_audience(&[MockIssuer::HOOK_URL]);
    validation.leeway = 30;
    validation
}

fn verify(c: &mut Criterion) {
    let decoding_key = DecodingKey::from_secret(KEY).unwrap();
    let validation = jsonwebtoken_validation();
    let hmac = <Hmac<Sha256> as KeyInit>::new_from_slice(KEY).unwrap();
    for (size, token) in tokens() {
        let mut group = c.benchmark_group(format!("verify/{size}"));
        let uri: http::Uri = format!("/interaction?session_token={token}")
            .parse()
            .unwrap();
        let mut service = service();
        assert_eq!(
            run(&mut service, Request::get(uri.clone()).body(()).unwrap()).status(),
            200
        );
        group.bench_function("layer", |b| {
            b.iter_batched(
                || Request::get(uri.clone()).body(()).unwrap(),
                |request| run(&mut service, request),
                BatchSize::SmallInput,
            )
        });
        let decoded = jsonwebtoken::decode::<Incoming>(&token, &decoding_key, &validation);
        assert!(decoded.is_ok(), "{:?}", decoded.err());
        group.bench_function("jsonwebtoken_decode", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Incoming>(black_box(&token), &decoding_key, &validation)
            })
        });
        // A hook must also read `redirectUrl` as a URL to send the browser
        // there, which `decode` alone does not: this is the whole job.
        group.bench_function("jsonwebtoken_decode_and_url", |b| {
            b.iter(|| {
                let data =
                    jsonwebtoken::decode::<Incoming>(black_box(&token), &decoding_key, &validation)
                        .unwrap();
                let url = url::Url::parse(&data.claims.redirect_url).unwrap();
                (data, url)
            })
        });
        let signing_input = token.rsplit_once('.').unwrap().0.as_bytes();
        group.bench_function("hmac_sha256", |b| {
            b.iter(|| {
                let mut mac = hmac.clone();
                mac.update(black_box(signing_input));
                mac.finalize().into_bytes()
            })
        });
        group.finish();
    }
}

#[derive(Serialize)]
struct Outgoing<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
    state: &'a str,
    claims: &'a Map<String, Value>,
    #[serde(rename = "claimsToPersist")]
    claims_to_persist: [&'a str; 1],
}

fn complete(c: &mut Criterion) {
    let session: HookSession = layer()
        .verify_token(&issuer().session().claims(claims_of(200)).token())
        .unwrap();
    let returned =
        json!({ "preferredName": "Ada", "dateOfBirth": "1990-04-21", "termsAccepted": true });
    let Value::Object(returned) = returned else {
        unreachable!()
    };
    let encoding_key = EncodingKey::from_secret(KEY).unwrap();
    let payload = Outgoing {
        iss: session.audience(),
        aud: session.issuer(),
        iat: jsonwebtoken::get_current_timestamp(),
        exp: jsonwebtoken::get_current_timestamp() + 60,
        state: session.state(),
        claims: &returned,
        claims_to_persist: ["preferredName"],
    };
    let mut group = c.benchmark_group("complete");
    group.bench_function("layer", |b| {
        b.iter(|| {
            session
                .complete()
                .claim("preferredName", "Ada")
                .unwrap()
                .claim("dateOfBirth", "1990-04-21")
                .unwrap()
                .claim("termsAccepted", true)
                .unwrap()
                .persist(["preferredName"])
                .redirect()
                .unwrap()
        })
    });
    group.bench_function("jsonwebtoken_encode", |b| {
        b.iter(|| {
            jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                black_box(&payload),
                &encoding_key,
            )
            .unwrap()
        })
    });
    group.finish();
}

fn refuse(c: &mut Criterion) {
    let other = HookSecret::from_bytes(&[1; 32]).unwrap();
    let forged = issuer()
        .session()
        .claims(claims_of(1000))
        .signed_with(&other)
        .token();
    let cases = [
        (
            "bad_signature",
            format!("/interaction?session_token={forged}"),
            401,
        ),
        (
            "malformed",
            "/interaction?session_token=not.a-token".to_owned(),
            401,
        ),
        ("missing", "/interaction?lang=en".to_owned(), 401),
    ];
    let mut group = c.benchmark_group("refuse");
    for (name, target, status) in cases {
        let uri: http::Uri = target.parse().unwrap();
        let mut service = service();
        assert_eq!(
            run(&mut service, Request::get(uri.clone()).body(()).unwrap()).status(),
            status
        );
        group.bench_function(name, |b| {
            b.iter_batched(
                || Request::get(uri.clone()).body(()).unwrap(),
                |request| run(&mut service, request),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = verify, complete, refuse
}

fn main() {
    // jsonwebtoken's `encode`/`decode`, the comparisons, need a provider;
    // hook-layer installs none.
    app_provider::PROVIDER
        .install_default()
        .expect("no provider installed before");
    benches();
    Criterion::default().configure_from_args().final_summary();
}
