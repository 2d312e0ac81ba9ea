//! The configuration the app runs with: the settings of [`Args`], read
//! and checked.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use hook_layer::HookSecret;
use hook_layer::attempts::{AttemptStore, MemoryStore};
pub use hook_layer::config::ConfigError;
use hook_layer::config::{HookSettings, TenantSettings};
use url::Url;
#[cfg(feature = "dev")]
use zeroize::Zeroizing;

pub use crate::args::{Args, LogFormat};
use crate::webhook_settings::{Given, WebhookSettings};

/// Everything the app needs, validated: the hook settings every
/// deployment has (read by `hook_layer::config`), plus this server's own.
#[derive(Clone)]
pub struct Config {
    /// The tenants the hook serves, each with its secrets (current first),
    /// the path the journey is mounted at, and the layer for them. The
    /// simulated MATTR VII of dev mode plays the first tenant.
    pub settings: HookSettings,
    /// Where attempt counts live: memory by default, Redis when configured.
    pub attempts: Arc<dyn AttemptStore>,
    /// `"memory"`, `"redis"` or `"redis-cluster"`, for logs.
    pub attempts_kind: &'static str,
    /// Serve the simulated MATTR VII under `/dev` and show one-time codes
    /// (`dev` feature only).
    #[cfg(feature = "dev")]
    pub dev_issuer: bool,
    /// The secret was generated here (dev mode without HOOK_SECRET), not
    /// configured: the simulated MATTR VII then signs with nothing real.
    #[cfg(feature = "dev")]
    random_secret: bool,
    /// Serve the unguarded welcome page for load tests.
    pub load_test_routes: bool,
    /// The webhook endpoint, when `HOOK_WEBHOOK_ID` is set or in dev mode.
    pub webhook: Option<WebhookSettings>,
}

impl Config {
    /// A configuration from a secret's bytes and the two URLs. `dev_issuer`
    /// needs the `dev` feature: without it, `true` is an error.
    pub fn new(
        secret: &[u8],
        issuer: &str,
        hook_url: &str,
        dev_issuer: bool,
    ) -> Result<Self, ConfigError> {
        let hook_secret = HookSecret::from_bytes(secret)
            .map_err(|error| ConfigError::new("HOOK_SECRET", error))?;
        let settings = HookSettings::for_tenant(TenantSettings {
            name: None,
            issuer: issuer.to_owned(),
            hook_url: hook_url.to_owned(),
            secrets: vec![hook_secret],
        })?;
        Self::with_settings(settings, dev_issuer)
    }

    /// A configuration serving `tenants` (each checked as `HOOK_ISSUER`
    /// and `HOOK_URL` are; their hook URLs must share one path, where the
    /// journey is mounted).
    pub fn for_tenants(
        tenants: Vec<TenantSettings>,
        dev_issuer: bool,
    ) -> Result<Self, ConfigError> {
        Self::with_settings(HookSettings::from_tenants(tenants)?, dev_issuer)
    }

    /// A configuration for checked `settings`, with this server's own
    /// checks: the journey must not shadow the server's other paths.
    pub fn with_settings(settings: HookSettings, dev_issuer: bool) -> Result<Self, ConfigError> {
        #[cfg(not(feature = "dev"))]
        if dev_issuer {
            return Err(ConfigError::new("--dev-issuer", NO_DEV_MODE));
        }
        settings.check_reserved_paths(&RESERVED_PATHS)?;
        Ok(Self {
            settings,
            attempts: Arc::new(MemoryStore::default()),
            attempts_kind: MEMORY,
            #[cfg(feature = "dev")]
            dev_issuer,
            #[cfg(feature = "dev")]
            random_secret: false,
            load_test_routes: false,
            webhook: None,
        })
    }

