//! `HOOK_LOG_FORMAT=json`: one JSON object per line on standard output,
//! with the same fields as the text format and the same things left out:
//! never a token, a secret, a one-time code or a claim value.

mod support;

use serde_json::{Map, Value};
use support::{Server, issuer, wrong_right_and_forged};

/// The events of `lines`, each of which must be a JSON object with the
/// fields every event has.
fn events(lines: &[String]) -> Vec<Map<String, Value>> {
    lines
        .iter()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
            let Value::Object(event) = value else {
                panic!("not a JSON object: {line}");
            };
            for field in ["timestamp", "level", "target", "message"] {
                assert!(
                    event.get(field).is_some_and(Value::is_string),
                    "no {field}: {line}"
                );
            }
            assert!(
                ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"]
                    .contains(&event["level"].as_str().unwrap()),
                "{line}"
            );
            event
        })
        .collect()
}

/// The one event whose message contains `text`.
fn find<'e>(events: &'e [Map<String, Value>], text: &str) -> &'e Map<String, Value> {
    let found: Vec<_> = events
        .iter()
        .filter(|event| event["message"].as_str().unwrap().contains(text))
        .collect();
    assert_eq!(found.len(), 1, "{text}: {events:?}");
    found[0]
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_without_tokens_codes_or_claims() {
    let server = Server::start(&[
        ("HOOK_LOG_FORMAT", "json"),
        ("RUST_LOG", "info,hook_layer=debug,example_server=debug"),
    ]);
    let token = issuer()
        .session()
        .claim("given_name", "Zebedee")
        .claim("email", "zebedee@example.com")
        .token();
    let walked = wrong_right_and_forged(&server, token).await;
    let lines = server.stop();
    let events = events(&lines);

    // The same fields as the text format, now as JSON members.
    let listening = find(&events, "interaction hook listening on");
    assert_eq!(listening["level"], "INFO");
    assert_eq!(listening["target"], "example_server");
    assert_eq!(listening["issuer"], support::TENANT);
    assert_eq!(listening["hook_url"], support::HOOK_URL);
    assert_eq!(listening["tenants"], 1);
    assert_eq!(listening["attempts"], "memory");
    let refusal = find(&events, "refused");
    assert_eq!(refusal["code"], "bad_signature");
    assert_eq!(refusal["path"], "/interaction");
    assert!(
        refusal["target"]
            .as_str()
            .unwrap()
            .starts_with("hook_layer"),
        "{refusal:?}"
    );
    let ended = find(&events, "interaction completed");
    assert_eq!(ended["state"].as_str().unwrap().chars().count(), 6);
    let requests: Vec<_> = events
        .iter()
        .filter(|event| event["message"] == "request")
        .collect();
    assert!(requests.len() >= 6, "{requests:?}");
    for request in &requests {
        assert!(request["status"].is_u64(), "{request:?}");
        let path = request["path"].as_str().unwrap();
        assert!(!path.contains('?'), "a query in the log: {path}");
    }
    find(&events, "stopped");

    // Nothing that identifies the holder or could be replayed. Timestamps
    // and durations are left out of the search for the code: their digits
    // could pass for one.
    let searched: Vec<String> = events
        .iter()
        .map(|event| {
            let mut event = event.clone();
            event.remove("timestamp");
            event.remove("elapsed_us");
            Value::Object(event).to_string()
        })
        .collect();
    let log = searched.join("\n");
    let secret = support::secret_base64();
    for never in [
        walked.code.as_str(),
        "Zebedee",
        "zebedee@example.com",
        "1990-04-21",
        "session_token",
        &secret[..12],
    ] {
        assert!(!log.contains(never), "{never} in the log: {log}");
    }
    for token in &walked.tokens {
        for segment in token.split('.') {
            assert!(!log.contains(segment), "part of a token in the log: {log}");
        }
    }
}
