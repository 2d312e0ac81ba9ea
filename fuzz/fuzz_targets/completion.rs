//! Arbitrary state, redirect URL and claims through completion. Nothing may
//! panic, the URL limit always holds, and every completion reads back
//! through `MockIssuer` to the same state and claims.
#![no_main]

use std::sync::LazyLock;

use arbitrary::Arbitrary;
use hook_layer::testing::Outcome;
use hook_layer::{CompletionError, HookSession, InteractionHookLayer};
use hook_layer_fuzz::{issuer, layer};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

static LAYER: LazyLock<InteractionHookLayer> = LazyLock::new(layer);

/// The limit the layer enforces by default.
const MAX_URL: usize = 2000;

#[derive(Debug, Arbitrary)]
enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

#[derive(Debug, Arbitrary)]
enum Claim {
    Scalar(Scalar),
    List(Vec<Scalar>),
    Object(Vec<(String, Scalar)>),
}

#[derive(Debug, Arbitrary)]
struct Input {
    state: String,
    redirect_path: String,
    redirect_query: Option<String>,
    claims: Vec<(String, Claim)>,
    persist: Vec<u8>,
    failure: Option<String>,
}

fn scalar(value: Scalar) -> Value {
    match value {
        Scalar::Null => Value::Null,
        Scalar::Bool(b) => Value::Bool(b),
        Scalar::Int(i) => Value::from(i),
        // serde_json writes non-finite floats as null; so does the oracle.
        Scalar::Float(f) => serde_json::to_value(f).unwrap_or(Value::Null),
        Scalar::Text(text) => Value::String(text),
    }
}

fn claim(value: Claim) -> Value {
    match value {
        Claim::Scalar(value) => scalar(value),
        Claim::List(values) => values.into_iter().map(scalar).collect(),
        Claim::Object(fields) => {
            Value::Object(fields.into_iter().map(|(k, v)| (k, scalar(v))).collect())
        }
    }
}

fuzz_target!(|input: Input| {
    let mut redirect = format!(
        "https://tenant.vii.au01.mattr.global/{}",
        input.redirect_path
    );
    if let Some(query) = &input.redirect_query {
        redirect.push('?');
        redirect.push_str(query);
    }
    let issuer = issuer().redirect_url(redirect.clone());
    let token = issuer
        .session()
        .state(input.state.clone())
        .redirect_url(redirect)
        .token();
    let Ok(session) = LAYER.verify_token(&token) else {
        return;
    };
    let session: HookSession = session;

    let result = match input.failure {
        Some(message) => session
            .fail(message.clone())
            .redirect()
            .map(|r| (r, Outcome::Failed { message })),
        None => {
            let mut expected = Map::new();
            let mut completion = session.complete();
            for (name, value) in input.claims {
                let value = claim(value);
                expected.insert(name.clone(), value.clone());
                completion = completion
                    .claim(name, value)
                    .expect("JSON values always serialize");
            }
            let names: Vec<String> = expected.keys().cloned().collect();
            let persist: Vec<String> = input
                .persist
                .iter()
                .filter_map(|&i| names.get(usize::from(i) % names.len().max(1)).cloned())
                .fold(Vec::new(), |mut unique, name| {
                    if !unique.contains(&name) {
                        unique.push(name);
                    }
                    unique
                });
            let completion = completion.persist(persist.clone());
            completion.redirect().map(|r| {
                (
                    r,
                    Outcome::Completed {
                        claims: expected,
                        claims_to_persist: persist,
                    },
                )
            })
        }
    };
    match result {
        Ok((redirect, expected)) => {
            assert!(
                redirect.url().len() <= MAX_URL,
                "URL of {} characters",
                redirect.url().len()
            );
            let read = issuer
                .read_redirect(redirect.url())
                .expect("MockIssuer reads every completion");
            assert_eq!(read.state, input.state);
            assert_eq!(read.outcome, expected);
        }
        Err(CompletionError::UrlTooLong { len, max }) => assert!(len > max && max == MAX_URL),
        Err(other) => panic!("unexpected completion error: {other}"),
    }
});
