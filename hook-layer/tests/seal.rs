//! Properties of sealed journey state: any value round-trips, and no
//! single-byte change to a sealed string, nor any truncation, is accepted.

#![cfg(feature = "seal")]

use std::time::{Duration, UNIX_EPOCH};

use hook_layer::testing::MockIssuer;
use hook_layer::{HookSecret, HookSession, InteractionHookLayer};
use proptest::prelude::*;

const NOW: u64 = 1_764_422_400;

fn secret() -> HookSecret {
    HookSecret::from_bytes(b"property tests use this key, 32B").unwrap()
}

fn session() -> HookSession {
    let clock = || UNIX_EPOCH + Duration::from_secs(NOW);
    let token = MockIssuer::new(secret()).clock(clock).session().token();
    InteractionHookLayer::new(secret())
        .issuer(MockIssuer::TENANT)
        .audience(MockIssuer::HOOK_URL)
        .clock(clock)
        .verify_token(&token)
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_value_round_trips(value in (any::<u64>(), ".{0,64}", proptest::collection::vec(any::<u8>(), 0..32))) {
        let session = session();
        let sealed = session.seal(&value).unwrap();
        let opened: (u64, String, Vec<u8>) = session.open(&sealed).unwrap();
        prop_assert_eq!(opened, value);
    }

    #[test]
    fn no_single_byte_change_is_accepted(
        value in ".{0,40}",
        position in any::<prop::sample::Index>(),
        replacement in 0u8..0x80,
    ) {
        let session = session();
        let sealed = session.seal(&value).unwrap();
        let mut bytes = sealed.clone().into_bytes();
        let index = position.index(bytes.len());
        prop_assume!(bytes[index] != replacement);
        bytes[index] = replacement;
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(session.open::<String>(&changed).is_err(), "{} -> {}", sealed, changed);
    }

    #[test]
    fn no_truncation_or_extension_is_accepted(
        value in ".{0,40}",
        cut in any::<prop::sample::Index>(),
        extra in "[A-Za-z0-9_-]{1,4}",
    ) {
        let session = session();
        let sealed = session.seal(&value).unwrap();
        let cut = cut.index(sealed.len());
        prop_assert!(session.open::<String>(&sealed[..cut]).is_err());
        let extended = sealed.clone() + &extra;
        prop_assert!(session.open::<String>(&extended).is_err());
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        let _ = session().open::<serde_json::Value>(&text);
    }
}
