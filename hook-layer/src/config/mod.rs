//! The settings every deployment of a hook has, read and checked the same
//! way everywhere: the hook secret (with older ones during a rotation), the
//! tenant URL and this hook's URL, or a file of several tenants. Feature
//! `config`.
//!
//! | variable | meaning |
//! |---|---|
//! | `HOOK_SECRET` | the hook secret, base64, exactly as MATTR VII returned it; during a rotation the current secret first, then older ones still accepted, separated by commas. A placeholder or a documentation's example is refused (see [`HookSecret::from_base64_checked`](crate::HookSecret::from_base64_checked)) |
//! | `HOOK_ISSUER` | the tenant URL, e.g. `https://tenant.vii.au01.mattr.global` (the session token's `iss`) |
//! | `HOOK_URL` | this hook's public URL as configured on the tenant, e.g. `https://hook.example.com/interaction` (the token's `aud`); its path is where the journey is mounted |
//! | `HOOK_TENANTS` | instead of the three above: a TOML file of several tenants (see [`HookSettings::from_tenants_toml`]) |
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use hook_layer::config::HookSettings;
//!
//! # async fn welcome() {}
//! # fn main() -> Result<(), hook_layer::config::ConfigError> {
//! let settings = HookSettings::from_env()?;
//! let app: Router = Router::new()
//!     .route(settings.hook_path(), get(welcome))
//!     .route_layer(settings.layer());
//! # Ok(())
//! # }
//! ```
//!
//! Or, when the layer is all you need, [`InteractionHookLayer::from_env`].
//!
//! Every error names the setting (`HOOK_ISSUER`, or a key in the tenants
//! file such as `HOOK_TENANTS: tenant 2: hook_url`) and says what is
//! wrong, and none ever contains a secret: not when a secret is in the
//! wrong setting, of the wrong type, or under a misspelt key.

mod error;
mod secrets;
mod tenants_file;
mod urls;

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use zeroize::Zeroizing;

pub use error::ConfigError;

use crate::layer::InteractionHookLayer;
use crate::secret::HookSecret;
use crate::tenant::{Tenant, TenantError};
use secrets::{SecretsError, parse_secrets};

/// One tenant: its URL and this hook's URL as written (the layer compares
/// them with the token as URLs), and its secrets, the current one first.
///
/// `Debug` shows how many secrets, never one.
#[derive(Clone)]
pub struct TenantSettings {
    /// A name for logs and for varying the journey per tenant
    /// ([`Tenant::name`]).
    pub name: Option<String>,
    /// The tenant URL (`iss`).
    pub issuer: String,
    /// This hook's URL as configured on the tenant (`aud`).
    pub hook_url: String,
    /// The secrets, current first.
    pub secrets: Vec<HookSecret>,
}

impl fmt::Debug for TenantSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantSettings")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("hook_url", &self.hook_url)
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

/// The tenants a hook serves, checked: each tenant URL an https origin,
/// each hook URL https with the same path (where the journey is mounted),
/// no two tenants with one issuer or one secret.
///
/// `http` is accepted for loopback addresses and `localhost`, for
/// development. `Debug` never shows a secret.
#[derive(Clone)]
pub struct HookSettings {
    tenants: Vec<TenantSettings>,
    hook_path: String,
    layer: InteractionHookLayer,
    /// How errors about these settings name the hook URL.
    hook_url_setting: Cow<'static, str>,
}

