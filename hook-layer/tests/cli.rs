//! `mattr-hook`, the built command: `check --response` judges responses as
//! MATTR VII does (`MockIssuer`, the issuer command's callback), `mint`
//! makes tokens the layer accepts, and bad input gets a clear message and
//! exit status 2, never a panic.

use std::process::{Command, Output};
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hook_layer::testing::{MAX_CALLBACK_URL_LEN, MockIssuer};
use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
use serde_json::json;

const KEY: &[u8; 32] = b"mattr-hook command tests key: 32";
const NOW: u64 = 1_764_422_400;

fn secret() -> HookSecret {
    HookSecret::from_bytes(KEY).unwrap()
}

fn issuer() -> MockIssuer {
    MockIssuer::new(secret()).clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
}

fn layer() -> InteractionHookLayer {
    InteractionHookLayer::new(secret())
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL)
        .clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
}

fn run(args: &[&str], secret: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mattr-hook"));
    command.args(args).env_remove("HOOK_SECRET");
    if let Some(secret) = secret {
        command.env("HOOK_SECRET", secret);
    }
    command.output().unwrap()
}

fn key_base64() -> String {
    STANDARD.encode(KEY)
}

/// `check --response` as at `NOW`.
fn check_response(input: &str) -> Output {
    let now = NOW.to_string();
    run(
        &[
            "check",
            "--response",
            input,
            "--at",
            &now,
            "--issuer",
            MockIssuer::TENANT,
            "--hook-url",
            MockIssuer::HOOK_URL,
        ],
        Some(&key_base64()),
    )
}

fn session(redirect_url: &str) -> HookSession {
    let token = issuer().session().redirect_url(redirect_url).token();
    layer().verify_token(&token).unwrap()
}

/// Signs a response payload as a hook would, with `secret`.
fn signed(secret: &HookSecret, payload: serde_json::Value) -> String {
    MockIssuer::new(secret.clone()).sign_raw(
        br#"{"alg":"HS256","typ":"JWT"}"#,
        &serde_json::to_vec(&payload).unwrap(),
    )
}

fn response_payload(change: impl FnOnce(&mut serde_json::Value)) -> serde_json::Value {
    let mut payload = json!({
        "iss": MockIssuer::HOOK_URL,
        "aud": MockIssuer::TENANT,
        "iat": NOW,
        "exp": NOW + 60,
        "state": "s-1",
        "claims": { "preferredName": "Ada" },
    });
    change(&mut payload);
    payload
}

