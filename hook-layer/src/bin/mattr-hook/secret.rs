//! The hook secret, from `HOOK_SECRET` alone, read as the `config` feature
//! reads it: standard base64, a comma list during a rotation.

use hook_layer::HookSecret;

use crate::usage::UsageError;

const VARIABLE: &str = "HOOK_SECRET";

/// The secrets, the current one first.
pub struct Secrets(Vec<HookSecret>);

impl Secrets {
    /// The current secret: the one tokens are minted with.
    pub fn current(&self) -> HookSecret {
        self.0[0].clone()
    }

    /// Every secret, the current one first.
    pub fn all(&self) -> &[HookSecret] {
        &self.0
    }
}

/// Reads `HOOK_SECRET`. A missing, empty, non-base64 or short secret is bad
/// usage. A weak one (a placeholder, a published example) is only warned
/// about: this command plays the tenant for tests, whose fixtures use such
/// keys, and a hook that guards anything refuses them itself.
pub fn from_env() -> Result<Secrets, UsageError> {
    let Some(value) = std::env::var_os(VARIABLE) else {
        return Err(UsageError::new(
            VARIABLE,
            "not set; export the hook secret (base64, as MATTR VII returned it)",
        ));
    };
    let Some(value) = value.to_str() else {
        return Err(UsageError::new(VARIABLE, "not UTF-8"));
    };
    read(value)
}

/// Reads a comma list of secrets.
pub fn read(value: &str) -> Result<Secrets, UsageError> {
    let mut secrets = Vec::new();
    for (index, piece) in value.split(',').enumerate() {
        let position = index + 1;
        if piece.trim().is_empty() {
            return Err(UsageError::new(
                VARIABLE,
                format!("secret {position} is empty"),
            ));
        }
        let secret = HookSecret::from_base64(piece)
            .map_err(|error| UsageError::new(VARIABLE, format!("{error} (secret {position})")))?;
        if let Err(error) = HookSecret::from_base64_checked(piece) {
            eprintln!(
                "mattr-hook: warning: {VARIABLE}: {error} (secret {position}); fine for tests, never for a tenant"
            );
        }
        secrets.push(secret);
    }
    Ok(Secrets(secrets))
}