    /// Also accepts `previous` secrets for the first tenant, as during a
    /// rotation; the current one stays first.
    pub fn with_previous_secrets(self, previous: Vec<HookSecret>) -> Result<Self, ConfigError> {
        let mut tenants = self.settings.into_tenants();
        if let Some(first) = tenants.first_mut() {
            first.secrets.extend(previous);
        }
        let settings = match <[TenantSettings; 1]>::try_from(tenants) {
            Ok([single]) => HookSettings::for_tenant(single)?,
            Err(several) => HookSettings::from_tenants(several)?,
        };
        Ok(Self { settings, ..self })
    }

    /// Dev mode: a random secret, this server as the tenant, and the hook at
    /// `/interaction` on the address it listens on.
    #[cfg(feature = "dev")]
    pub fn dev(local: SocketAddr) -> Result<Self, ConfigError> {
        // The simulated MATTR VII mints valid session tokens for anyone who
        // asks, so its pages are for this machine's browser only: not on
        // another interface, and not on all of them (0.0.0.0 or [::]).
        if !local.ip().is_loopback() {
            return Err(ConfigError::new(
                "HOOK_BIND",
                format!(
                    "dev mode (no HOOK_SECRET) listens on a loopback address only, \
                     e.g. 127.0.0.1:{}, not {local}",
                    local.port()
                ),
            ));
        }
        let mut secret = Zeroizing::new([0u8; hook_layer::MIN_SECRET_LEN]);
        getrandom::fill(&mut *secret).map_err(|error| ConfigError::new("HOOK_SECRET", error))?;
        let base = base_url(local);
        let config = Self::new(&*secret, &base, &format!("{base}/interaction"), true)?;
        let mut config = Self {
            random_secret: true,
            ..config
        };
        config.webhook = config.webhook_settings(&Given::default(), local)?;
        Ok(config)
    }

    /// Reads the command line and environment, given the bound address.
    pub fn from_args(args: &Args, local: SocketAddr) -> Result<Self, ConfigError> {
        let mut config = Self::from_settings(args, local)?;
        #[cfg(feature = "dev")]
        config.check_bind(local)?;
        config.load_test_routes = args.load_test_routes;
        config.webhook = config.webhook_settings(&Given::from_args(args), local)?;
        Ok(config)
    }

    fn from_settings(args: &Args, local: SocketAddr) -> Result<Self, ConfigError> {
        #[cfg(feature = "dev")]
        let dev_issuer = args.dev_issuer;
        #[cfg(not(feature = "dev"))]
        let dev_issuer = false;
        let none = args.secret.is_none()
            && args.issuer.is_none()
            && args.hook_url.is_none()
            && args.tenants.is_none();
        if none {
            #[cfg(feature = "dev")]
            return Self::dev(local);
            #[cfg(not(feature = "dev"))]
            {
                // Only dev mode uses the address to build its URLs.
                let _ = local;
                return Err(ConfigError::new(
                    "HOOK_SECRET",
                    format!("required: {NO_DEV_MODE}"),
                ));
            }
        }
        // The library reads the settings; clap has already taken them from
        // the command line or the environment.
        let settings = HookSettings::from_vars(|name| match name {
            "HOOK_SECRET" => args.secret.clone(),
            "HOOK_ISSUER" => args.issuer.clone(),
            "HOOK_URL" => args.hook_url.clone(),
            "HOOK_TENANTS" => args
                .tenants
                .as_ref()
                .map(|path| path.to_string_lossy().into_owned()),
            // The variables a tenants file's `secret_env` names.
            other => std::env::var_os(other).map(|value| value.to_string_lossy().into_owned()),
        })?;
        Self::with_settings(settings, dev_issuer)
    }

    /// The webhook endpoint for `given` settings, clear of the journey and
    /// the server's own paths; in dev mode, the simulated MATTR VII's
    /// webhook on this server at `local` unless told otherwise.
    fn webhook_settings(
        &self,
        given: &Given<'_>,
        local: SocketAddr,
    ) -> Result<Option<WebhookSettings>, ConfigError> {
        #[cfg(feature = "dev")]
        let dev = self.dev_issuer.then_some(local);
        #[cfg(not(feature = "dev"))]
        let dev = {
            let _ = local;
            None
        };
        let mut reserved = RESERVED_PATHS.to_vec();
        // A journey at the root leaves other paths free.
        if self.hook_path() != "/" {
            reserved.push(self.hook_path());
        }
        WebhookSettings::resolve(given, self.tenant(), &reserved, dev)
    }

