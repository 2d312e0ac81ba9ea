//! Properties over generated input: signing and verifying round-trip, no
//! single-character change to a valid token is accepted, and completion
//! URLs never exceed the limit.

use std::time::{Duration, UNIX_EPOCH};

use hook_layer::testing::{MockIssuer, Outcome};
use hook_layer::{CompletionError, HookSecret, HookSession, InteractionHookLayer};
use proptest::prelude::*;
use serde_json::{Map, Value};

const NOW: u64 = 1_764_422_400;

fn secret() -> HookSecret {
    HookSecret::from_bytes(b"property tests use this key, 32B").unwrap()
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

/// JSON values as claims carry them: scalars, short lists, small objects.
fn json_value() -> impl Strategy<Value = Value> {
    let scalar = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,24}".prop_map(Value::String),
    ];
    scalar.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn claims() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(".{0,12}", json_value(), 0..6).prop_map(|m| m.into_iter().collect())
}

/// Any non-empty state, in any script.
fn state() -> impl Strategy<Value = String> {
    ".{1,40}"
}

/// https URLs on generated hosts, paths and queries (percent-encoded where
/// they need it, as MATTR VII would send them).
fn redirect_url() -> impl Strategy<Value = String> {
    (
        "[a-z][a-z0-9-]{0,15}(\\.[a-z][a-z0-9-]{0,10}){1,3}",
        prop::option::of(1u16..),
        "(/[A-Za-z0-9._~%-]{0,12}){0,4}",
        prop::option::of("[A-Za-z0-9=&_.-]{0,30}"),
        prop::option::of("[A-Za-z0-9]{0,8}"),
    )
        .prop_map(|(host, port, path, query, fragment)| {
            let mut url = format!("https://{host}");
            if let Some(port) = port {
                url.push_str(&format!(":{port}"));
            }
            url.push_str(&path);
            if let Some(query) = query {
                url.push('?');
                url.push_str(&query);
            }
            if let Some(fragment) = fragment {
                url.push('#');
                url.push_str(&fragment);
            }
            url
        })
        .prop_filter("valid URL", |url| url::Url::parse(url).is_ok())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// What MATTR VII signs, the layer reads back unchanged; what the hook
    /// signs, MATTR VII reads back unchanged.
    #[test]
    fn sign_then_verify_round_trips(state in state(), claims in claims(), returned in claims(), url in redirect_url()) {
        let mock = issuer().redirect_url(url.clone());
        let token = mock.session().state(state.clone()).claims(&claims).redirect_url(url.clone()).token();
        let session: HookSession = layer().verify_token(&token).unwrap();
        prop_assert_eq!(session.state(), state.as_str());
        prop_assert_eq!(session.claims(), &claims);
        prop_assert_eq!(session.redirect_url(), &url::Url::parse(&url).unwrap());

        let completion = session.complete().claims(&returned).unwrap();
        match completion.redirect() {
            Ok(redirect) => {
                let response = mock.read_redirect(redirect.url()).unwrap();
                prop_assert_eq!(response.state, state);
                prop_assert_eq!(response.outcome, Outcome::Completed { claims: returned, claims_to_persist: vec![] });
            }
            Err(CompletionError::UrlTooLong { len, max }) => prop_assert!(len > max),
            Err(other) => prop_assert!(false, "{other}"),
        }
    }

    /// Changing any one character of a valid token (header, payload or
    /// signature) to any other character gets it refused.
    #[test]
    fn any_single_character_change_is_refused(index in any::<prop::sample::Index>(), replacement in any::<char>()) {
        let token = issuer().session().claim("email", "ada@example.com").token();
        let index = index.index(token.len());
        let original = token.as_bytes()[index] as char;
        prop_assume!(replacement != original);
        let mut changed = token.clone();
        changed.replace_range(index..=index, &replacement.to_string());
        let result: Result<HookSession, _> = layer().verify_token(&changed);
        prop_assert!(result.is_err(), "accepted {changed}");
    }

    /// The same, among base64url characters only: the changes most likely
    /// to still parse.
    #[test]
    fn any_base64url_character_swap_is_refused(index in any::<prop::sample::Index>(), replacement in "[A-Za-z0-9_-]") {
        let token = issuer().session().token();
        let index = index.index(token.len());
        prop_assume!(token.as_bytes()[index] != b'.' && token[index..=index] != *replacement);
        let mut changed = token.clone();
        changed.replace_range(index..=index, &replacement);
        let result: Result<HookSession, _> = layer().verify_token(&changed);
        prop_assert!(result.is_err(), "accepted {changed}");
    }

    /// Flipping any bit of the decoded signature is refused.
    #[test]
    fn any_signature_bit_flip_is_refused(bit in 0usize..256) {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = issuer().session().token();
        let (input, signature) = token.rsplit_once('.').unwrap();
        let mut tag = URL_SAFE_NO_PAD.decode(signature).unwrap();
        tag[bit / 8] ^= 1 << (bit % 8);
        let changed = format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag));
        let result: Result<HookSession, _> = layer().verify_token(&changed);
        prop_assert!(result.is_err());
    }

    /// Whatever is returned and whatever the limit, a completion URL is
    /// within it, or the completion is an error that says by how much.
    #[test]
    fn completion_urls_never_exceed_the_limit(returned in claims(), big in ".{0,3000}", limit in 200usize..3000, fail in any::<bool>()) {
        let token = issuer().session().token();
        let session: HookSession = layer().max_redirect_url_length(limit).verify_token(&token).unwrap();
        let result = if fail {
            session.fail(big).redirect()
        } else {
            session.complete().claims(&returned).unwrap().claim("big", big).unwrap().redirect()
        };
        match result {
            Ok(redirect) => prop_assert!(redirect.url().len() <= limit),
            Err(CompletionError::UrlTooLong { len, max }) => {
                prop_assert_eq!(max, limit);
                prop_assert!(len > limit);
            }
            Err(other) => prop_assert!(false, "{other}"),
        }
    }
}
