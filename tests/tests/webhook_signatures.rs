//! The webhook verifier and signer cross-checked against MATTR's own
//! library, `@mattrglobal/http-signatures` (as `npm ci --prefix
//! tests/http-signatures` installs it), run with node through
//! `tests/http-signatures/crosscheck.js`:
//!
//! - requests the library signs, with its default components and with
//!   other component sets, are accepted by `WebhookVerifier`;
//! - requests `testing::WebhookSigner` signs are accepted by the library's
//!   `verifyRequest` (the body given under its option name `body`, and the
//!   result read), and a changed body is refused by it;
//! - the RFC 9421 appendix B.2.6 Ed25519 example verifies with the
//!   library too.
//!
//! Without node or the library (as found when the tests are built) these
//! tests are `ignored`; `HOOK_REQUIRE_NODE=1` (as `.ci/run` sets) makes
//! that a failure.

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hook_layer::testing::{SignOptions, WebhookSigner};
use hook_layer::webhooks::{WebhookRejection, WebhookVerifier};
use serde_json::{Value, json};

const URL: &str = "https://hook.example.com/webhooks/mattr";
const WEBHOOK: &str = "webhook-1";
const SEED: [u8; 32] = [7; 32];
const KID: &str = "mattr-test-key";

const NODE: &str = match option_env!("HOOK_TESTS_NODE") {
    Some(path) => path,
    None => "node",
};
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/http-signatures/crosscheck.js");

/// The tests below are ignored when node or the library is missing; with
/// `HOOK_REQUIRE_NODE=1` that fails here instead of passing unseen.
#[test]
fn mattrs_library_is_installed_where_required() {
    let required = std::env::var("HOOK_REQUIRE_NODE").is_ok_and(|value| value == "1");
    assert!(
        cfg!(mattr_signatures_installed) || !required,
        "HOOK_REQUIRE_NODE=1, but node or @mattrglobal/http-signatures was not installed when the \
         tests were built: `npm ci --prefix tests/http-signatures`"
    );
}

fn signer() -> WebhookSigner {
    WebhookSigner::from_seed(KID, SEED)
}

/// The same key as a private JWK, for the library to sign with.
fn private_jwk() -> Value {
    let mut jwk = signer().public_jwk();
    jwk["d"] = json!(URL_SAFE_NO_PAD.encode(SEED));
    jwk
}

fn verifier() -> WebhookVerifier {
    WebhookVerifier::new(WEBHOOK, signer().keys())
}

fn body(event: &str) -> String {
    String::from_utf8(WebhookSigner::delivery(
        WEBHOOK,
        event,
        "OpenIdCredentialIssued",
        json!({"userId": "u-1", "claims": {"given_name": "Ana"}}),
    ))
    .unwrap()
}

/// Runs the jobs through MATTR's library; one result per job.
fn library(jobs: &[Value]) -> Vec<Value> {
    let mut child = Command::new(NODE)
        .arg(SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::from(jobs.to_vec()).to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "crosscheck.js failed");
    let results: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(results.len(), jobs.len());
    results
}