impl HookSettings {
    /// Reads the process environment: `HOOK_TENANTS`, or `HOOK_SECRET`,
    /// `HOOK_ISSUER` and `HOOK_URL` (see [`from_vars`](Self::from_vars)).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(environment_variable)
    }

    /// As [`from_env`](Self::from_env), reading each variable through
    /// `lookup` (for tests, or settings from elsewhere). `lookup` also
    /// answers for the variables a tenants file's `secret_env` names.
    ///
    /// An empty value counts as unset. Given both `HOOK_TENANTS` and any of
    /// the other three, it refuses to choose.
    ///
    /// ```
    /// use hook_layer::config::HookSettings;
    ///
    /// # // 32 random bytes in base64, as MATTR VII returns a secret.
    /// # fn generated() -> String {
    /// #     use std::hash::{BuildHasher, RandomState};
    /// #     let key: Vec<u8> = (0..4u64)
    /// #         .flat_map(|i| RandomState::new().hash_one(i).to_le_bytes())
    /// #         .collect();
    /// #     base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key)
    /// # }
    /// # let secret = generated();
    /// // `secret`: the hook secret, base64, as MATTR VII returned it.
    /// let settings = HookSettings::from_vars(|name| match name {
    ///     "HOOK_SECRET" => Some(secret.clone()),
    ///     "HOOK_ISSUER" => Some("https://tenant.vii.au01.mattr.global".into()),
    ///     "HOOK_URL" => Some("https://hook.example.com/interaction".into()),
    ///     _ => None,
    /// })?;
    /// assert_eq!(settings.hook_path(), "/interaction");
    ///
    /// let error = HookSettings::from_vars(|name| {
    ///     (name == "HOOK_ISSUER").then(|| "https://tenant.vii.au01.mattr.global".into())
    /// })
    /// .unwrap_err();
    /// assert_eq!(error.setting(), "HOOK_SECRET");
    /// assert_eq!(error.to_string(), "HOOK_SECRET: required when HOOK_ISSUER or HOOK_URL is set");
    /// # Ok::<(), hook_layer::config::ConfigError>(())
    /// ```
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(Zeroizing::new)
                .filter(|value| !value.trim().is_empty())
        };
        let secret = get("HOOK_SECRET");
        let issuer = get("HOOK_ISSUER");
        let hook_url = get("HOOK_URL");
        if let Some(path) = get("HOOK_TENANTS") {
            if secret.is_some() || issuer.is_some() || hook_url.is_some() {
                return Err(ConfigError::new(
                    "HOOK_TENANTS",
                    "give either a tenants file or HOOK_SECRET, HOOK_ISSUER and HOOK_URL, not both",
                ));
            }
            let text = read_tenants_file(Path::new(path.trim()))?;
            return Self::from_tenants_toml(&text, &lookup);
        }
        let Some(encoded) = secret else {
            // A deployment that set these but lost its secret must not
            // look merely unconfigured.
            let why = if issuer.is_some() || hook_url.is_some() {
                "required when HOOK_ISSUER or HOOK_URL is set"
            } else {
                "required, with HOOK_ISSUER and HOOK_URL (or HOOK_TENANTS instead of all three)"
            };
            return Err(ConfigError::new("HOOK_SECRET", why));
        };
        let secrets = read_secrets(&encoded)?;
        let issuer =
            issuer.ok_or_else(|| ConfigError::new("HOOK_ISSUER", "required with HOOK_SECRET"))?;
        let hook_url =
            hook_url.ok_or_else(|| ConfigError::new("HOOK_URL", "required with HOOK_SECRET"))?;
        Self::for_tenant(TenantSettings {
            name: None,
            issuer: issuer.to_string(),
            hook_url: hook_url.to_string(),
            secrets,
        })
    }

    /// One tenant: `secrets` as `HOOK_SECRET` holds them (base64, the
    /// current first, comma-separated), the tenant URL and this hook's URL.
    /// Errors name `HOOK_SECRET`, `HOOK_ISSUER` and `HOOK_URL`.
    ///
    /// A secret that MATTR VII cannot have generated is refused, as
    /// [`HookSecret::from_base64_checked`] refuses it: a placeholder such
    /// as 32 zero bytes, or an example secret from documentation.
    ///
    /// ```
    /// use hook_layer::config::HookSettings;
    ///
    /// # // 32 random bytes in base64, as MATTR VII returns a secret.
    /// # fn generated() -> String {
    /// #     use std::hash::{BuildHasher, RandomState};
    /// #     let key: Vec<u8> = (0..4u64)
    /// #         .flat_map(|i| RandomState::new().hash_one(i).to_le_bytes())
    /// #         .collect();
    /// #     base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key)
    /// # }
    /// # let secret = generated();
    /// // `secret`: the hook secret, base64, as MATTR VII returned it.
    /// let settings = HookSettings::single(
    ///     &secret,
    ///     "https://tenant.vii.au01.mattr.global",
    ///     "https://abcd.ngrok.app",
    /// )?;
    /// // A hook URL without a path mounts the journey at the root.
    /// assert_eq!(settings.hook_path(), "/");
    ///
    /// let refused = |secret| {
    ///     HookSettings::single(secret, "https://t.example", "https://h.example/i")
    ///         .unwrap_err()
    ///         .to_string()
    /// };
    /// assert!(refused("dGtU").starts_with("HOOK_SECRET: the hook secret decodes to 3 bytes"));
    /// let zeros = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    /// assert!(refused(zeros).starts_with("HOOK_SECRET: the hook secret holds fewer than 16"));
    /// let example = "dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=";
    /// assert!(refused(example).starts_with("HOOK_SECRET: the hook secret is an example"));
    /// # Ok::<(), hook_layer::config::ConfigError>(())
    /// ```
    pub fn single(secrets: &str, issuer: &str, hook_url: &str) -> Result<Self, ConfigError> {
        Self::for_tenant(TenantSettings {
            name: None,
            issuer: issuer.to_owned(),
            hook_url: hook_url.to_owned(),
            secrets: read_secrets(secrets)?,
        })
    }

    /// One tenant, already read; checked as [`single`](Self::single) checks
    /// its settings, and named as it names them.
    pub fn for_tenant(tenant: TenantSettings) -> Result<Self, ConfigError> {
        Self::check(vec![tenant], Naming::Single)
    }

    /// Several tenants (or one), already read, checked as a tenants file's
    /// are; errors name `HOOK_TENANTS` and the tenant's position, e.g.
    /// `HOOK_TENANTS: tenant 2: hook_url`.
    pub fn from_tenants(tenants: Vec<TenantSettings>) -> Result<Self, ConfigError> {
        Self::check(tenants, Naming::File)
    }

    /// Reads a tenants file's text; `env` looks up the environment
    /// variables its `secret_env` entries name.
    ///
    /// One `[[tenant]]` per MATTR VII tenant, each with `issuer`,
    /// `hook_url`, an optional `name`, and its secrets, current first:
    /// either `secrets`, the base64 values themselves, or `secret_env`, the
    /// names of environment variables holding them, so that the file can be
    /// committed. Either takes a list or a single string. Every `hook_url`
    /// must have the same path.
    ///
    /// ```
    /// use hook_layer::config::HookSettings;
    ///
    /// let text = r#"
    /// [[tenant]]
    /// name = "staging"
    /// issuer = "https://acme-staging.vii.au01.mattr.global"
    /// hook_url = "https://hook.example.com/interaction"
    /// secret_env = ["STAGING_HOOK_SECRET", "STAGING_HOOK_SECRET_PREVIOUS"]
    ///
    /// [[tenant]]
    /// name = "production"
    /// issuer = "https://acme.vii.au01.mattr.global"
    /// hook_url = "https://hook.example.com/interaction"
    /// secret_env = "PRODUCTION_HOOK_SECRET"
    /// "#;
    /// # // 32 random bytes in base64, as MATTR VII returns a secret.
    /// # fn generated() -> String {
    /// #     use std::hash::{BuildHasher, RandomState};
    /// #     let key: Vec<u8> = (0..4u64)
    /// #         .flat_map(|i| RandomState::new().hash_one(i).to_le_bytes())
    /// #         .collect();
    /// #     base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key)
    /// # }
    /// # let (staging, staging_previous, production) = (generated(), generated(), generated());
    /// // Each secret as MATTR VII returned it, base64.
    /// let env = |name: &str| match name {
    ///     "STAGING_HOOK_SECRET" => Some(staging.clone()),
    ///     "STAGING_HOOK_SECRET_PREVIOUS" => Some(staging_previous.clone()),
    ///     "PRODUCTION_HOOK_SECRET" => Some(production.clone()),
    ///     _ => None,
    /// };
    /// let settings = HookSettings::from_tenants_toml(text, env)?;
    /// assert_eq!(settings.tenants().len(), 2);
    /// assert_eq!(settings.tenants()[0].secrets.len(), 2);
    ///
    /// let error = HookSettings::from_tenants_toml(
    ///     "[[tenant]]\nissuer = \"https://t.example\"\nhook_url = 5\nsecrets = []\n",
    ///     env,
    /// )
    /// .unwrap_err();
    /// assert_eq!(error.setting(), "HOOK_TENANTS: tenant 1: hook_url");
    /// assert_eq!(error.reason(), "expected a URL string, found an integer");
    /// # Ok::<(), hook_layer::config::ConfigError>(())
    /// ```
    pub fn from_tenants_toml(
        text: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Self::from_tenants(tenants_file::parse(text, &env)?)
    }

    /// Reads the tenants file at `path` (see
    /// [`from_tenants_toml`](Self::from_tenants_toml)), with `secret_env`
    /// looked up in the process environment.
    pub fn from_tenants_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let text = read_tenants_file(path.as_ref())?;
        Self::from_tenants_toml(&text, environment_variable)
    }

    /// The tenants, in the order given; the first is the one a
    /// single-tenant tool (a simulated MATTR VII, say) plays.
    pub fn tenants(&self) -> &[TenantSettings] {
        &self.tenants
    }

    /// The tenants, to change and check again (with
    /// [`for_tenant`](Self::for_tenant) or
    /// [`from_tenants`](Self::from_tenants)).
    pub fn into_tenants(self) -> Vec<TenantSettings> {
        self.tenants
    }

    /// The path every tenant's hook URL has, where the journey is mounted:
    /// `/interaction` for `https://hook.example.com/interaction`, `/` for
    /// `https://abcd.ngrok.app`.
    pub fn hook_path(&self) -> &str {
        &self.hook_path
    }

    /// The layer for these tenants: for one, `InteractionHookLayer::new`
    /// with its issuer, audience and previous secrets; for several (or one
    /// with a name), `InteractionHookLayer::with_tenants`, which chooses
    /// the tenant by each token's issuer. Other settings (leeway, claims
    /// type, rejection page) are the layer's defaults, to change on the
    /// returned value.
    pub fn layer(&self) -> InteractionHookLayer {
        self.layer.clone()
    }

    /// Refuses a hook path that is, or is under, one of `reserved`: paths
    /// the server serves itself (`/healthz`, say), which the journey must
    /// not shadow. The error names the hook URL setting.
    ///
    /// ```
    /// use hook_layer::config::HookSettings;
    ///
    /// # // 32 random bytes in base64, as MATTR VII returns a secret.
    /// # fn generated() -> String {
    /// #     use std::hash::{BuildHasher, RandomState};
    /// #     let key: Vec<u8> = (0..4u64)
    /// #         .flat_map(|i| RandomState::new().hash_one(i).to_le_bytes())
    /// #         .collect();
    /// #     base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key)
    /// # }
    /// # let secret = generated();
    /// let settings = HookSettings::single(
    ///     &secret,
    ///     "https://tenant.vii.au01.mattr.global",
    ///     "https://hook.example.com/healthz/hook",
    /// )?;
    /// let error = settings.check_reserved_paths(&["/healthz"]).unwrap_err();
    /// assert_eq!(error.to_string(), "HOOK_URL: its path collides with the server's own /healthz");
    /// # Ok::<(), hook_layer::config::ConfigError>(())
    /// ```
    pub fn check_reserved_paths(&self, reserved: &[&str]) -> Result<(), ConfigError> {
        let path = self.hook_path.as_str();
        let collides = |reserved: &&&str| {
            path == **reserved
                || path
                    .strip_prefix(**reserved)
                    .is_some_and(|rest| rest.starts_with('/'))
        };
        match reserved.iter().find(collides) {
            Some(reserved) => Err(ConfigError::new(
                self.hook_url_setting.clone(),
                format!("its path collides with the server's own {reserved}"),
            )),
            None => Ok(()),
        }
    }

    /// Checks `tenants`, naming errors as `naming` says.
    fn check(mut tenants: Vec<TenantSettings>, naming: Naming) -> Result<Self, ConfigError> {
        let in_file = |index: usize, error: ConfigError| match naming {
            Naming::File => error.within(&format!("HOOK_TENANTS: tenant {}", index + 1)),
            Naming::Single => error,
        };
        let mut mount: Option<String> = None;
        for (index, tenant) in tenants.iter_mut().enumerate() {
            if tenant.secrets.is_empty() {
                let setting = match naming {
                    Naming::File => "secrets",
                    Naming::Single => "HOOK_SECRET",
                };
                return Err(in_file(
                    index,
                    ConfigError::new(setting, SecretsError::Empty),
                ));
            }
            trim(&mut tenant.issuer);
            trim(&mut tenant.hook_url);
            urls::check_issuer(&tenant.issuer).map_err(|error| in_file(index, error))?;
            let url =
                urls::parse_hook_url(&tenant.hook_url).map_err(|error| in_file(index, error))?;
            match &mount {
                // The journey is mounted once, at the hook URL's path.
                Some(first) if first != url.path() => {
                    return Err(in_file(
                        index,
                        ConfigError::new(
                            "hook_url",
                            format!("every tenant's hook URL must have the path {first}"),
                        ),
                    ));
                }
                Some(_) => {}
                None => mount = Some(url.path().to_owned()),
            }
        }
        let Some(hook_path) = mount else {
            return Err(ConfigError::new(naming.whole(), "no tenant"));
        };
        let layer = layer_for(&tenants).map_err(|error| ConfigError::new(naming.whole(), error))?;
        Ok(Self {
            tenants,
            hook_path,
            layer,
            hook_url_setting: match naming {
                Naming::File => Cow::Borrowed("HOOK_TENANTS: tenant 1: HOOK_URL"),
                Naming::Single => Cow::Borrowed("HOOK_URL"),
            },
        })
    }
}

