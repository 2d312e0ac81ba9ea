//! What the benchmarks share: the key, claims of a chosen size, what a
//! hook reads from a token, as jsonwebtoken would decode it, and the
//! round-robin harness of the ratio benches.

#![allow(dead_code)]

pub mod rounds;

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// The benchmark key (32 bytes).
pub const KEY: &[u8; 32] = b"benchmark secret key of 32 bytes";

/// User claims whose JSON is about `bytes` long.
pub fn claims_of(bytes: usize) -> Value {
    let mut claims = json!({
        "email": "ada.lovelace@example.com",
        "given_name": "Ada",
        "family_name": "Lovelace",
    });
    let base = claims.to_string().len() + r#","note":"""#.len();
    claims["note"] = json!("n".repeat(bytes.saturating_sub(base)));
    claims
}

/// What the layer hands the handler, as jsonwebtoken would decode it.
#[derive(Clone, Deserialize)]
pub struct Incoming {
    pub state: String,
    #[serde(rename = "redirectUrl")]
    pub redirect_url: String,
    #[serde(default)]
    pub claims: Map<String, Value>,
}