/// The request the library's signature goes on, as the hook receives it.
fn received(
    url: &str,
    headers: &[(&str, &str)],
    signed: &Value,
    body: &str,
) -> http::Request<Vec<u8>> {
    assert_eq!(signed["ok"], true, "the library signed: {signed}");
    let mut request = http::Request::post(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
        .header("content-digest", signed["digest"].as_str().unwrap())
        .header(
            "signature-input",
            signed["signatureInput"].as_str().unwrap(),
        )
        .header("signature", signed["signature"].as_str().unwrap())
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn verify(
    verifier: &WebhookVerifier,
    request: &http::Request<Vec<u8>>,
) -> Result<String, WebhookRejection> {
    verifier
        .verify(
            request.method(),
            request.uri(),
            request.headers(),
            request.body(),
        )
        .map(|delivery| delivery.event.id)
}

#[test]
#[cfg_attr(
    not(mattr_signatures_installed),
    ignore = "node or @mattrglobal/http-signatures is not installed"
)]
fn what_mattrs_library_signs_is_accepted() {
    let headers = [
        ("content-type", "application/json"),
        ("x-mattr-webhook-id", WEBHOOK),
    ];
    let header_map = json!({"Content-Type": "application/json", "X-Mattr-Webhook-Id": WEBHOOK});
    let query_url = format!("{URL}?tenant=a");
    // (url, components: None for the library's default, extra options)
    let cases: Vec<(&str, Option<Vec<&str>>, Value)> = vec![
        (URL, None, json!({})),
        (
            URL,
            Some(vec!["@method", "@authority", "@path", "content-digest"]),
            json!({}),
        ),
        (
            URL,
            Some(vec![
                "@target-uri",
                "@method",
                "content-digest",
                "x-mattr-webhook-id",
            ]),
            json!({}),
        ),
        (
            &query_url,
            Some(vec![
                "@request-target",
                "@query",
                "@method",
                "content-digest",
                "content-type",
            ]),
            json!({}),
        ),
        (
            URL,
            None,
            json!({"alg": "ed25519", "nonce": "n-1", "expires": 4_102_444_800u64}),
        ),
    ];
    let jobs: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(i, (url, components, extra))| {
            let mut job = json!({
                "op": "sign", "url": url, "method": "POST", "headers": header_map,
                "body": body(&format!("event-{i}")), "jwk": private_jwk(),
            });
            if let Some(components) = components {
                job["components"] = json!(components);
            }
            job.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            job
        })
        .collect();
    for (i, (signed, (url, components, _))) in library(&jobs).iter().zip(&cases).enumerate() {
        let body = body(&format!("event-{i}"));
        let request = received(url, &headers, signed, &body);
        assert_eq!(
            verify(&verifier(), &request),
            Ok(format!("event-{i}")),
            "{components:?}: {signed}"
        );

        // The same request with its body changed is refused.
        let mut changed = request;
        changed.body_mut().push(b' ');
        assert_eq!(
            verify(&verifier(), &changed),
            Err(WebhookRejection::DigestMismatch)
        );
    }
}

#[test]
#[cfg_attr(
    not(mattr_signatures_installed),
    ignore = "node or @mattrglobal/http-signatures is not installed"
)]
fn refusals_of_what_mattrs_library_signs() {
    let header_map = json!({"Content-Type": "application/json"});
    let sign = |components: Value, url: &str| {
        json!({"op": "sign", "url": url, "method": "POST", "headers": header_map,
               "body": body("event-1"), "jwk": private_jwk(), "components": components})
    };
    let results = library(&[
        sign(
            json!([
                "@request-target",
                "@method",
                "content-digest",
                "content-type"
            ]),
            URL,
        ),
        sign(
            json!(["@request-target", "@method", "content-digest", "x-absent"]),
            URL,
        ),
        sign(json!(["@scheme", "@method", "content-digest"]), URL),
        sign(json!(["@request-target", "@method"]), URL),
    ]);
    let body = body("event-1");
    let plain = [("content-type", "application/json")];

    // A covered header changed, then missing.
    let mut changed = received(URL, &plain, &results[0], &body);
    changed
        .headers_mut()
        .insert("content-type", "text/plain".parse().unwrap());
    assert_eq!(
        verify(&verifier(), &changed),
        Err(WebhookRejection::BadSignature)
    );
    let mut missing = received(URL, &plain, &results[0], &body);
    missing.headers_mut().remove("content-type");
    assert_eq!(
        verify(&verifier(), &missing),
        Err(WebhookRejection::MissingComponent)
    );
    // The library signs an absent header as the text "undefined"; refused.
    let undefined = received(URL, &plain, &results[1], &body);
    assert_eq!(
        verify(&verifier(), &undefined),
        Err(WebhookRejection::MissingComponent)
    );
    // It signs @scheme as "https:", where RFC 9421 has "https"; refused.
    let scheme = received(URL, &plain, &results[2], &body);
    assert_eq!(
        verify(&verifier(), &scheme),
        Err(WebhookRejection::UnsupportedComponent)
    );
    // Without a body's digest among the components, the body is not signed.
    let uncovered = received(URL, &plain, &results[3], &body);
    assert_eq!(
        verify(&verifier(), &uncovered),
        Err(WebhookRejection::DigestNotCovered)
    );
    // Another tenant's keys: unknown key.
    let other = WebhookVerifier::new(
        WEBHOOK,
        WebhookSigner::from_seed("other-tenant", [9; 32]).keys(),
    );
    let request = received(URL, &plain, &results[0], &body);
    assert_eq!(verify(&other, &request), Err(WebhookRejection::UnknownKey));
    // Another webhook of the same tenant.
    let elsewhere = WebhookVerifier::new("webhook-2", signer().keys());
    assert_eq!(
        verify(&elsewhere, &request),
        Err(WebhookRejection::WrongWebhook)
    );
}