    /// The simulated MATTR VII mints valid session tokens for anyone who
    /// asks and shows one-time codes on screen: with a configured secret,
    /// tokens the real tenant's would be. Whenever it is on, the server
    /// listens on a loopback address only.
    #[cfg(feature = "dev")]
    fn check_bind(&self, local: SocketAddr) -> Result<(), ConfigError> {
        if !self.dev_issuer || local.ip().is_loopback() {
            return Ok(());
        }
        Err(ConfigError::new(
            "HOOK_BIND",
            format!(
                "--dev-issuer serves a simulated MATTR VII that mints session tokens signed \
                 with the configured secret and shows one-time codes on screen, so it listens \
                 on a loopback address only, e.g. 127.0.0.1:{}, not {local}; drop --dev-issuer \
                 to serve beyond this machine",
                local.port()
            ),
        ))
    }

    /// Whether the simulated MATTR VII signs with a configured (real)
    /// secret rather than one generated for dev mode: worth a warning.
    pub fn dev_issuer_uses_configured_secret(&self) -> bool {
        #[cfg(feature = "dev")]
        return self.dev_issuer && !self.random_secret;
        #[cfg(not(feature = "dev"))]
        false
    }

    /// Whether the secret is a real tenant's (configured), yet attempt
    /// counts and answers live in this process's memory: fine for one
    /// process that never restarts mid-journey, not for replicas or
    /// deploys, so worth a warning. Dev mode's generated secret is not.
    pub fn keeps_real_counts_in_memory(&self) -> bool {
        #[cfg(feature = "dev")]
        let configured = !self.random_secret;
        #[cfg(not(feature = "dev"))]
        let configured = true;
        configured && self.attempts_in_memory()
    }

    /// Whether the attempt store is this process's memory, which answers
    /// every call at once, without waiting on anything.
    pub fn attempts_in_memory(&self) -> bool {
        self.attempts_kind == MEMORY
    }

    /// Keeps attempt counts in `store` instead of this process's memory.
    pub fn with_attempt_store(mut self, store: Arc<dyn AttemptStore>, kind: &'static str) -> Self {
        self.attempts = store;
        self.attempts_kind = kind;
        self
    }

    /// Connects to the Redis of `--redis-url` (one server) or
    /// `--redis-cluster-urls` (a cluster), if either is set, trusting the CA
    /// of `--redis-ca-file` if set, and keeps attempt counts there. A Redis
    /// that cannot be reached is a configuration error, as are both
    /// settings at once: the hook must not start with limits it cannot
    /// keep. No error shows a URL (it may hold a password).
    pub async fn connect_store(self, args: &Args) -> Result<Self, ConfigError> {
        Ok(match crate::store::connect(args).await? {
            Some((store, kind)) => self.with_attempt_store(store, kind),
            None => self,
        })
    }

    /// The first tenant: the one the simulated MATTR VII plays.
    pub fn tenant(&self) -> &TenantSettings {
        &self.settings.tenants()[0]
    }

    /// The path of every tenant's hook URL, where the journey is mounted.
    pub fn hook_path(&self) -> &str {
        self.settings.hook_path()
    }

    /// Where the browser reaches this server, e.g. `http://127.0.0.1:3000`:
    /// the origin of the first tenant's hook URL.
    pub fn base_url(&self) -> String {
        Url::parse(&self.tenant().hook_url)
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_default()
    }
}

/// [`Config::attempts_kind`] for this process's memory.
const MEMORY: &str = "memory";

/// Why a build without the `dev` feature needs a secret.
#[cfg(not(feature = "dev"))]
const NO_DEV_MODE: &str = "this build has no dev mode (it was built without the `dev` feature)";