#[test]
fn check_response_agrees_with_mattr_viis_reading_on_every_case() {
    let redirect = MockIssuer::REDIRECT_URL;
    let with_query = format!("{redirect}?tenant=a&lang=en");
    let other = HookSecret::from_bytes(&[0x5a; 32]).unwrap();
    let mut urls: Vec<(&str, String)> = vec![
        (
            "a completion",
            session(redirect)
                .complete()
                .claim("preferredName", "Ada")
                .unwrap()
                .redirect()
                .unwrap()
                .url()
                .to_owned(),
        ),
        (
            "a completion persisting a claim",
            session(redirect)
                .complete()
                .claim("preferredName", "Ada")
                .unwrap()
                .persist(["preferredName"])
                .redirect()
                .unwrap()
                .url()
                .to_owned(),
        ),
        (
            "an empty completion",
            session(redirect)
                .complete()
                .redirect()
                .unwrap()
                .url()
                .to_owned(),
        ),
        (
            "a failure",
            session(redirect)
                .fail("Insufficient identity assurance level")
                .redirect()
                .unwrap()
                .url()
                .to_owned(),
        ),
        (
            "a redirectUrl with a query of its own",
            session(&with_query)
                .complete()
                .redirect()
                .unwrap()
                .url()
                .to_owned(),
        ),
    ];
    let tokens: Vec<(&str, String)> = vec![
        (
            "valid, by hand",
            signed(&secret(), response_payload(|_| {})),
        ),
        (
            "claimsToPersist as MATTR's sample sends it",
            signed(
                &secret(),
                response_payload(|p| p["claimsToPersist"] = json!([])),
            ),
        ),
        ("another secret", signed(&other, response_payload(|_| {}))),
        (
            "iss and aud not swapped",
            signed(
                &secret(),
                response_payload(|p| {
                    p["iss"] = json!(MockIssuer::TENANT);
                    p["aud"] = json!(MockIssuer::HOOK_URL);
                }),
            ),
        ),
        (
            "expired",
            signed(&secret(), response_payload(|p| p["exp"] = json!(NOW - 1))),
        ),
        (
            "both claims and error",
            signed(
                &secret(),
                response_payload(|p| p["error"] = json!({ "message": "no" })),
            ),
        ),
        (
            "neither claims nor error",
            signed(
                &secret(),
                response_payload(|p| {
                    p.as_object_mut().unwrap().remove("claims");
                }),
            ),
        ),
        (
            "an empty state",
            signed(&secret(), response_payload(|p| p["state"] = json!(""))),
        ),
        (
            "no state",
            signed(
                &secret(),
                response_payload(|p| {
                    p.as_object_mut().unwrap().remove("state");
                }),
            ),
        ),
        (
            "HS512",
            MockIssuer::new(secret()).sign_raw(
                br#"{"alg":"HS512"}"#,
                &serde_json::to_vec(&response_payload(|_| {})).unwrap(),
            ),
        ),
        ("not a token", "not.a.token".to_owned()),
    ];
    for (name, token) in &tokens {
        urls.push((name, format!("{redirect}?session_token={token}")));
    }
    urls.push(("no session_token", redirect.to_owned()));
    urls.push((
        "over 2000 characters",
        format!(
            "{redirect}?pad={}&session_token={}",
            "x".repeat(2000),
            tokens[0].1
        ),
    ));

    let inputs = urls
        .iter()
        .map(|(name, url)| (*name, url.clone(), true))
        .chain(
            tokens
                .iter()
                .map(|(name, token)| (*name, token.clone(), false)),
        );
    for (name, input, is_url) in inputs {
        // MATTR VII's reading: the URL limit, then `MockIssuer`'s checks.
        let read = if is_url {
            issuer().read_redirect(&input)
        } else {
            issuer().read_token(&input)
        };
        let expected = match read {
            _ if is_url && input.len() > MAX_CALLBACK_URL_LEN => Err("url_length"),
            Ok(_) => Ok(()),
            Err(error) => Err(error.check()),
        };
        let output = check_response(&input);
        let stdout = String::from_utf8(output.stdout).unwrap();
        let last = stdout.lines().last().unwrap_or_default();
        match expected {
            Ok(()) => {
                assert_eq!(output.status.code(), Some(0), "{name}: {stdout}");
                assert!(last.starts_with("verdict: valid"), "{name}: {last}");
            }
            Err(check) => {
                assert_eq!(output.status.code(), Some(1), "{name}: {stdout}");
                let expected = format!("verdict: rejected: {check}: ");
                assert!(last.starts_with(&expected), "{name}: {last}");
            }
        }
    }
}

#[test]
fn minted_tokens_are_accepted_by_the_layer_with_their_claims() {
    let output = run(
        &[
            "mint",
            "--claim",
            "given_name=Ada",
            "--claim",
            "age=42",
            "--lifetime",
            "60",
        ],
        Some(&key_base64()),
    );
    assert_eq!(output.status.code(), Some(0));
    let token = String::from_utf8(output.stdout).unwrap();
    let layer = InteractionHookLayer::new(secret())
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL);
    let session: HookSession = layer.verify_token(token.trim()).unwrap();
    assert_eq!(session.claims()["given_name"], json!("Ada"));
    assert_eq!(session.claims()["age"], json!(42));
    let lifetime = session
        .expires_at()
        .unwrap()
        .duration_since(session.issued_at().unwrap())
        .unwrap();
    assert_eq!(lifetime, Duration::from_secs(60));
}

#[test]
fn a_claims_file_is_read_and_claim_flags_win() {
    let path = std::env::temp_dir().join(format!("mattr-hook-claims-{}.json", std::process::id()));
    std::fs::write(
        &path,
        r#"{"email": "ada@example.com", "given_name": "Grace"}"#,
    )
    .unwrap();
    let file = path.display().to_string();
    let output = run(
        &["mint", "--claims-file", &file, "--claim", "given_name=Ada"],
        Some(&key_base64()),
    );
    let _ = std::fs::remove_file(&path);
    assert_eq!(output.status.code(), Some(0));
    let token = String::from_utf8(output.stdout).unwrap();
    let session: HookSession = InteractionHookLayer::new(secret())
        .verify_token(token.trim())
        .unwrap();
    assert_eq!(session.claims()["email"], json!("ada@example.com"));
    assert_eq!(session.claims()["given_name"], json!("Ada"));
}

