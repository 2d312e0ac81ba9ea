//! What the session token carries about the holder, as this example reads
//! it: shared by the journey's pages and by code delivery.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// The user claims MATTR VII passes on: the two this example greets with,
/// and whatever else the hook is configured to receive.
#[derive(Debug, Clone, Deserialize)]
pub struct UserClaims {
    /// OpenID Connect `given_name`.
    pub given_name: Option<String>,
    /// OpenID Connect `email`.
    pub email: Option<String>,
    /// Every other claim.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}
