//! The tenants the hook serves and their secrets: one from `HOOK_SECRET`,
//! `HOOK_ISSUER` and `HOOK_URL`, or several from a small TOML file
//! (`--tenants FILE`).
//!
//! ```toml
//! # One [[tenant]] per MATTR VII tenant that uses this hook.
//! [[tenant]]
//! name = "staging"                                   # optional
//! issuer = "https://acme-staging.vii.au01.mattr.global"
//! hook_url = "https://hook.example.com/interaction"
//! # Names of environment variables holding the secrets, current first...
//! secret_env = ["STAGING_HOOK_SECRET", "STAGING_HOOK_SECRET_PREVIOUS"]
//!
//! [[tenant]]
//! issuer = "https://acme.vii.au01.mattr.global"
//! hook_url = "https://hook.example.com/interaction"
//! # ...or the secrets themselves (base64, as MATTR VII returned them).
//! secrets = ["dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c="]
//! ```

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hook_layer::{HookSecret, MIN_SECRET_LEN, SecretError};
use serde::Deserialize;
use zeroize::Zeroizing;

/// One tenant, as configured: URLs as written (the layer compares them as
/// URLs) and its secrets, the current one first.
#[derive(Clone)]
pub struct TenantConfig {
    /// A name for logs and for varying the journey per tenant.
    pub name: Option<String>,
    /// The tenant URL (`iss`).
    pub issuer: String,
    /// This hook's URL as configured on the tenant (`aud`).
    pub hook_url: String,
    /// The secrets, current first.
    pub secrets: Vec<HookSecret>,
}

impl fmt::Debug for TenantConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantConfig")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("hook_url", &self.hook_url)
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

/// Why a secret list could not be read. Never shows a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretsError {
    /// The list is empty.
    Empty,
    /// The secret at this position (from 1) is not standard base64.
    NotBase64(usize),
    /// The secret at this position is too short.
    TooShort(usize, SecretError),
    /// The secret at this position cannot be used.
    Unusable(usize, SecretError),
}

impl fmt::Display for SecretsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("no secret given"),
            Self::NotBase64(position) => write!(
                f,
                "not standard base64 (secret {position}); paste it exactly as MATTR VII returned it"
            ),
            Self::TooShort(position, error) | Self::Unusable(position, error) => {
                write!(f, "{error} (secret {position})")
            }
        }
    }
}

/// Reads comma-separated base64 secrets, the current one first: the form of
/// `HOOK_SECRET` during a rotation (`"<new>,<old>"`).
pub fn parse_secrets<'a>(
    encoded: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<HookSecret>, SecretsError> {
    let mut secrets = Vec::new();
    for (index, one) in encoded.into_iter().enumerate() {
        let position = index + 1;
        let bytes = Zeroizing::new(
            STANDARD
                .decode(one.trim())
                .map_err(|_| SecretsError::NotBase64(position))?,
        );
        if bytes.len() < MIN_SECRET_LEN {
            return Err(SecretsError::TooShort(
                position,
                SecretError::TooShort { len: bytes.len() },
            ));
        }
        let secret = HookSecret::from_bytes(&bytes)
            .map_err(|error| SecretsError::Unusable(position, error))?;
        secrets.push(secret);
    }
    if secrets.is_empty() {
        return Err(SecretsError::Empty);
    }
    Ok(secrets)
}

/// The tenants file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    tenant: Vec<TenantEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TenantEntry {
    name: Option<String>,
    issuer: String,
    hook_url: String,
    #[serde(default)]
    secrets: Vec<String>,
    #[serde(default)]
    secret_env: Vec<String>,
}

/// Why the tenants file could not be used. Never shows a secret.
#[derive(Debug)]
pub struct TenantsFileError(pub String);

