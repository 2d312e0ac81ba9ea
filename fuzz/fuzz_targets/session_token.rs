//! Arbitrary bytes as a request's query string, and as a bare token,
//! through the real extraction and verification path. Nothing may panic,
//! and anything accepted must carry a valid signature.
#![no_main]

use std::sync::LazyLock;

use hook_layer::{HookSession, InteractionHookLayer};
use hook_layer_fuzz::{check_accepted, layer, tenants_layer};
use libfuzzer_sys::fuzz_target;

static LAYER: LazyLock<InteractionHookLayer> = LazyLock::new(layer);
static TENANTS: LazyLock<InteractionHookLayer> = LazyLock::new(tenants_layer);

fuzz_target!(|data: &[u8]| {
    // As the query of a request target, when it is one an HTTP server
    // would hand to the service.
    let mut target = b"/interaction?".to_vec();
    target.extend_from_slice(data);
    let uri = http::Uri::try_from(target).ok();
    let token = std::str::from_utf8(data).ok();
    for layer in [&*LAYER, &*TENANTS] {
        if let Some(Ok(session)) = uri.as_ref().map(|uri| layer.verify(uri)) {
            check_accepted(&session);
        }
        // As a bare token.
        let accepted: Option<Result<HookSession, _>> = token.map(|token| layer.verify_token(token));
        if let Some(Ok(session)) = accepted {
            check_accepted(&session);
        }
    }
});
