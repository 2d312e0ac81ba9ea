//! What the session token carries about the holder, as this example reads
//! it: shared by the journey's pages, code delivery and the JSON API, which
//! returns it as it came.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The user claims MATTR VII passes on: the two this example greets with,
/// and whatever else the hook is configured to receive.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct UserClaims {
    /// OpenID Connect `given_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// OpenID Connect `email`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Every other claim.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// A verified session, with the claims this example reads.
pub(crate) type Session = hook_layer::HookSession<UserClaims>;
