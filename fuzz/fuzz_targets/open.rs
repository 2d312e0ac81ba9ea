//! Sealed journey state under attack: arbitrary text given to
//! `HookSession::open`, and arbitrary edits of a genuine sealed value.
//! Nothing may panic; only the genuine value, unchanged and in its own
//! session, may open, and it must open to exactly what was sealed.
#![no_main]

use std::sync::LazyLock;

use hook_layer::HookSession;
use hook_layer_fuzz::{issuer, layer};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

struct Sessions {
    own: HookSession,
    other: HookSession,
    sealed: String,
}

static SESSIONS: LazyLock<Sessions> = LazyLock::new(|| {
    let verify = |state: &str| {
        layer()
            .verify_token(&issuer().session().state(state).token())
            .expect("a valid session")
    };
    let own: HookSession = verify("fuzz-state-1");
    let sealed = own.seal(&expected()).expect("sealing a small value");
    Sessions {
        own,
        other: verify("fuzz-state-2"),
        sealed,
    }
});

fn expected() -> Value {
    json!({"step": 2, "code": "123456", "details": {"name": "Ada"}})
}

fuzz_target!(|data: &[u8]| {
    let sessions = &*SESSIONS;
    // Arbitrary text: nothing opens but what this session sealed.
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(value) = sessions.own.open::<Value>(text) {
            assert_eq!(value, expected(), "opened a value nobody sealed");
        }
        assert!(
            sessions.other.open::<Value>(text).is_err(),
            "another session opened a value"
        );
    }
    // Edits of the genuine value: (position, byte) pairs written over it.
    let mut edited = sessions.sealed.clone().into_bytes();
    for pair in data.chunks_exact(2) {
        let at = usize::from(pair[0]) * 7 % edited.len();
        edited[at] = pair[1];
    }
    let Ok(edited) = String::from_utf8(edited) else {
        return;
    };
    let opened = sessions.own.open::<Value>(&edited);
    if edited == sessions.sealed {
        assert_eq!(opened.expect("the genuine value opens"), expected());
    } else {
        assert!(opened.is_err(), "an edited value opened: {edited}");
    }
});