#[test]
fn a_rotation_list_mints_with_the_first_and_checks_with_all() {
    let previous = STANDARD.encode([0x42; 32]);
    let rotation = format!("{},{previous}", key_base64());
    let minted = run(&["mint"], Some(&previous));
    let token = String::from_utf8(minted.stdout).unwrap();
    let checked = run(
        &[
            "check",
            token.trim(),
            "--issuer",
            MockIssuer::TENANT,
            "--hook-url",
            MockIssuer::HOOK_URL,
        ],
        Some(&rotation),
    );
    let stdout = String::from_utf8(checked.stdout).unwrap();
    assert_eq!(checked.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("secret 2"), "{stdout}");
}

/// Bad usage: exit status 2, a message naming what is wrong, no panic,
/// and never the secret.
#[test]
fn bad_input_is_exit_2_with_a_clear_message() {
    let short = STANDARD.encode([9u8; 16]);
    let key = key_base64();
    let trailing_comma = format!("{key},");
    let missing_file = std::env::temp_dir().join("mattr-hook-no-such-file.json");
    let not_json =
        std::env::temp_dir().join(format!("mattr-hook-not-json-{}.json", std::process::id()));
    std::fs::write(&not_json, "{ not json").unwrap();
    let cases: Vec<(Vec<String>, Option<&str>, &str)> = vec![
        (vec!["mint".into()], None, "HOOK_SECRET: not set"),
        (
            vec!["mint".into()],
            Some(""),
            "HOOK_SECRET: secret 1 is empty",
        ),
        (vec!["mint".into()], Some(&short), "decodes to 16 bytes"),
        (
            vec!["mint".into()],
            Some("not base64!"),
            "not standard base64",
        ),
        (
            vec!["mint".into()],
            Some(&trailing_comma),
            "secret 2 is empty",
        ),
        (
            vec![
                "mint".into(),
                "--claims-file".into(),
                missing_file.display().to_string(),
            ],
            Some(&key),
            "--claims-file",
        ),
        (
            vec![
                "mint".into(),
                "--claims-file".into(),
                not_json.display().to_string(),
            ],
            Some(&key),
            "not JSON",
        ),
        (
            vec!["mint".into(), "--claim".into(), "no-equals-sign".into()],
            Some(&key),
            "expected KEY=VALUE",
        ),
        (
            vec!["mint".into(), "--hook-url".into(), "not a url".into()],
            Some(&key),
            "--hook-url: not an absolute URL",
        ),
        (
            [
                "check",
                "http://[::1",
                "--issuer",
                MockIssuer::TENANT,
                "--hook-url",
                MockIssuer::HOOK_URL,
            ]
            .map(String::from)
            .to_vec(),
            Some(&key),
            "TOKEN_OR_URL: not a valid URL",
        ),
        (
            [
                "check",
                "a.b.c",
                "--issuer",
                "tenant",
                "--hook-url",
                MockIssuer::HOOK_URL,
            ]
            .map(String::from)
            .to_vec(),
            Some(&key),
            "--issuer: not an absolute URL",
        ),
        (
            ["check", "a.b.c"].map(String::from).to_vec(),
            Some(&key),
            "--issuer",
        ),
        (
            ["issuer", "--hook-url", "nowhere"]
                .map(String::from)
                .to_vec(),
            Some(&key),
            "--hook-url: not an absolute URL",
        ),
        (
            [
                "issuer",
                "--hook-url",
                MockIssuer::HOOK_URL,
                "--port",
                "70000",
            ]
            .map(String::from)
            .to_vec(),
            Some(&key),
            "--port",
        ),
        (
            ["frobnicate"].map(String::from).to_vec(),
            Some(&key),
            "unrecognized subcommand",
        ),
    ];
    for (args, secret, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run(&args, secret);
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains(&key), "{args:?}: the secret is shown");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
    let _ = std::fs::remove_file(&not_json);
}
