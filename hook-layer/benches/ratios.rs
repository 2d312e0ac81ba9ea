//! Ratios that survive a noisy machine: candidates run round-robin in one
//! process, each round timing a batch of every candidate in turn, so that
//! whatever the neighbours do falls on all of them alike. Each line shows
//! the median time per call over the rounds and, for a ratio, the median of
//! the per-round ratios with their spread (the middle half of the rounds,
//! 25th to 75th percentile: a neighbour's burst moves single rounds, not
//! that).
//!
//! Groups:
//! - `verify/<size>`: `verify_token` against the HMAC floor (HMAC-SHA256 of
//!   the signing input with a precomputed key state) and against
//!   `jsonwebtoken::decode` with the same checks; and `verify_token` on
//!   tokens that each name another `redirectUrl` (of the same length), so
//!   that the parse of the last one is never reused;
//! - `keyring`: one secret, two secrets (the token matching the first or
//!   the second), a 50-tenant layer, and an unknown issuer refused by it.
//!
//! `cargo bench -p hook-layer --bench ratios` (add `-- --test` for one quick
//! round of each, as CI does). Results are in BENCHMARKS.md.

#[path = "../tests/support/app_provider.rs"]
mod app_provider;
mod support;

use support::rounds::{BATCH, Candidate, candidate, format_ns, measure, spread};
use support::{Incoming, KEY, claims_of};

use std::hint::black_box;

use hmac::{Hmac, KeyInit, Mac};
use hook_layer::testing::MockIssuer;
use hook_layer::{HookSecret, HookSession, InteractionHookLayer, Tenant};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::Sha256;

/// Runs the candidates round-robin and prints medians and ratios against
/// the candidate at `baseline`.
fn compare(group: &str, candidates: &mut [Candidate<'_>], baseline: usize, rounds: usize) {
    let times = measure(candidates, rounds);
    println!("\n{group} ({rounds} rounds of {BATCH} calls each, interleaved)");
    println!(
        "| candidate | median | / {} (median; middle half of rounds) |",
        candidates[baseline].name
    );
    println!("|---|---|---|");
    for (index, candidate) in candidates.iter().enumerate() {
        let ratios = times[index]
            .iter()
            .zip(&times[baseline])
            .map(|(time, base)| time / base)
            .collect();
        let (ratio, low, high) = spread(ratios);
        let (time, _, _) = spread(times[index].clone());
        println!(
            "| {} | {} | {ratio:.2} ({low:.2}-{high:.2}) |",
            candidate.name,
            format_ns(time)
        );
    }
}

fn secret(key: &[u8]) -> HookSecret {
    HookSecret::from_bytes(key).unwrap()
}

fn verify_groups(rounds: usize) {
    let layer = InteractionHookLayer::new(secret(KEY))
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL);
    let issuer = MockIssuer::new(secret(KEY));
    let decoding_key = DecodingKey::from_secret(KEY).unwrap();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[MockIssuer::TENANT]);
    validation.set_audience(&[MockIssuer::HOOK_URL]);
    validation.leeway = 30;
    let keyed = <Hmac<Sha256> as KeyInit>::new_from_slice(KEY).unwrap();
    for (size, claims) in [("small", 200), ("typical", 1000), ("large", 2650)] {
        let token = issuer.session().claims(claims_of(claims)).token();
        let signing_input = token.rsplit_once('.').unwrap().0.as_bytes().to_vec();
        let check: Result<HookSession, _> = layer.verify_token(&token);
        assert!(check.is_ok());
        let new_url_tokens: Vec<String> = (0..64)
            .map(|i| {
                let url = format!(
                    "https://tenant.vii.au01.mattr.global/core/v1/openid/interaction-hook/call{i:04}"
                );
                assert_eq!(url.len(), MockIssuer::REDIRECT_URL.len());
                issuer.session().redirect_url(url).claims(claims_of(claims)).token()
            })
            .collect();
        let mut next = new_url_tokens.iter().cycle();
        let mut candidates = [
            candidate("hmac floor", || {
                let mut mac = keyed.clone();
                mac.update(black_box(&signing_input));
                black_box(mac.finalize().into_bytes());
            }),
            candidate("layer verify_token", || {
                let session: Result<HookSession, _> = layer.verify_token(black_box(&token));
                black_box(session.unwrap());
            }),
            candidate("layer verify_token, a new redirectUrl each call", || {
                let token = next.next().unwrap();
                let session: Result<HookSession, _> = layer.verify_token(black_box(token));
                black_box(session.unwrap());
            }),
            candidate("jsonwebtoken decode", || {
                let decoded =
                    jsonwebtoken::decode::<Incoming>(black_box(&token), &decoding_key, &validation);
                black_box(decoded.unwrap());
            }),
        ];
        compare(
            &format!("verify/{size} ({} B token)", token.len()),
            &mut candidates,
            0,
            rounds,
        );
    }
}

fn keyring_group(rounds: usize) {
    let (current, previous) = (secret(KEY), secret(&[0x42; 32]));
    let one = InteractionHookLayer::new(current.clone())
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL);
    let two = one.clone().previous_secret(previous.clone());
    let tenant_url = |i: usize| format!("https://tenant-{i}.vii.au01.mattr.global");
    let fifty = InteractionHookLayer::with_tenants((0..50).map(|i| {
        let key = if i == 25 {
            current.clone()
        } else {
            secret(&[i as u8; 32])
        };
        Tenant::new(tenant_url(i), key).audience(MockIssuer::HOOK_URL)
    }))
    .unwrap();
    let token = |key: &HookSecret, tenant: &str| {
        MockIssuer::new(key.clone())
            .tenant(tenant)
            .session()
            .claims(claims_of(1000))
            .token()
    };
    let current_token = token(&current, MockIssuer::TENANT);
    let previous_token = token(&previous, MockIssuer::TENANT);
    let tenant_25 = token(&current, &tenant_url(25));
    let unknown = token(&current, "https://stranger.vii.au01.mattr.global");
    let accept = |layer: &InteractionHookLayer, token: &str| {
        let session: Result<HookSession, _> = layer.verify_token(black_box(token));
        black_box(session.unwrap());
    };
    let mut candidates = [
        candidate("one secret", || accept(&one, &current_token)),
        candidate("two secrets, the first matches", || {
            accept(&two, &current_token)
        }),
        candidate("two secrets, the second matches", || {
            accept(&two, &previous_token)
        }),
        candidate("50 tenants", || accept(&fifty, &tenant_25)),
        candidate("50 tenants, unknown issuer (refused)", || {
            let refused: Result<HookSession, _> = fifty.verify_token(black_box(&unknown));
            black_box(refused.unwrap_err());
        }),
    ];
    compare("keyring (1765 B token)", &mut candidates, 0, rounds);
}

fn main() {
    app_provider::PROVIDER
        .install_default()
        .expect("no provider installed before");
    let rounds = if std::env::args().any(|arg| arg == "--test") {
        3
    } else {
        101
    };
    verify_groups(rounds);
    keyring_group(rounds);
}
