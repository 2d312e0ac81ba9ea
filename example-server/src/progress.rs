//! What the holder has done so far, carried from page to page in a hidden
//! form field, sealed by the session (`HookSession::seal`): the browser
//! cannot read it (it holds the one-time code), change it, keep it past the
//! session or move it to another session. The server keeps no journey
//! state; only attempt counts live in a store.
//!
//! Within its session an earlier form can be resubmitted, which only
//! repeats a step: what must not be repeatable (checking codes, sending
//! them) is counted by the attempt limiters, not here.

use serde::{Deserialize, Serialize};

/// What the hidden `progress` field is sealed for (`HookSession::seal_for`):
/// nothing else sealed in a session opens in its place.
pub const SEALED_FOR: &str = "progress";

/// The journey so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The terms of service were accepted.
    pub terms_accepted: bool,
    /// The validated details, once given.
    pub details: Option<Details>,
    /// The one-time code last sent, once one was.
    pub code: Option<String>,
}

/// The validated extra details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    /// How the holder wants to be addressed.
    pub preferred_name: String,
    /// ISO 8601 date, e.g. `1815-12-10`.
    pub date_of_birth: String,
}
