//! Hostile input, table-driven: every case goes through the tower service
//! as a request and must get its documented status and refusal code (or
//! reach the handler, where noted), with no panic and no trace of the token
//! in the response.

use std::convert::Infallible;
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hook_layer::testing::MockIssuer;
use hook_layer::{HookSecret, InteractionHookLayer, Rejection, Tenant};
use http::{Request, Response, StatusCode};
use serde_json::{Value, json};
use tower::{Layer, ServiceExt, service_fn};

const NOW: u64 = 1_764_422_400;
const HS256: &[u8] = br#"{"alg":"HS256","typ":"JWT"}"#;

fn secret() -> HookSecret {
    HookSecret::from_bytes(b"hostile input tests key: 32 byte").unwrap()
}

fn issuer() -> MockIssuer {
    MockIssuer::new(secret()).clock(|| UNIX_EPOCH + Duration::from_secs(NOW))
}

/// A well-formed payload, signed as-is after `change`.
fn payload_with(change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Vec<u8> {
    let mut payload = issuer().session().payload().clone();
    change(&mut payload);
    serde_json::to_vec(&payload).unwrap()
}

fn claim(name: &'static str, value: Value) -> Vec<u8> {
    payload_with(|payload| {
        payload.insert(name.to_owned(), value);
    })
}

fn without(name: &'static str) -> Vec<u8> {
    payload_with(|payload| {
        payload.remove(name);
    })
}

fn signed(header: &[u8], payload: &[u8]) -> String {
    issuer().sign_raw(header, payload)
}

fn valid() -> String {
    issuer().session().token()
}

fn query(token: &str) -> String {
    format!("session_token={token}")
}

/// `header.payload` of a valid token with `signature` instead of its own.
fn with_signature(signature: &str) -> String {
    let token = valid();
    let (input, _) = token.rsplit_once('.').unwrap();
    format!("{input}.{signature}")
}

/// A valid token padded (through an extra claim) to exactly `len` bytes.
fn token_of_length(len: usize) -> String {
    let mut padding = 0;
    loop {
        let token = signed(HS256, &claim("pad", json!("x".repeat(padding))));
        match token.len().cmp(&len) {
            std::cmp::Ordering::Equal => return token,
            std::cmp::Ordering::Less => padding += 1,
            // base64 grows in steps of 4 per 3 bytes; shift by a char of
            // the key name instead when a step jumps over `len`.
            std::cmp::Ordering::Greater => {
                let token = signed(HS256, &claim("pd", json!("x".repeat(padding))));
                if token.len() == len {
                    return token;
                }
                let token = signed(HS256, &claim("p", json!("x".repeat(padding))));
                assert_eq!(token.len(), len, "could not build a token of {len} bytes");
                return token;
            }
        }
    }
}

/// What a case expects: the handler, or a refusal with this code.
enum Expect {
    Accepted,
    Refused(StatusCode, &'static str),
}
use Expect::{Accepted, Refused};

const BAD_REQUEST: StatusCode = StatusCode::BAD_REQUEST;
const UNAUTHORIZED: StatusCode = StatusCode::UNAUTHORIZED;

fn cases() -> Vec<(&'static str, String, Expect)> {
    let token = valid();
    let (header_b64, rest) = token.split_once('.').unwrap();
    let (payload_b64, signature) = rest.split_once('.').unwrap();
    let other = HookSecret::from_bytes(&[0x5a; 32]).unwrap();
    let forged = issuer().session().signed_with(&other).token();
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(payload_with(|_| {}));
    let redirect = |url: &str| query(&signed(HS256, &claim("redirectUrl", json!(url))));
    vec![
        ("valid, as MATTR VII sends it", query(&token), Accepted),
        (
            "alg none, unsigned",
            query(&format!("{none_header}.{payload}.")),
            Refused(UNAUTHORIZED, "wrong_algorithm"),
        ),
        (
            "alg none, signed anyway",
            query(&signed(br#"{"alg":"none"}"#, &claim("x", json!(1)))),
            Refused(UNAUTHORIZED, "wrong_algorithm"),
        ),
        (
            "alg None",
            query(&signed(br#"{"alg":"None"}"#, &claim("x", json!(1)))),
            Refused(UNAUTHORIZED, "wrong_algorithm"),
        ),
        (
            "alg HS512",
            query(&signed(
                br#"{"alg":"HS512","typ":"JWT"}"#,
                &claim("x", json!(1)),
            )),
            Refused(UNAUTHORIZED, "wrong_algorithm"),
        ),
        (
            "alg HS384",
            query(&signed(br#"{"alg":"HS384"}"#, &claim("x", json!(1)))),
            Refused(UNAUTHORIZED, "wrong_algorithm"),
        ),
        (
            "RS256 with the secret as a public key",
            query(&signed(
                br#"{"alg":"RS256","typ":"JWT"}"#,
                &claim("x", json!(1)),
            )),
            Refused(UNAUTHORIZED, "wrong_algorithm"),
        ),
        (
            "ES256",
            query(&signed(br#"{"alg":"ES256"}"#, &claim("x", json!(1)))),
            Refused(UNAUTHORIZED, "wrong_algorithm"),
        ),
        (
            "alg missing",
            query(&signed(br#"{"typ":"JWT"}"#, &claim("x", json!(1)))),
            Refused(UNAUTHORIZED, "wrong_algorithm"),
        ),
        (
            "kid header, ignored",
            query(&signed(
                br#"{"alg":"HS256","kid":"../../etc/passwd"}"#,
                &claim("x", json!(1)),
            )),
            Accepted,
        ),
        (
            "jku header, never fetched",
            query(&signed(
                br#"{"alg":"HS256","jku":"https://evil.example/jwks.json"}"#,
                &claim("x", json!(1)),
            )),
            Accepted,
        ),
        (
            "crit header",
            query(&signed(
                br#"{"alg":"HS256","crit":["b64"],"b64":false}"#,
                &claim("x", json!(1)),
            )),
            Refused(UNAUTHORIZED, "critical_header"),
        ),
        (
            "duplicate alg in header",
            query(&signed(
                br#"{"alg":"none","alg":"HS256"}"#,
                &claim("x", json!(1)),
            )),
            Refused(UNAUTHORIZED, "malformed_token"),
        ),
        (
            "a repeated header parameter the layer does not read",
            query(&signed(
                br#"{"alg":"HS256","kid":"a","kid":"b"}"#,
                &claim("x", json!(1)),
            )),
            Refused(UNAUTHORIZED, "malformed_token"),
        ),
        (
            "header not JSON",
            query(&signed(b"HS256", &claim("x", json!(1)))),
            Refused(UNAUTHORIZED, "malformed_token"),
        ),
        (
            "empty header segment",
            query(&format!(".{payload_b64}.{signature}")),
            Refused(UNAUTHORIZED, "malformed_token"),
        ),
        (
            "empty payload segment, unsigned",
            query(&format!("{header_b64}..{signature}")),
            Refused(UNAUTHORIZED, "bad_signature"),
        ),
        (
            "empty payload, signed",
            query(&signed(HS256, b"")),
            Refused(UNAUTHORIZED, "malformed_token"),
        ),
        (
            "empty signature",
            query(&with_signature("")),
            Refused(UNAUTHORIZED, "bad_signature"),
        ),
        (
            "extra segment",
            query(&format!("{token}.{signature}")),
            Refused(UNAUTHORIZED, "malformed_token"),
        ),
        (
            "two segments",
            query(&format!("{header_b64}.{payload_b64}")),
            Refused(UNAUTHORIZED, "malformed_token"),
        ),
        (
            "one segment",
            query(header_b64),
            Refused(UNAUTHORIZED, "malformed_token"),
        ),
        (
            "padded signature",
            query(&with_signature(&format!("{signature}="))),
            Refused(UNAUTHORIZED, "bad_signature"),
        ),
        (
            "padded header",
            query(&format!("{header_b64}==.{payload_b64}.{signature}")),
            Refused(UNAUTHORIZED, "malformed_token"),
        ),
        (
            "standard base64 signature",
            query(&with_signature(
                &STANDARD.encode(URL_SAFE_NO_PAD.decode(signature).unwrap()),
            )),
            Refused(UNAUTHORIZED, "bad_signature"),
        ),
        (
            "non-base64url characters in the payload",
            query(&format!("{header_b64}.{}*.{signature}", &payload_b64[1..])),
            Refused(UNAUTHORIZED, "bad_signature"),
        ),
        (
            "signed with another secret",
            query(&forged),
            Refused(UNAUTHORIZED, "bad_signature"),
        ),
        (
            "signed with the secret's base64 text",
            query(
                &MockIssuer::new(
                    HookSecret::from_bytes(
                        STANDARD
                            .encode(b"hostile input tests key: 32 byte")
                            .as_bytes(),
                    )
                    .unwrap(),
                )
                .session()
                .token(),
            ),
            Refused(UNAUTHORIZED, "bad_signature"),
        ),
        (
            "duplicate keys in the payload",
            query(&signed(
                HS256,
                &[
                    &without("state")[..without("state").len() - 1],
                    br#","state":"a","state":"b"}"#,
                ]
                .concat(),
            )),
            Refused(UNAUTHORIZED, "malformed_token"),
        ),
        (
            "a repeated claim the layer does not read",
            query(&signed(
                HS256,
                &[
                    &without("claims")[..without("claims").len() - 1],
                    br#","sub":"a","sub":"b"}"#,
                ]
                .concat(),
            )),
            Refused(UNAUTHORIZED, "malformed_token"),
        ),
        (
            "payload is an array",
            query(&signed(HS256, b"[1,2,3]")),
            Refused(UNAUTHORIZED, "malformed_token"),
        ),
        (
            "payload is null",
            query(&signed(HS256, b"null")),
            Refused(UNAUTHORIZED, "malformed_token"),
        ),
        (
            "payload is not UTF-8",
            query(&signed(HS256, b"{\"x\":\"\xff\"}")),
            Refused(UNAUTHORIZED, "malformed_token"),
        ),
        (
            "huge exp",
            query(&signed(HS256, &claim("exp", json!(1e20)))),
            Refused(UNAUTHORIZED, "invalid_claim"),
        ),
        (
            "exp beyond u64",
            query(&signed(HS256, &claim("exp", json!(1.8446744073709552e19)))),
            Refused(UNAUTHORIZED, "invalid_claim"),
        ),
        (
            "negative exp",
            query(&signed(HS256, &claim("exp", json!(-1)))),
            Refused(UNAUTHORIZED, "invalid_claim"),
        ),
        (
            "float exp, in the future",
            query(&signed(HS256, &claim("exp", json!(NOW as f64 + 90.25)))),
            Accepted,
        ),
        (
            "string exp",
            query(&signed(HS256, &claim("exp", json!((NOW + 60).to_string())))),
            Refused(UNAUTHORIZED, "invalid_claim"),
        ),
        (
            "negative iat",
            query(&signed(HS256, &claim("iat", json!(-5)))),
            Refused(UNAUTHORIZED, "invalid_claim"),
        ),
        (
            "string iat",
            query(&signed(HS256, &claim("iat", json!("now")))),
            Refused(UNAUTHORIZED, "invalid_claim"),
        ),
        (
            "neither exp nor iat",
            query(&signed(
                HS256,
                &payload_with(|p| {
                    p.remove("exp");
                    p.remove("iat");
                }),
            )),
            Refused(UNAUTHORIZED, "no_lifetime"),
        ),
        (
            "expired",
            query(&issuer().session().expired().token()),
            Refused(UNAUTHORIZED, "expired"),
        ),
        (
            "nbf in the future",
            query(&signed(HS256, &claim("nbf", json!(NOW + 3600)))),
            Refused(UNAUTHORIZED, "not_yet_valid"),
        ),
        (
            "iat in the future",
            query(&signed(HS256, &claim("iat", json!(NOW + 3600)))),
            Refused(UNAUTHORIZED, "not_yet_valid"),
        ),
        (
            "aud array with the hook URL",
            query(&signed(
                HS256,
                &claim("aud", json!(["https://x.example", MockIssuer::HOOK_URL])),
            )),
            Accepted,
        ),
        (
            "aud array without the hook URL",
            query(&signed(HS256, &claim("aud", json!(["https://x.example"])))),
            Refused(UNAUTHORIZED, "wrong_audience"),
        ),
        (
            "aud empty array",
            query(&signed(HS256, &claim("aud", json!([])))),
            Refused(UNAUTHORIZED, "invalid_claim"),
        ),
        (
            "aud an object",
            query(&signed(
                HS256,
                &claim("aud", json!({"0": MockIssuer::HOOK_URL})),
            )),
            Refused(UNAUTHORIZED, "invalid_claim"),
        ),
        (
            "another issuer",
            query(&signed(
                HS256,
                &claim("iss", json!("https://evil.vii.au01.mattr.global")),
            )),
            Refused(UNAUTHORIZED, "wrong_issuer"),
        ),
        (
            "state missing",
            query(&signed(HS256, &without("state"))),
            Refused(UNAUTHORIZED, "missing_claim"),
        ),
        (
            "state a number",
            query(&signed(HS256, &claim("state", json!(42)))),
            Refused(UNAUTHORIZED, "invalid_claim"),
        ),
        (
            "redirectUrl missing",
            query(&signed(HS256, &without("redirectUrl"))),
            Refused(UNAUTHORIZED, "missing_claim"),
        ),
        (
            "claims not an object",
            query(&signed(HS256, &claim("claims", json!(["email"])))),
            Refused(StatusCode::INTERNAL_SERVER_ERROR, "claims_mismatch"),
        ),
        (
            "redirectUrl javascript:",
            redirect("javascript:alert(document.cookie)"),
            Refused(UNAUTHORIZED, "invalid_redirect_url"),
        ),
        (
            "redirectUrl data:",
            redirect("data:text/html,<script>alert(1)</script>"),
            Refused(UNAUTHORIZED, "invalid_redirect_url"),
        ),
        (
            "redirectUrl http to a public host",
            redirect("http://tenant.vii.au01.mattr.global/cb"),
            Refused(UNAUTHORIZED, "invalid_redirect_url"),
        ),
        (
            "redirectUrl with userinfo",
            redirect("https://tenant.vii.au01.mattr.global@evil.example/cb"),
            Refused(UNAUTHORIZED, "invalid_redirect_url"),
        ),
        (
            "redirectUrl an IP literal",
            redirect("https://203.0.113.7/cb"),
            Refused(UNAUTHORIZED, "invalid_redirect_url"),
        ),
        (
            "redirectUrl with a space",
            redirect("https://tenant.example/c b"),
            Refused(UNAUTHORIZED, "invalid_redirect_url"),
        ),
        (
            "redirectUrl with a tab",
            redirect("https://tenant\t.example/cb"),
            Refused(UNAUTHORIZED, "invalid_redirect_url"),
        ),
        (
            "redirectUrl with a control character",
            redirect("https://tenant.example/\u{7}cb"),
            Refused(UNAUTHORIZED, "invalid_redirect_url"),
        ),
        (
            "redirectUrl with a backslash",
            redirect("https://evil.example\\@tenant.example/"),
            Refused(UNAUTHORIZED, "invalid_redirect_url"),
        ),
        (
            "redirectUrl relative",
            redirect("//evil.example/cb"),
            Refused(UNAUTHORIZED, "invalid_redirect_url"),
        ),
        (
            "redirectUrl with three slashes",
            redirect("https:///evil.example/cb"),
            Refused(UNAUTHORIZED, "invalid_redirect_url"),
        ),
        (
            "redirectUrl with four slashes",
            redirect("https:////evil.example/cb"),
            Refused(UNAUTHORIZED, "invalid_redirect_url"),
        ),
        (
            "redirectUrl to localhost with a final dot",
            redirect("https://localhost./cb"),
            Refused(UNAUTHORIZED, "invalid_redirect_url"),
        ),
        (
            "redirectUrl to a name under localhost",
            redirect("https://app.localhost/cb"),
            Refused(UNAUTHORIZED, "invalid_redirect_url"),
        ),
        (
            "redirectUrl to a name under localhost, with a final dot",
            redirect("https://app.localhost./cb"),
            Refused(UNAUTHORIZED, "invalid_redirect_url"),
        ),
        // `http::Uri` holds at most 64 KiB, so these are the longest queries
        // a tower service can be handed; 1 MB is tested below.
        (
            "60 KB query string without a token",
            format!("q={}", "a".repeat(60_000)),
            Refused(UNAUTHORIZED, "missing_token"),
        ),
        (
            "60 KB token",
            query(&"a".repeat(60_000)),
            Refused(BAD_REQUEST, "token_too_long"),
        ),
        (
            "60 KB of other parameters, then the token",
            format!("{}&{}", "a=b&".repeat(14_000), query(&token)),
            Accepted,
        ),
        (
            "token of 4096 bytes",
            query(&token_of_length(4096)),
            Accepted,
        ),
        (
            "token of 4097 bytes",
            query(&token_of_length(4097)),
            Refused(BAD_REQUEST, "token_too_long"),
        ),
        (
            "two session_token parameters",
            format!("{}&{}", query(&token), query(&token)),
            Refused(BAD_REQUEST, "duplicate_token"),
        ),
        (
            "a second one spelled session%5Ftoken",
            format!("{}&session%5Ftoken=x", query(&token)),
            Refused(BAD_REQUEST, "duplicate_token"),
        ),
        (
            "percent-encoding to non-UTF-8",
            query("%FF%FE%FD"),
            Refused(BAD_REQUEST, "bad_encoding"),
        ),
        (
            "broken percent-encoding",
            query(&format!("{token}%G0")),
            Refused(BAD_REQUEST, "bad_encoding"),
        ),
        (
            "percent-encoded dots",
            query(&token.replace('.', "%2E")),
            Accepted,
        ),
        (
            "plus signs (spaces)",
            query(&token.replacen('.', "+", 1)),
            Refused(UNAUTHORIZED, "malformed_token"),
        ),
        (
            "empty parameter",
            query(""),
            Refused(UNAUTHORIZED, "missing_token"),
        ),
        (
            "no query at all",
            String::new(),
            Refused(UNAUTHORIZED, "missing_token"),
        ),
    ]
}

#[tokio::test]
async fn hostile_inputs_get_their_documented_refusals() {
    let layer = InteractionHookLayer::new(secret())
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL)
        .clock(|| UNIX_EPOCH + Duration::from_secs(NOW));
    run_table(layer, |_, expected| expected).await;
}

/// The same table through a layer serving two tenants, the table's tenant
/// among them with a previous secret too. Acceptances and statuses are the
/// same; the code may differ only where the multi-tenant path reads the
/// payload before the signature (to find the tenant), so that a forgery
/// whose payload is also broken is refused for the payload first.
#[tokio::test]
async fn the_table_holds_for_a_layer_with_several_tenants() {
    let layer = InteractionHookLayer::with_tenants([
        Tenant::new(
            "https://other.vii.au01.mattr.global",
            HookSecret::from_bytes(&[0x33; 32]).unwrap(),
        )
        .audience("https://hook.example.com/other"),
        Tenant::new(MockIssuer::TENANT, secret())
            .previous_secret(HookSecret::from_bytes(&[0x44; 32]).unwrap())
            .audience(MockIssuer::HOOK_URL),
    ])
    .unwrap()
    .clock(|| UNIX_EPOCH + Duration::from_secs(NOW));
    run_table(layer, |actual, expected| {
        let payload_first = [
            "bad_signature",
            "wrong_issuer",
            "missing_claim",
            "invalid_claim",
            "malformed_token",
        ];
        if payload_first.contains(&actual) && payload_first.contains(&expected) {
            actual
        } else {
            expected
        }
    })
    .await;
}

/// Runs every case through `layer`; `code_for(actual, documented)` says
/// which refusal code the layer must have given.
async fn run_table(
    layer: InteractionHookLayer,
    code_for: impl Fn(&'static str, &'static str) -> &'static str,
) {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for (name, query, expect) in cases {
        let inner = service_fn(|_: Request<()>| async {
            Ok::<_, Infallible>(Response::new("handler".to_owned()))
        });
        let target = if query.is_empty() {
            "/interaction".to_owned()
        } else {
            format!("/interaction?{query}")
        };
        let request = Request::get(target).body(()).unwrap();
        let response = layer.clone().layer(inner).oneshot(request).await.unwrap();
        let rejection = response.extensions().get::<Rejection>().cloned();
        match expect {
            Accepted => {
                assert_eq!(response.status(), StatusCode::OK, "{name}: {rejection:?}");
                assert_eq!(response.body(), "handler", "{name}");
            }
            Refused(status, code) => {
                assert_eq!(response.status(), status, "{name}: {rejection:?}");
                let actual = rejection.as_ref().map_or("none", Rejection::code);
                assert_eq!(actual, code_for(actual, code), "{name}");
                let body = response.body();
                assert_ne!(body, "handler", "{name}");
                assert_eq!(body, &rejection.unwrap().to_string(), "{name}");
                // No piece of the token (or of the query) comes back.
                for piece in query
                    .split(['=', '&', '.'])
                    .filter(|piece| piece.len() >= 8)
                {
                    assert!(
                        !body.contains(piece),
                        "{name}: the response echoes {piece:?}"
                    );
                }
            }
        }
    }
}

/// A 1 MB query string cannot even become an `http::Uri` (a hyper server
/// answers 431 before any service runs; see the end-to-end tests); a 1 MB
/// bare token given to `verify_token` is refused by length without being
/// decoded.
#[test]
fn a_1_mb_query_string_never_reaches_the_layer() {
    let huge = format!("/interaction?session_token={}", "a".repeat(1 << 20));
    assert!(huge.parse::<http::Uri>().is_err());
    let layer = InteractionHookLayer::new(secret());
    let result: Result<hook_layer::HookSession, _> = layer.verify_token(&"a.b.".repeat(1 << 18));
    assert_eq!(
        result.unwrap_err(),
        Rejection::TokenTooLong {
            len: 1 << 20,
            max: 4096
        }
    );
}

/// The fragment never reaches a server: a token there is no token.
#[tokio::test]
async fn a_token_in_the_fragment_only_is_missing() {
    let layer = InteractionHookLayer::new(secret()).clock(|| UNIX_EPOCH + Duration::from_secs(NOW));
    let uri: http::Uri = format!("/interaction#session_token={}", valid())
        .parse()
        .unwrap();
    assert_eq!(uri.query(), None);
    let result: Result<hook_layer::HookSession, _> = layer.verify(&uri);
    assert_eq!(result.unwrap_err(), Rejection::MissingToken);
}

/// `mattr-hook check`, the built command, on every case: it gives the
/// layer's own verdict (exit 0 accepted, 1 refused) and refusal code, and
/// echoes no whole token.
#[test]
fn mattr_hook_check_gives_the_layers_verdict_on_every_case() {
    let layer = InteractionHookLayer::new(secret())
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL)
        .clock(|| UNIX_EPOCH + Duration::from_secs(NOW));
    let secret_base64 = STANDARD.encode(b"hostile input tests key: 32 byte");
    let cases = cases();
    assert!(cases.len() >= 40);
    for (name, query, _) in cases {
        let address = if query.is_empty() {
            MockIssuer::HOOK_URL.to_owned()
        } else {
            format!("{}?{query}", MockIssuer::HOOK_URL)
        };
        let uri: http::Uri = format!("/interaction?{query}").parse().unwrap();
        let verdict: Result<hook_layer::HookSession, Rejection> = layer.verify(&uri);
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_mattr-hook"))
            .args(["check", &address, "--at", &NOW.to_string()])
            .args([
                "--issuer",
                MockIssuer::TENANT,
                "--hook-url",
                MockIssuer::HOOK_URL,
            ])
            .env("HOOK_SECRET", &secret_base64)
            .output()
            .unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        let last = stdout.lines().last().unwrap_or_default();
        match verdict {
            Ok(_) => {
                assert_eq!(output.status.code(), Some(0), "{name}: {stdout}");
                assert!(last.starts_with("verdict: accepted"), "{name}: {last}");
            }
            Err(rejection) => {
                assert_eq!(output.status.code(), Some(1), "{name}: {stdout}");
                let expected = format!("verdict: refused: {} (", rejection.code());
                assert!(last.starts_with(&expected), "{name}: {last}");
                let failed = format!("FAIL  {:<12}", rejection.check().name());
                assert!(stdout.contains(&failed), "{name}: {stdout}");
            }
        }
        for piece in query.split(['=', '&']).filter(|piece| piece.len() > 64) {
            assert!(!stdout.contains(piece), "{name}: the token is echoed");
        }
    }
}
