//! What the user has done so far, carried between pages without server-side
//! state: a small JWT, signed with a key derived from the hook secret, in a
//! hidden form field.
//!
//! It is bound to the session by its `state`, so it cannot be moved to
//! another session. Within its session an earlier form can be resubmitted,
//! which only repeats a step; the count of wrong one-time codes, which must
//! not be resettable that way, is kept on the server (see `otp::Attempts`).

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::keys::JourneyKeys;

/// The journey so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// The session this belongs to.
    pub state: String,
    /// The terms of service were accepted.
    pub terms_accepted: bool,
    /// The validated details, once given.
    pub details: Option<Details>,
}

/// The validated extra details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    /// How the holder wants to be addressed.
    pub preferred_name: String,
    /// ISO 8601 date, e.g. `1815-12-10`.
    pub date_of_birth: String,
}

impl Progress {
    /// A fresh journey for the session with this `state`.
    pub fn start(state: &str) -> Self {
        Self {
            state: state.to_owned(),
            ..Self::default()
        }
    }

    /// Signs it for the next page's hidden field.
    pub fn seal(&self, keys: &JourneyKeys) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            self,
            keys.progress_signing(),
        )
        .expect("serializing and signing plain data with an HMAC key does not fail")
    }

    /// Reads a sealed progress token back, for the session with `state`.
    /// `None` when it is forged, garbled or from another session.
    pub fn open(sealed: &str, keys: &JourneyKeys, state: &str) -> Option<Self> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Its lifetime is the session's, which the layer already checks.
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_aud = false;
        let progress = jsonwebtoken::decode::<Self>(sealed, keys.progress_verifying(), &validation)
            .ok()?
            .claims;
        (progress.state == state).then_some(progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_within_its_session_only() {
        let keys = JourneyKeys::derive(&[3; 32]);
        let mut progress = Progress::start("state-1");
        progress.terms_accepted = true;
        let sealed = progress.seal(&keys);
        assert_eq!(Progress::open(&sealed, &keys, "state-1"), Some(progress));
        assert_eq!(Progress::open(&sealed, &keys, "state-2"), None);
        assert_eq!(
            Progress::open(&sealed, &JourneyKeys::derive(&[4; 32]), "state-1"),
            None
        );
        assert_eq!(Progress::open("garbage", &keys, "state-1"), None);
    }
}