impl fmt::Display for TenantsFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reads the tenants file's text; `env` looks up environment variables
/// named by `secret_env`.
pub fn parse_tenants_file(
    text: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<TenantConfig>, TenantsFileError> {
    let error = |why: String| TenantsFileError(why);
    // toml's messages quote the offending line, which may hold a secret.
    let file: File = toml::from_str(text).map_err(|parse| {
        let at = parse
            .span()
            .map(|span| format!(" at byte {}", span.start))
            .unwrap_or_default();
        error(format!("not a valid tenants file{at}: {}", parse.message()))
    })?;
    if file.tenant.is_empty() {
        return Err(error("no [[tenant]] in the file".to_owned()));
    }
    let mut tenants = Vec::new();
    for (index, entry) in file.tenant.into_iter().enumerate() {
        let which = entry.name.clone().map_or_else(
            || format!("tenant {}", index + 1),
            |name| format!("tenant {name:?}"),
        );
        let values: Vec<Zeroizing<String>> =
            match (entry.secrets.is_empty(), entry.secret_env.is_empty()) {
                (false, true) => entry.secrets.into_iter().map(Zeroizing::new).collect(),
                (true, false) => entry
                    .secret_env
                    .iter()
                    .map(|name| {
                        env(name).map(Zeroizing::new).ok_or_else(|| {
                            error(format!(
                                "{which}: the environment variable {name} is not set"
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?,
                _ => {
                    return Err(error(format!(
                        "{which}: give either `secrets` or `secret_env`, not both or neither"
                    )));
                }
            };
        let secrets = parse_secrets(values.iter().map(|value| value.as_str()))
            .map_err(|why| error(format!("{which}: {why}")))?;
        tenants.push(TenantConfig {
            name: entry.name,
            issuer: entry.issuer.trim().to_owned(),
            hook_url: entry.hook_url.trim().to_owned(),
            secrets,
        });
    }
    Ok(tenants)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=";
    const TWO: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

    #[test]
    fn secrets_are_read_current_first() {
        let secrets = parse_secrets([ONE, TWO]).unwrap();
        assert_eq!(secrets.len(), 2);
        assert_eq!(
            parse_secrets([ONE, "nope!"]).unwrap_err(),
            SecretsError::NotBase64(2)
        );
        assert!(matches!(
            parse_secrets(["c2hvcnQ="]).unwrap_err(),
            SecretsError::TooShort(1, _)
        ));
        assert_eq!(parse_secrets([]).unwrap_err(), SecretsError::Empty);
        let message = parse_secrets([ONE, "nope!"]).unwrap_err().to_string();
        assert!(
            !message.contains("nope") && !message.contains("dGtU"),
            "{message}"
        );
    }

    #[test]
    fn a_file_with_values_and_environment_names() {
        let text = format!(
            r#"
[[tenant]]
name = "staging"
issuer = "https://s.vii.au01.mattr.global"
hook_url = "https://hook.example.com/interaction"
secret_env = ["S_NEW", "S_OLD"]

[[tenant]]
issuer = "https://p.vii.au01.mattr.global"
hook_url = "https://hook.example.com/interaction"
secrets = ["{ONE}"]
"#
        );
        let env = |name: &str| match name {
            "S_NEW" => Some(TWO.to_owned()),
            "S_OLD" => Some(ONE.to_owned()),
            _ => None,
        };
        let tenants = parse_tenants_file(&text, env).unwrap();
        assert_eq!(tenants.len(), 2);
        assert_eq!(tenants[0].name.as_deref(), Some("staging"));
        assert_eq!(tenants[0].secrets.len(), 2);
        assert_eq!(tenants[1].secrets.len(), 1);
        assert!(!format!("{tenants:?}").contains("dGtU"));
    }

    #[test]
    fn bad_files_say_what_is_wrong_without_secrets() {
        let no_env = |_: &str| None;
        let cases = [
            ("", "no [[tenant]]"),
            (
                "[[tenant]]\nissuer = \"https://t\"\nhook_url = \"https://h/i\"\n",
                "either `secrets` or `secret_env`",
            ),
            (
                "[[tenant]]\nissuer = \"https://t\"\nhook_url = \"https://h/i\"\nsecret_env = [\"MISSING\"]\n",
                "MISSING is not set",
            ),
            (
                &format!(
                    "[[tenant]]\nissuer = \"https://t\"\nhook_url = \"https://h/i\"\nsecrets = [\"{ONE}\", \"x{ONE}\"]\n"
                ),
                "not standard base64 (secret 2)",
            ),
            (
                &format!(
                    "[[tenant]]\nissuer = \"https://t\"\nsecrets = [\"{ONE}\"]\nsecret = \"{ONE}\"\n"
                ),
                "not a valid tenants file",
            ),
        ];
        for (text, expected) in cases {
            let message = match parse_tenants_file(text, no_env) {
                Ok(_) => panic!("{text} was accepted"),
                Err(error) => error.to_string(),
            };
            assert!(message.contains(expected), "{text}: {message}");
            assert!(!message.contains("dGtU"), "a secret was shown: {message}");
        }
    }
}