impl fmt::Debug for HookSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookSettings")
            .field("tenants", &self.tenants)
            .field("hook_path", &self.hook_path)
            .finish_non_exhaustive()
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "config")))]
impl InteractionHookLayer {
    /// The layer for the settings in the environment (`HOOK_SECRET`,
    /// `HOOK_ISSUER` and `HOOK_URL`, or `HOOK_TENANTS`): the one-liner for
    /// [`HookSettings::from_env`] followed by [`HookSettings::layer`].
    /// Feature `config`.
    ///
    /// ```no_run
    /// use hook_layer::InteractionHookLayer;
    ///
    /// let layer = InteractionHookLayer::from_env()?;
    /// # Ok::<(), hook_layer::config::ConfigError>(())
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(HookSettings::from_env()?.layer())
    }
}

/// Where the tenants came from, for naming errors.
#[derive(Clone, Copy)]
enum Naming {
    /// `HOOK_SECRET`, `HOOK_ISSUER` and `HOOK_URL`.
    Single,
    /// `HOOK_TENANTS`, or a list given in code.
    File,
}

impl Naming {
    /// The setting named by errors about the tenants as a whole.
    fn whole(self) -> &'static str {
        match self {
            Self::File => "HOOK_TENANTS",
            Self::Single => "HOOK_SECRET",
        }
    }
}