/// `http://<addr>`.
#[cfg(feature = "dev")]
fn base_url(local: SocketAddr) -> String {
    format!("http://{local}")
}

/// Paths the server uses itself, which the journey must not shadow.
const RESERVED_PATHS: [&str; 5] = ["/healthz", "/readyz", "/assets", "/dev", "/load-test"];

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Config");
        debug
            .field("settings", &self.settings)
            .field("attempts", &self.attempts_kind);
        #[cfg(feature = "dev")]
        debug.field("dev_issuer", &self.dev_issuer);
        debug
            .field("load_test_routes", &self.load_test_routes)
            .field("webhook", &self.webhook)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    const SECRET: &str = "7cUZfyY1FQ0p9Te5QEwdP1YF/444q5YO/GWJbV0BRS4=";
    const LOCAL: &str = "127.0.0.1:3000";

    fn args(list: &[&str]) -> Args {
        Args::try_parse_from(std::iter::once("example-server").chain(list.iter().copied())).unwrap()
    }

    fn error(list: &[&str]) -> String {
        Config::from_args(&args(list), LOCAL.parse().unwrap())
            .unwrap_err()
            .to_string()
    }

    #[cfg(feature = "dev")]
    #[test]
    fn no_secret_means_dev_mode() {
        let config = Config::from_args(&args(&[]), LOCAL.parse().unwrap()).unwrap();
        assert!(config.dev_issuer);
        assert_eq!(config.tenant().issuer, "http://127.0.0.1:3000");
        assert_eq!(
            config.tenant().hook_url,
            "http://127.0.0.1:3000/interaction"
        );
        let v6 = Config::dev("[::1]:8080".parse().unwrap()).unwrap();
        assert_eq!(v6.base_url(), "http://[::1]:8080");
        // The simulated MATTR VII's webhook, its keys on this server.
        let webhook = config.webhook.unwrap();
        assert_eq!(webhook.id, "dev-webhook");
        assert_eq!(
            webhook.jwks_url,
            "http://127.0.0.1:3000/dev/v1/webhooks/jwks"
        );
    }

    #[cfg(feature = "dev")]
    #[test]
    fn dev_mode_listens_on_loopback_only() {
        for bind in ["0.0.0.0:3918", "[::]:3918", "192.0.2.10:3000"] {
            let error = Config::from_args(&args(&[]), bind.parse().unwrap()).unwrap_err();
            let message = error.to_string();
            assert!(message.starts_with("HOOK_BIND: dev mode"), "{message}");
            assert!(message.contains(bind), "{message}");
        }
    }

    /// A real secret with `--dev-issuer`: the simulated MATTR VII would mint
    /// tokens signed with it for anyone who can reach the server, so the
    /// server must not listen beyond this machine.
    #[cfg(feature = "dev")]
    #[test]
    fn the_dev_issuer_with_a_configured_secret_listens_on_loopback_only() {
        let list = [
            "--secret",
            SECRET,
            "--issuer",
            "https://t.example",
            "--hook-url",
            "https://h.example/i",
            "--dev-issuer",
        ];
        let file = TenantsFile::new(&tenant(
            "https://a.example",
            "https://h.example/i",
            &[SECRET],
        ));
        for bind in ["0.0.0.0:3918", "[::]:3918", "192.0.2.10:3000"] {
            let local = bind.parse().unwrap();
            let from_file = file.load_at(&["--dev-issuer"], local);
            for error in [Config::from_args(&args(&list), local), from_file] {
                let error = error.unwrap_err();
                assert_eq!(error.setting(), "HOOK_BIND");
                let message = error.to_string();
                assert!(message.contains("--dev-issuer"), "{message}");
                assert!(message.contains(bind), "{message}");
                assert!(!message.contains(&SECRET[..8]), "{message}");
            }
        }
        // On loopback it starts, and knows that its secret is a real one.
        for bind in [LOCAL, "[::1]:3000"] {
            let config = Config::from_args(&args(&list), bind.parse().unwrap()).unwrap();
            assert!(config.dev_issuer && config.dev_issuer_uses_configured_secret());
        }
        // Without --dev-issuer, anywhere.
        let config = Config::from_args(&args(&list[..6]), "0.0.0.0:3000".parse().unwrap()).unwrap();
        assert!(!config.dev_issuer && !config.dev_issuer_uses_configured_secret());
        // Dev mode's secret is generated, nothing real.
        let dev = Config::dev(LOCAL.parse().unwrap()).unwrap();
        assert!(dev.dev_issuer && !dev.dev_issuer_uses_configured_secret());
    }

    fn production(issuer: &str, hook_url: &str) -> Result<Config, ConfigError> {
        let list = [
            "--secret",
            SECRET,
            "--issuer",
            issuer,
            "--hook-url",
            hook_url,
        ];
        Config::from_args(&args(&list), LOCAL.parse().unwrap())
    }

    #[test]
    fn a_hook_url_without_a_path_mounts_at_the_root() {
        for hook_url in ["https://abcd.ngrok.app", "https://abcd.ngrok.app/"] {
            let config = production("https://t.example", hook_url).unwrap();
            assert_eq!(config.hook_path(), "/");
            assert_eq!(config.tenant().hook_url, hook_url);
        }
    }

    #[test]
    fn url_spellings_are_kept_for_the_layer_to_compare() {
        let config = production(
            "https://Tenant.vii.au01.mattr.global:443/",
            "https://HOOK.example/interaction",
        )
        .unwrap();
        assert_eq!(
            config.tenant().issuer,
            "https://Tenant.vii.au01.mattr.global:443/"
        );
        assert_eq!(config.tenant().hook_url, "https://HOOK.example/interaction");
    }

    #[test]
    fn production_settings() {
        let list = [
            "--secret",
            SECRET,
            "--issuer",
            " https://t.vii.au01.mattr.global/\r",
            "--hook-url",
            "https://H.example:443/interaction",
        ];
        let config = Config::from_args(&args(&list), LOCAL.parse().unwrap()).unwrap();
        assert_eq!(config.tenant().issuer, "https://t.vii.au01.mattr.global/");
        // The audience is the hook URL as written, as the tenant sends it back.
        assert_eq!(
            config.tenant().hook_url,
            "https://H.example:443/interaction"
        );
        assert_eq!(config.hook_path(), "/interaction");
        // No webhook route without HOOK_WEBHOOK_ID.
        assert_eq!(config.webhook, None);
        #[cfg(feature = "dev")]
        {
            assert!(!config.dev_issuer);
            let with_dev = Config::from_args(
                &args(&[&list[..], &["--dev-issuer"]].concat()),
                LOCAL.parse().unwrap(),
            )
            .unwrap();
            assert!(with_dev.dev_issuer);
        }
    }

    #[cfg(not(feature = "dev"))]
    #[test]
    fn without_the_dev_feature_there_is_no_dev_mode() {
        assert_eq!(
            error(&[]),
            "HOOK_SECRET: required: this build has no dev mode (it was built without the `dev` feature)"
        );
        assert!(Args::try_parse_from(["example-server", "--dev-issuer"]).is_err());
        let dev = Config::new(&[7; 32], "https://t.example", "https://h.example/i", true);
        assert!(dev.unwrap_err().to_string().starts_with("--dev-issuer: "));
    }

    #[test]
    fn bad_settings_are_named() {
        assert!(error(&["--secret", "nope!"]).starts_with("HOOK_SECRET: not standard base64"));
        assert!(
            error(&["--secret", "c2hvcnQ="])
                .starts_with("HOOK_SECRET: the hook secret decodes to 5 bytes")
        );
        assert_eq!(
            error(&["--secret", SECRET]),
            "HOOK_ISSUER: required with HOOK_SECRET"
        );
        assert_eq!(
            error(&["--secret", SECRET, "--issuer", "https://t.example"]),
            "HOOK_URL: required with HOOK_SECRET"
        );
        let with = |hook: &str| {
            error(&[
                "--secret",
                SECRET,
                "--issuer",
                "https://t.example",
                "--hook-url",
                hook,
            ])
        };
        assert!(with("http://h.example/i").starts_with("HOOK_URL: must be https"));
        assert!(with("https://h.example/i?x=1").starts_with("HOOK_URL: must not have a query"));
        assert!(with("h.example/i").starts_with("HOOK_URL: not an absolute URL"));
        let issuer = error(&[
            "--secret",
            SECRET,
            "--issuer",
            "tenant",
            "--hook-url",
            "https://h.example/i",
        ]);
        assert_eq!(issuer, "HOOK_ISSUER: not an absolute URL");
        let tenant = |issuer: &str| {
            error(&[
                "--secret",
                SECRET,
                "--issuer",
                issuer,
                "--hook-url",
                "https://h.example/i",
            ])
        };
        assert!(tenant("http://t.example").starts_with("HOOK_ISSUER: must be https"));
        assert!(
            tenant("https://t.example/v1").starts_with("HOOK_ISSUER: the tenant URL has no path")
        );
        assert!(
            with("https://h.example/interaction/")
                .starts_with("HOOK_URL: must not end with a slash")
        );
        assert!(with("https://h.example/:id").starts_with("HOOK_URL: has a path segment"));
        assert_eq!(
            with("https://h.example/dev/hook"),
            "HOOK_URL: its path collides with the server's own /dev"
        );
        assert_eq!(
            with("https://h.example/readyz"),
            "HOOK_URL: its path collides with the server's own /readyz"
        );
        assert_eq!(
            error(&["--issuer", "https://t.example"]),
            "HOOK_SECRET: required when HOOK_ISSUER or HOOK_URL is set"
        );
        assert!(Args::try_parse_from(["example-server", "--bind", "nowhere"]).is_err());
    }

    const OLD: &str = "XzaUHKqJR/xgvJgYN0u14IJu6aretqp+Dyf3TL17U6Q=";
    const THIRD: &str = "K4RBNgo9EWmYsBNYHWhNTUOELVUDDKY7GgfpWZpX+yM=";

    #[test]
    fn hook_secret_takes_the_current_secret_then_older_ones() {
        let list = [
            "--secret",
            &format!("{SECRET}, {OLD}"),
            "--issuer",
            "https://t.example",
            "--hook-url",
            "https://h.example/i",
        ]
        .map(str::to_owned);
        let args =
            Args::try_parse_from(std::iter::once("example-server".to_owned()).chain(list)).unwrap();
        let config = Config::from_args(&args, LOCAL.parse().unwrap()).unwrap();
        assert_eq!(config.settings.tenants().len(), 1);
        assert_eq!(config.settings.tenants()[0].secrets.len(), 2);
        let bad = error(&[
            "--secret",
            &format!("{SECRET},nope!"),
            "--issuer",
            "https://t.example",
            "--hook-url",
            "https://h.example/i",
        ]);
        assert!(
            bad.starts_with("HOOK_SECRET: not standard base64 (secret 2)"),
            "{bad}"
        );
        assert!(!bad.contains("7cUZ"), "{bad}");
    }

    /// A tenants file in a fresh temporary directory, removed on drop.
    struct TenantsFile(std::path::PathBuf);

    impl TenantsFile {
        fn new(text: &str) -> Self {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).unwrap();
            let name: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
            let path = std::env::temp_dir().join(format!("hook-tenants-{name}.toml"));
            std::fs::write(&path, text).unwrap();
            Self(path)
        }

        fn load(&self, extra: &[&str]) -> Result<Config, ConfigError> {
            self.load_at(extra, LOCAL.parse().unwrap())
        }

        fn load_at(&self, extra: &[&str], local: SocketAddr) -> Result<Config, ConfigError> {
            let path = self.0.to_str().unwrap();
            let args = args(&[&["--tenants", path], extra].concat());
            Config::from_args(&args, local)
        }
    }

    impl Drop for TenantsFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn tenant(issuer: &str, hook_url: &str, secrets: &[&str]) -> String {
        let secrets: Vec<String> = secrets.iter().map(|s| format!("{s:?}")).collect();
        format!(
            "[[tenant]]\nissuer = {issuer:?}\nhook_url = {hook_url:?}\nsecrets = [{}]\n",
            secrets.join(", ")
        )
    }

    #[test]
    fn several_tenants_from_a_file() {
        let file = TenantsFile::new(&format!(
            "{}{}",
            tenant(
                "https://a.example",
                "https://hook.example/interaction",
                &[SECRET, OLD]
            ),
            tenant(
                "https://b.example",
                "https://other.example/interaction",
                &[THIRD]
            )
        ));
        let config = file.load(&[]).unwrap();
        assert_eq!(config.settings.tenants().len(), 2);
        assert_eq!(config.tenant().issuer, "https://a.example");
        assert_eq!(config.hook_path(), "/interaction");
        assert!(!format!("{config:?}").contains("7cUZ"));

        let both = file.load(&["--secret", SECRET]).unwrap_err().to_string();
        assert!(
            both.starts_with("HOOK_TENANTS: give either a tenants file"),
            "{both}"
        );
    }

    #[test]
    fn bad_tenants_files_are_named() {
        let cases = [
            (
                format!(
                    "{}{}",
                    tenant(
                        "https://a.example",
                        "https://hook.example/interaction",
                        &[SECRET]
                    ),
                    tenant("https://b.example", "https://hook.example/other", &[OLD])
                ),
                "HOOK_TENANTS: tenant 2: hook_url: every tenant's hook URL must have the path /interaction",
            ),
            (
                format!(
                    "{}{}",
                    tenant("https://a.example", "https://hook.example/i", &[SECRET]),
                    tenant("https://A.example/", "https://hook.example/i", &[OLD])
                ),
                "HOOK_TENANTS: two tenants have the issuer",
            ),
            (
                format!(
                    "{}{}",
                    tenant("https://a.example", "https://hook.example/i", &[SECRET]),
                    tenant(
                        "https://b.example",
                        "https://hook.example/i",
                        &[THIRD, SECRET]
                    )
                ),
                "HOOK_TENANTS: the tenants https://a.example and https://b.example share a secret",
            ),
            (
                tenant("http://a.example", "https://hook.example/i", &[SECRET]),
                "HOOK_TENANTS: tenant 1: HOOK_ISSUER: must be https",
            ),
        ];
        for (text, expected) in cases {
            let message = TenantsFile::new(&text).load(&[]).unwrap_err().to_string();
            assert!(message.starts_with(expected), "{message}");
        }
        let missing = args(&["--tenants", "/nonexistent/tenants.toml"]);
        let message = Config::from_args(&missing, LOCAL.parse().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("HOOK_TENANTS: cannot read"),
            "{message}"
        );
    }

    /// A configuration with a secret, tenant and hook URL, on the memory
    /// store.
    fn configured() -> Config {
        let list = [
            "--secret",
            SECRET,
            "--issuer",
            "https://t.example",
            "--hook-url",
            "https://h.example/i",
        ];
        Config::from_args(&args(&list), LOCAL.parse().unwrap()).unwrap()
    }

    /// A configured secret on the memory store is worth a warning; dev
    /// mode's generated one, or Redis, is not.
    #[test]
    fn real_counts_in_memory_are_known() {
        let config = configured();
        assert!(config.keeps_real_counts_in_memory());
        let elsewhere = config.with_attempt_store(Arc::new(MemoryStore::default()), "redis");
        assert!(!elsewhere.keeps_real_counts_in_memory());
        #[cfg(feature = "dev")]
        assert!(
            !Config::dev(LOCAL.parse().unwrap())
                .unwrap()
                .keeps_real_counts_in_memory()
        );
    }

    #[test]
    fn the_secret_is_never_shown() {
        let config = configured();
        assert!(!format!("{config:?}").contains("7cUZ"));
    }
}
