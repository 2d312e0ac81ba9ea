//! A setting that cannot be used, and why.

use std::borrow::Cow;
use std::fmt;

/// A setting that cannot be used, and why: `Display` reads
/// `SETTING: reason`, e.g. `HOOK_URL: must be https (http only for
/// localhost)` or `HOOK_TENANTS: tenant 2: secrets: expected a list of
/// base64 strings, found an integer`.
///
/// The errors this module builds never contain a secret, whatever the
/// slip: a value is never quoted back, and a key or environment variable
/// name only when it cannot be a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    setting: Cow<'static, str>,
    reason: String,
}

impl ConfigError {
    /// An error naming `setting` (an environment variable, a flag, or a
    /// path into a file such as `HOOK_TENANTS: tenant 2: hook_url`), for a
    /// server's own settings beside these. `reason` is shown as given:
    /// keep secrets and other values read from the settings out of it.
    pub fn new(setting: impl Into<Cow<'static, str>>, reason: impl fmt::Display) -> Self {
        Self {
            setting: setting.into(),
            reason: reason.to_string(),
        }
    }

    /// The setting, e.g. `HOOK_ISSUER` or `HOOK_TENANTS: tenant 2: hook_url`.
    pub fn setting(&self) -> &str {
        &self.setting
    }

    /// Why it cannot be used, e.g. `must be https (http only for localhost)`.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The same error, named inside `outer` (`HOOK_TENANTS: tenant 2`).
    pub(crate) fn within(self, outer: &str) -> Self {
        Self {
            setting: format!("{outer}: {}", self.setting).into(),
            reason: self.reason,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.reason)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_setting_then_the_reason() {
        let error = ConfigError::new("HOOK_URL", "must be https").within("HOOK_TENANTS: tenant 2");
        assert_eq!(error.setting(), "HOOK_TENANTS: tenant 2: HOOK_URL");
        assert_eq!(error.reason(), "must be https");
        assert_eq!(
            error.to_string(),
            "HOOK_TENANTS: tenant 2: HOOK_URL: must be https"
        );
    }
}