/// A request signed by `WebhookSigner`, as a job for the library to verify.
fn verify_job(request: &http::Request<Vec<u8>>, url: &str, body: &str) -> Value {
    let headers: serde_json::Map<String, Value> = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), json!(value.to_str().unwrap())))
        .collect();
    json!({"op": "verify", "url": url, "method": "POST", "headers": headers, "body": body,
           "jwk": signer().public_jwk()})
}

#[test]
#[cfg_attr(
    not(mattr_signatures_installed),
    ignore = "node or @mattrglobal/http-signatures is not installed"
)]
fn what_the_testing_signer_signs_is_accepted_by_mattrs_library() {
    let body = body("event-1");
    let request = || {
        http::Request::post(URL)
            .header("content-type", "application/json")
            .header("x-mattr-webhook-id", WEBHOOK)
            .body(body.clone().into_bytes())
            .unwrap()
    };
    let signed = [
        signer().sign(request()),
        signer().sign_with(
            request(),
            &SignOptions::default().components(&[
                "@method",
                "@authority",
                "@path",
                "content-digest",
                "content-type",
            ]),
        ),
        signer().sign_with(
            request(),
            &SignOptions::default()
                .components(&["@target-uri", "content-digest", "x-mattr-webhook-id"])
                .with_alg()
                .expires(4_102_444_800),
        ),
    ];
    let mut jobs: Vec<Value> = signed.iter().map(|r| verify_job(r, URL, &body)).collect();
    // The library must refuse what it should: a changed body, another key.
    jobs.push(verify_job(&signed[0], URL, &format!("{body} ")));
    let mut other_key = verify_job(&signed[0], URL, &body);
    other_key["jwk"] = WebhookSigner::from_seed(KID, [9; 32]).public_jwk();
    jobs.push(other_key);

    let results = library(&jobs);
    for (i, result) in results[..3].iter().enumerate() {
        assert_eq!(result["ok"], true, "{i}: {result}");
        assert_eq!(result["verified"], true, "{i}: {result}");
        // And the Rust verifier agrees.
        assert_eq!(verify(&verifier(), &signed[i]), Ok("event-1".to_owned()));
    }
    assert_eq!(results[3]["verified"], false, "{}", results[3]);
    assert_eq!(results[3]["reason"], "ContentDigestMismatch");
    assert_eq!(results[4]["verified"], false, "{}", results[4]);
    assert_eq!(results[4]["reason"], "FailedToVerify");
}

/// RFC 9421 appendix B.2.6 (Ed25519 over the B.2 example request, key
/// B.1.4): MATTR's library verifies it, as the Rust unit test
/// `rfc_9421_b_2_6_verifies` does, so for Ed25519 its draft and the RFC
/// give the same signature base.
#[test]
#[cfg_attr(
    not(mattr_signatures_installed),
    ignore = "node or @mattrglobal/http-signatures is not installed"
)]
fn rfc_9421_b_2_6_verifies_with_mattrs_library() {
    let job = json!({
        "op": "verify",
        "url": "https://example.com/foo?param=Value&Pet=dog",
        "method": "POST",
        "headers": {
            "date": "Tue, 20 Apr 2021 02:07:55 GMT",
            "content-type": "application/json",
            "content-digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
            "content-length": "18",
            "signature-input": "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"",
            "signature": "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:",
        },
        "body": "{\"hello\": \"world\"}",
        "jwk": {"kty": "OKP", "crv": "Ed25519", "kid": "test-key-ed25519",
                "x": "JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs"},
    });
    let mut tampered = job.clone();
    tampered["headers"]["date"] = json!("Tue, 20 Apr 2021 02:07:56 GMT");
    let results = library(&[job, tampered]);
    assert_eq!(results[0]["verified"], true, "{}", results[0]);
    assert_eq!(results[1]["verified"], false, "{}", results[1]);
}
