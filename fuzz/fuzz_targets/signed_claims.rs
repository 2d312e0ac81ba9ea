//! Arbitrary header and payload, correctly signed, through verification:
//! the fuzzer gets past the signature and explores header parsing, claim
//! decoding and every validation rule. Input: one length byte `n`, then
//! `n` bytes of header, then the payload.
#![no_main]

use std::sync::LazyLock;

use hook_layer::testing::MockIssuer;
use hook_layer::{HookSession, InteractionHookLayer};
use hook_layer_fuzz::{check_accepted, issuer, layer, tenants_layer};
use libfuzzer_sys::fuzz_target;

static LAYER: LazyLock<InteractionHookLayer> = LazyLock::new(layer);
static TENANTS: LazyLock<InteractionHookLayer> = LazyLock::new(tenants_layer);
static ISSUER: LazyLock<MockIssuer> = LazyLock::new(issuer);

fuzz_target!(|data: &[u8]| {
    let Some((&header_len, rest)) = data.split_first() else {
        return;
    };
    let split = usize::from(header_len).min(rest.len());
    let (header, payload) = rest.split_at(split);
    let token = ISSUER.sign_raw(header, payload);
    for layer in [&*LAYER, &*TENANTS] {
        let accepted: Result<HookSession, _> = layer.verify_token(&token);
        match accepted {
            Ok(session) => check_accepted(&session),
            Err(rejection) => {
                let message = rejection.to_string();
                assert!(!message.contains(&token), "a refusal echoed the token");
            }
        }
    }
});
