//! Arbitrary bytes as a request's query string, and as a bare token,
//! through the real extraction and verification path. Nothing may panic,
//! and anything accepted must carry a valid signature.
#![no_main]

use std::sync::LazyLock;

use hook_layer::{HookSession, InteractionHookLayer};
use hook_layer_fuzz::{check_accepted, layer};
use libfuzzer_sys::fuzz_target;

static LAYER: LazyLock<InteractionHookLayer> = LazyLock::new(layer);

fuzz_target!(|data: &[u8]| {
    // As the query of a request target, when it is one an HTTP server
    // would hand to the service.
    let mut target = b"/interaction?".to_vec();
    target.extend_from_slice(data);
    if let Ok(uri) = http::Uri::try_from(target) {
        if let Ok(session) = LAYER.verify(&uri) {
            check_accepted(&session);
        }
    }
    // As a bare token.
    if let Ok(token) = std::str::from_utf8(data) {
        let accepted: Result<HookSession, _> = LAYER.verify_token(token);
        if let Ok(session) = accepted {
            check_accepted(&session);
        }
    }
});