/// `HOOK_SECRET`'s comma-separated secrets.
fn read_secrets(encoded: &str) -> Result<Vec<HookSecret>, ConfigError> {
    parse_secrets(encoded.split(',')).map_err(|error| ConfigError::new("HOOK_SECRET", error))
}

/// The tenants file's text, wiped when dropped (it may hold secrets).
fn read_tenants_file(path: &Path) -> Result<Zeroizing<String>, ConfigError> {
    // No path is shown, as no setting's value is: HOOK_TENANTS may hold a
    // secret set in the wrong variable. The I/O error's text names none.
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|error| {
            ConfigError::new(
                "HOOK_TENANTS",
                format!("cannot read the file it names: {error}"),
            )
        })
}

/// A variable of the process environment. One that is not UTF-8 is read
/// lossily rather than as unset: it then fails the checks it would have
/// failed anyway, instead of silently counting as absent.
fn environment_variable(name: &str) -> Option<String> {
    std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
}

fn trim(value: &mut String) {
    let trimmed = value.trim();
    if trimmed.len() != value.len() {
        *value = trimmed.to_owned();
    }
}

/// The layer for `tenants`: one, with its secrets, or several, chosen by
/// each token's issuer.
fn layer_for(tenants: &[TenantSettings]) -> Result<InteractionHookLayer, TenantError> {
    if let [single] = tenants
        && single.name.is_none()
    {
        let mut layer = InteractionHookLayer::new(single.secrets[0].clone())
            .issuer(single.issuer.clone())
            .audience(single.hook_url.clone());
        for previous in &single.secrets[1..] {
            layer = layer.previous_secret(previous.clone());
        }
        return Ok(layer);
    }
    InteractionHookLayer::with_tenants(tenants.iter().map(|settings| {
        let mut tenant = Tenant::new(settings.issuer.clone(), settings.secrets[0].clone())
            .audience(settings.hook_url.clone());
        for previous in &settings.secrets[1..] {
            tenant = tenant.previous_secret(previous.clone());
        }
        match &settings.name {
            Some(name) => tenant.name(name.clone()),
            None => tenant,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HookSession;
    use crate::testing::MockIssuer;

    const SECRET: &str = "7cUZfyY1FQ0p9Te5QEwdP1YF/444q5YO/GWJbV0BRS4=";
    const OLD: &str = "XzaUHKqJR/xgvJgYN0u14IJu6aretqp+Dyf3TL17U6Q=";
    const THIRD: &str = "K4RBNgo9EWmYsBNYHWhNTUOELVUDDKY7GgfpWZpX+yM=";

    /// Settings from `vars`, as the environment would hold them.
    fn vars(vars: &[(&str, &str)]) -> Result<HookSettings, ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        HookSettings::from_vars(move |name| {
            vars.iter()
                .find(|(known, _)| known == name)
                .map(|(_, value)| value.clone())
        })
    }

    fn error(list: &[(&str, &str)]) -> String {
        vars(list).unwrap_err().to_string()
    }

    /// `HOOK_SECRET`, `HOOK_ISSUER` and `HOOK_URL`.
    fn single(secret: &str, issuer: &str, hook_url: &str) -> Result<HookSettings, ConfigError> {
        vars(&[
            ("HOOK_SECRET", secret),
            ("HOOK_ISSUER", issuer),
            ("HOOK_URL", hook_url),
        ])
    }

    #[track_caller]
    fn assert_no_secret(message: &str) {
        assert!(
            !message.contains(SECRET) && !message.contains(&SECRET[..8]),
            "a secret was shown: {message}"
        );
    }

    fn secret(encoded: &str) -> HookSecret {
        encoded.parse().unwrap()
    }

    /// A session token signed with `key`, from `tenant`, for `hook_url`.
    fn token(key: &str, tenant: &str, hook_url: &str) -> String {
        MockIssuer::new(secret(key))
            .tenant(tenant)
            .hook_url(hook_url)
            .session()
            .token()
    }

    /// Whether `layer` refuses `token`.
    fn refused(layer: &InteractionHookLayer, token: &str) -> bool {
        layer.verify_token(token).map(|_: HookSession| ()).is_err()
    }

    #[test]
    fn production_settings() {
        let settings = single(
            SECRET,
            " https://t.vii.au01.mattr.global/\r",
            "https://H.example:443/interaction",
        )
        .unwrap();
        let tenant = &settings.tenants()[0];
        assert_eq!(tenant.issuer, "https://t.vii.au01.mattr.global/");
        // The audience is the hook URL as written, as the tenant sends it back.
        assert_eq!(tenant.hook_url, "https://H.example:443/interaction");
        assert_eq!(settings.hook_path(), "/interaction");
        assert_eq!(tenant.name, None);
    }

    #[test]
    fn a_hook_url_without_a_path_mounts_at_the_root() {
        for hook_url in ["https://abcd.ngrok.app", "https://abcd.ngrok.app/"] {
            let settings = single(SECRET, "https://t.example", hook_url).unwrap();
            assert_eq!(settings.hook_path(), "/");
            assert_eq!(settings.tenants()[0].hook_url, hook_url);
        }
    }

    #[test]
    fn url_spellings_are_kept_for_the_layer_to_compare() {
        let settings = single(
            SECRET,
            "https://Tenant.vii.au01.mattr.global:443/",
            "https://HOOK.example/interaction",
        )
        .unwrap();
        let tenant = &settings.tenants()[0];
        assert_eq!(tenant.issuer, "https://Tenant.vii.au01.mattr.global:443/");
        assert_eq!(tenant.hook_url, "https://HOOK.example/interaction");
    }

    #[test]
    fn bad_settings_are_named() {
        assert!(error(&[("HOOK_SECRET", "nope!")]).starts_with("HOOK_SECRET: not standard base64"));
        assert!(
            error(&[("HOOK_SECRET", "c2hvcnQ=")])
                .starts_with("HOOK_SECRET: the hook secret decodes to 5 bytes")
        );
        assert_eq!(
            error(&[("HOOK_SECRET", SECRET)]),
            "HOOK_ISSUER: required with HOOK_SECRET"
        );
        assert_eq!(
            error(&[
                ("HOOK_SECRET", SECRET),
                ("HOOK_ISSUER", "https://t.example")
            ]),
            "HOOK_URL: required with HOOK_SECRET"
        );
        let with = |hook: &str| {
            single(SECRET, "https://t.example", hook)
                .unwrap_err()
                .to_string()
        };
        assert!(with("http://h.example/i").starts_with("HOOK_URL: must be https"));
        assert!(with("https://h.example/i?x=1").starts_with("HOOK_URL: must not have a query"));
        assert!(with("h.example/i").starts_with("HOOK_URL: not an absolute URL"));
        assert!(
            with("https://h.example/interaction/")
                .starts_with("HOOK_URL: must not end with a slash")
        );
        assert!(with("https://h.example/:id").starts_with("HOOK_URL: has a path segment"));
        assert!(with("https://u:p@h.example/i").starts_with("HOOK_URL: must not hold credentials"));
        let tenant = |issuer: &str| {
            single(SECRET, issuer, "https://h.example/i")
                .unwrap_err()
                .to_string()
        };
        assert_eq!(tenant("tenant"), "HOOK_ISSUER: not an absolute URL");
        assert!(tenant("http://t.example").starts_with("HOOK_ISSUER: must be https"));
        assert!(
            tenant("https://t.example/v1").starts_with("HOOK_ISSUER: the tenant URL has no path")
        );
        assert!(
            tenant("https://u@t.example").starts_with("HOOK_ISSUER: must not hold credentials")
        );
        assert_eq!(
            error(&[("HOOK_ISSUER", "https://t.example")]),
            "HOOK_SECRET: required when HOOK_ISSUER or HOOK_URL is set"
        );
        assert_eq!(
            error(&[("HOOK_URL", "https://h.example/i"), ("HOOK_SECRET", " ")]),
            "HOOK_SECRET: required when HOOK_ISSUER or HOOK_URL is set"
        );
        let nothing = vars(&[]).unwrap_err();
        assert_eq!(nothing.setting(), "HOOK_SECRET");
        assert!(nothing.reason().starts_with("required"), "{nothing}");
    }

    #[test]
    fn hook_secret_takes_the_current_secret_then_older_ones() {
        let settings = single(
            &format!("{SECRET}, {OLD}"),
            "https://t.example",
            "https://h.example/i",
        )
        .unwrap();
        assert_eq!(settings.tenants().len(), 1);
        assert_eq!(settings.tenants()[0].secrets.len(), 2);
        let bad = single(
            &format!("{SECRET},nope!"),
            "https://t.example",
            "https://h.example/i",
        )
        .unwrap_err()
        .to_string();
        assert!(
            bad.starts_with("HOOK_SECRET: not standard base64 (secret 2)"),
            "{bad}"
        );
        assert!(!bad.contains("7cUZ"), "{bad}");
    }

    /// A placeholder or a published example is refused wherever a secret
    /// is read from settings, by its setting and position, never shown.
    #[test]
    fn weak_secrets_are_refused_wherever_they_are_read() {
        const ZEROS: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        const EXAMPLE: &str = "dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=";
        const FEW: &str = "the hook secret holds fewer than 16 distinct byte values";
        const PUBLISHED: &str = "the hook secret is an example from documentation";
        let file = |secrets: &str| {
            format!(
                "[[tenant]]\nissuer = \"https://t.example\"\nhook_url = \"https://h.example/i\"\n{secrets}\n"
            )
        };
        let env = |name: &str| (name == "S").then(|| EXAMPLE.to_owned());
        let cases = [
            (
                single(ZEROS, "https://t.example", "https://h.example/i"),
                format!("HOOK_SECRET: {FEW}"),
                "(secret 1)",
            ),
            (
                single(
                    &format!("{SECRET},{EXAMPLE}"),
                    "https://t.example",
                    "https://h.example/i",
                ),
                format!("HOOK_SECRET: {PUBLISHED}"),
                "(secret 2)",
            ),
            (
                HookSettings::from_tenants_toml(&file(&format!("secrets = [\"{ZEROS}\"]")), env),
                format!("HOOK_TENANTS: tenant 1: secrets: {FEW}"),
                "(secret 1)",
            ),
            (
                HookSettings::from_tenants_toml(&file("secret_env = [\"S\"]"), env),
                format!("HOOK_TENANTS: tenant 1: secret_env: {PUBLISHED}"),
                "(secret 1)",
            ),
        ];
        for (result, start, end) in cases {
            let message = result.unwrap_err().to_string();
            assert!(message.starts_with(&start), "{message}");
            assert!(message.ends_with(end), "{message}");
            assert!(
                !message.contains(&ZEROS[..8]) && !message.contains(&EXAMPLE[..8]),
                "a secret was shown: {message}"
            );
        }
        // Secrets built in code are the application's to choose, as tests
        // and mock issuers do.
        let weak = HookSecret::from_bytes(&[7; 32]).unwrap();
        let settings = HookSettings::for_tenant(TenantSettings {
            name: None,
            issuer: "https://t.example".into(),
            hook_url: "https://h.example/i".into(),
            secrets: vec![weak],
        });
        assert!(settings.is_ok());
    }

    #[test]
    fn single_is_from_vars_without_the_environment() {
        let settings =
            HookSettings::single(SECRET, "https://t.example", "https://h.example/i").unwrap();
        assert_eq!(settings.hook_path(), "/i");
        let error =
            HookSettings::single("", "https://t.example", "https://h.example/i").unwrap_err();
        assert_eq!(error.setting(), "HOOK_SECRET");
    }

    #[test]
    fn the_layer_verifies_with_every_secret_of_the_tenant() {
        let settings = single(
            &format!("{SECRET},{OLD}"),
            "https://t.example",
            "https://h.example/i",
        )
        .unwrap();
        let layer = settings.layer();
        for key in [SECRET, OLD] {
            let token = token(key, "https://t.example", "https://h.example/i");
            let session: HookSession = layer.verify_token(&token).unwrap();
            assert_eq!(session.tenant().issuer(), "https://t.example");
        }
        let elsewhere = token(SECRET, "https://t.example", "https://other.example/i");
        assert!(refused(&layer, &elsewhere));
        let stranger = token(THIRD, "https://t.example", "https://h.example/i");
        assert!(refused(&layer, &stranger));
    }

    fn tenant(name: Option<&str>, issuer: &str, hook_url: &str, keys: &[&str]) -> TenantSettings {
        TenantSettings {
            name: name.map(str::to_owned),
            issuer: issuer.to_owned(),
            hook_url: hook_url.to_owned(),
            secrets: keys.iter().copied().map(secret).collect(),
        }
    }

    #[test]
    fn several_tenants_each_with_their_own() {
        let settings = HookSettings::from_tenants(vec![
            tenant(
                Some("a"),
                "https://a.example",
                "https://hook.example/interaction",
                &[SECRET, OLD],
            ),
            tenant(
                None,
                "https://b.example",
                "https://other.example/interaction",
                &[THIRD],
            ),
        ])
        .unwrap();
        assert_eq!(settings.hook_path(), "/interaction");
        let layer = settings.layer();
        let from_b = token(
            THIRD,
            "https://b.example",
            "https://other.example/interaction",
        );
        let session: HookSession = layer.verify_token(&from_b).unwrap();
        assert_eq!(session.tenant().issuer(), "https://b.example");
        // B's secret does not speak for A.
        let forged = token(
            THIRD,
            "https://a.example",
            "https://hook.example/interaction",
        );
        assert!(refused(&layer, &forged));
        assert!(!format!("{settings:?}").contains("7cUZ"));
    }

    #[test]
    fn a_single_named_tenant_keeps_its_name() {
        let settings = HookSettings::from_tenants(vec![tenant(
            Some("staging"),
            "https://a.example",
            "https://hook.example/i",
            &[SECRET],
        )])
        .unwrap();
        let token = token(SECRET, "https://a.example", "https://hook.example/i");
        let session: HookSession = settings.layer().verify_token(&token).unwrap();
        assert_eq!(session.tenant().tenant_name(), Some("staging"));
    }

    #[test]
    fn bad_tenants_are_named() {
        let cases = [
            (
                vec![
                    tenant(
                        None,
                        "https://a.example",
                        "https://hook.example/interaction",
                        &[SECRET],
                    ),
                    tenant(
                        None,
                        "https://b.example",
                        "https://hook.example/other",
                        &[OLD],
                    ),
                ],
                "HOOK_TENANTS: tenant 2: hook_url: every tenant's hook URL must have the path /interaction",
            ),
            (
                vec![
                    tenant(
                        None,
                        "https://a.example",
                        "https://hook.example/i",
                        &[SECRET],
                    ),
                    tenant(None, "https://A.example/", "https://hook.example/i", &[OLD]),
                ],
                "HOOK_TENANTS: two tenants have the issuer",
            ),
            (
                vec![
                    tenant(
                        None,
                        "https://a.example",
                        "https://hook.example/i",
                        &[SECRET],
                    ),
                    tenant(
                        None,
                        "https://b.example",
                        "https://hook.example/i",
                        &[THIRD, SECRET],
                    ),
                ],
                "HOOK_TENANTS: the tenants https://a.example and https://b.example share a secret",
            ),
            (
                vec![tenant(
                    None,
                    "http://a.example",
                    "https://hook.example/i",
                    &[SECRET],
                )],
                "HOOK_TENANTS: tenant 1: HOOK_ISSUER: must be https",
            ),
            (
                vec![tenant(
                    None,
                    "https://a.example",
                    "https://hook.example/i",
                    &[],
                )],
                "HOOK_TENANTS: tenant 1: secrets: no secret given",
            ),
            (Vec::new(), "HOOK_TENANTS: no tenant"),
        ];
        for (tenants, expected) in cases {
            let message = HookSettings::from_tenants(tenants).unwrap_err().to_string();
            assert!(message.starts_with(expected), "{message}");
            assert_no_secret(&message);
        }
        let none = HookSettings::for_tenant(tenant(
            None,
            "https://a.example",
            "https://h.example/i",
            &[],
        ));
        assert_eq!(
            none.unwrap_err().to_string(),
            "HOOK_SECRET: no secret given"
        );
    }

    #[test]
    fn reserved_paths_are_refused_by_their_setting() {
        let settings = single(SECRET, "https://t.example", "https://h.example/dev/hook").unwrap();
        assert_eq!(
            settings
                .check_reserved_paths(&["/healthz", "/dev"])
                .unwrap_err()
                .to_string(),
            "HOOK_URL: its path collides with the server's own /dev"
        );
        let settings = single(SECRET, "https://t.example", "https://h.example/devices").unwrap();
        assert!(settings.check_reserved_paths(&["/dev"]).is_ok());
        let settings = single(SECRET, "https://t.example", "https://h.example").unwrap();
        assert!(settings.check_reserved_paths(&["/dev"]).is_ok());
        let file = HookSettings::from_tenants(vec![tenant(
            None,
            "https://a.example",
            "https://h.example/healthz",
            &[SECRET],
        )])
        .unwrap();
        assert_eq!(
            file.check_reserved_paths(&["/healthz"])
                .unwrap_err()
                .to_string(),
            "HOOK_TENANTS: tenant 1: HOOK_URL: its path collides with the server's own /healthz"
        );
    }

    /// A tenants file in a fresh temporary directory, removed on drop.
    struct TenantsFile(std::path::PathBuf);

    impl TenantsFile {
        fn new(text: &str) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static COUNT: AtomicUsize = AtomicUsize::new(0);
            let name = format!(
                "hook-layer-tenants-{}-{}.toml",
                std::process::id(),
                COUNT.fetch_add(1, Ordering::Relaxed)
            );
            let path = std::env::temp_dir().join(name);
            std::fs::write(&path, text).unwrap();
            Self(path)
        }
    }

    impl Drop for TenantsFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn hook_tenants_names_a_file() {
        let file = TenantsFile::new(
            "[[tenant]]\nissuer = \"https://a.example\"\nhook_url = \"https://h.example/i\"\nsecret_env = \"A_SECRET\"\n",
        );
        let path = file.0.to_str().unwrap();
        let env = |name: &str| match name {
            "HOOK_TENANTS" => Some(path.to_owned()),
            "A_SECRET" => Some(SECRET.to_owned()),
            _ => None,
        };
        let settings = HookSettings::from_vars(env).unwrap();
        assert_eq!(settings.tenants()[0].secrets.len(), 1);
        assert_eq!(settings.hook_path(), "/i");

        let both = HookSettings::from_vars(|name| match name {
            "HOOK_SECRET" => Some(SECRET.to_owned()),
            other => env(other),
        })
        .unwrap_err()
        .to_string();
        assert!(
            both.starts_with("HOOK_TENANTS: give either a tenants file"),
            "{both}"
        );
        assert_no_secret(&both);

        // The file alone reads `secret_env` from the process environment,
        // where A_SECRET is not set.
        let alone = HookSettings::from_tenants_file(&file.0)
            .unwrap_err()
            .to_string();
        assert_eq!(
            alone,
            "HOOK_TENANTS: tenant 1: secret_env: the environment variable A_SECRET is not set"
        );

        let missing = error(&[("HOOK_TENANTS", "/nonexistent/tenants.toml")]);
        assert!(
            missing.starts_with("HOOK_TENANTS: cannot read the file it names: "),
            "{missing}"
        );
        assert!(!missing.contains("nonexistent"), "{missing}");
    }

    /// A secret given in a setting that is not for secrets is never shown.
    #[test]
    fn a_secret_in_the_wrong_variable_is_never_shown() {
        let cases = [
            single(OLD, SECRET, "https://h.example/i"),
            single(OLD, "https://t.example", SECRET),
            single(OLD, &format!("https://{SECRET}"), "https://h.example/i"),
            single(
                OLD,
                "https://t.example",
                &format!("https://{}@h.example/i", SECRET.replace('/', "_")),
            ),
            single(
                &format!("{SECRET}x"),
                "https://t.example",
                "https://h.example/i",
            ),
            single(
                &format!("{OLD} {SECRET}"),
                "https://t.example",
                "https://h.example/i",
            ),
            vars(&[("HOOK_TENANTS", SECRET)]),
            vars(&[("HOOK_TENANTS", &format!("/run/{SECRET}"))]),
            vars(&[("HOOK_TENANTS", &format!("{SECRET},{OLD}"))]),
            vars(&[
                ("HOOK_TENANTS", "/tmp/tenants.toml"),
                ("HOOK_ISSUER", SECRET),
            ]),
        ];
        for result in cases {
            let message = result.unwrap_err().to_string();
            assert_no_secret(&message);
        }
        let settings = HookSettings::single(SECRET, "https://t.example", "https://h.example/i");
        assert_no_secret(&format!("{settings:?}"));
    }
}
