//! Command-line and environment configuration.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use clap::Parser;
use hook_layer::attempts::{AttemptStore, MemoryStore, RedisStore};
use hook_layer::{HookSecret, InteractionHookLayer, Tenant};
use url::Url;
#[cfg(feature = "dev")]
use zeroize::Zeroizing;

use crate::tenants::{TenantConfig, parse_secrets, parse_tenants_file};

/// An interaction hook for MATTR VII: terms of service, extra details and
/// a one-time code, then back to the issuance.
///
/// Without HOOK_SECRET it starts in dev mode, with a random secret and a
/// simulated MATTR VII on the same server (in builds with the `dev`
/// feature, the default; without it, HOOK_SECRET is required).
#[derive(Parser)]
#[command(version)]
// These comments are the `--help` text, where bare URLs read best.
#[allow(rustdoc::bare_urls)]
pub struct Args {
    /// The hook secret, base64, exactly as MATTR VII returned it. During a
    /// rotation: the current secret first, then older ones still accepted,
    /// separated by commas.
    #[arg(long, env = "HOOK_SECRET", hide_env_values = true)]
    pub secret: Option<String>,

    /// The tenant URL, e.g. https://tenant.vii.au01.mattr.global (the
    /// session token's `iss`). Required with HOOK_SECRET.
    #[arg(long, env = "HOOK_ISSUER")]
    pub issuer: Option<String>,

    /// This hook's public URL as configured on the tenant, e.g.
    /// https://hook.example.com/interaction (the session token's `aud`).
    /// Required with HOOK_SECRET.
    #[arg(long = "hook-url", env = "HOOK_URL")]
    pub hook_url: Option<String>,

    /// Serve several MATTR VII tenants, read from this TOML file (each
    /// tenant entry with issuer, hook_url, and secrets or secret_env), instead
    /// of HOOK_SECRET, HOOK_ISSUER and HOOK_URL.
    #[arg(long, env = "HOOK_TENANTS", value_name = "FILE")]
    pub tenants: Option<std::path::PathBuf>,

    /// Address to listen on.
    #[arg(long, env = "HOOK_BIND", default_value = "127.0.0.1:3000")]
    pub bind: SocketAddr,

    /// Keep attempt counts (wrong codes, codes sent) in Redis, e.g.
    /// redis://127.0.0.1:6379/, so that every replica of the hook shares
    /// them and they survive restarts. Without it they are kept in memory,
    /// per process.
    #[arg(long = "redis-url", env = "HOOK_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Also serve the simulated MATTR VII (and show one-time codes on
    /// screen) when HOOK_SECRET is set. Always on without it.
    #[cfg(feature = "dev")]
    #[arg(long)]
    pub dev_issuer: bool,

    /// Serve the welcome page without the layer at /load-test/welcome, for
    /// comparison in load tests. Never in production.
    #[arg(long, hide = true)]
    pub load_test_routes: bool,
}

/// Everything the app needs, validated.
#[derive(Clone)]
pub struct Config {
    /// The tenants the hook serves, each with its secrets (current first).
    /// The fields below describe the first one, which the simulated MATTR
    /// VII plays in dev mode.
    pub tenants: Vec<TenantConfig>,
    /// The layer for these tenants (issuers, audiences, secrets); the
    /// journey adds its claims type and pages.
    pub layer: InteractionHookLayer,
    /// The first tenant's current secret.
    pub secret: HookSecret,
    /// Where attempt counts live: memory by default, Redis when configured.
    pub attempts: Arc<dyn AttemptStore>,
    /// `"memory"` or `"redis"`, for logs.
    pub attempts_kind: &'static str,
    /// The tenant URL (`iss`).
    pub issuer: String,
    /// This hook's URL; its path is where the journey is mounted.
    pub hook_url: Url,
    /// The hook URL exactly as configured (the token's `aud`, which the
    /// tenant writes as it was given, not normalised).
    pub audience: String,
    /// Serve the simulated MATTR VII under `/dev` and show one-time codes
    /// (`dev` feature only).
    #[cfg(feature = "dev")]
    pub dev_issuer: bool,
    /// Serve the unguarded welcome page for load tests.
    pub load_test_routes: bool,
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
        #[cfg(not(feature = "dev"))]
        if dev_issuer {
            return Err(ConfigError::new("--dev-issuer", NO_DEV_MODE));
        }
        let hook_secret = HookSecret::from_bytes(secret)
            .map_err(|error| ConfigError::new("HOOK_SECRET", error))?;
        let tenant = TenantConfig {
            name: None,
            issuer: issuer.trim().to_owned(),
            hook_url: hook_url.trim().to_owned(),
            secrets: vec![hook_secret],
        };
        Self::from_tenants(vec![tenant], dev_issuer, None)
    }

    /// A configuration serving `tenants` (each validated as `HOOK_ISSUER`
    /// and `HOOK_URL` are; their hook URLs must share one path, where the
    /// journey is mounted).
    pub fn for_tenants(tenants: Vec<TenantConfig>, dev_issuer: bool) -> Result<Self, ConfigError> {
        Self::from_tenants(tenants, dev_issuer, Some("HOOK_TENANTS"))
    }

    /// A configuration for `tenants` (validated here). `source` names the
    /// tenants file in errors; without one, errors name the single-tenant
    /// settings.
    fn from_tenants(
        tenants: Vec<TenantConfig>,
        dev_issuer: bool,
        source: Option<&'static str>,
    ) -> Result<Self, ConfigError> {
        #[cfg(not(feature = "dev"))]
        if dev_issuer {
            return Err(ConfigError::new("--dev-issuer", NO_DEV_MODE));
        }
        let in_file = |index: usize, error: ConfigError| match source {
            Some(setting) => ConfigError::new(setting, format!("tenant {}: {error}", index + 1)),
            None => error,
        };
        let mut mount: Option<Url> = None;
        for (index, tenant) in tenants.iter().enumerate() {
            parse_issuer(&tenant.issuer).map_err(|error| in_file(index, error))?;
            let url = parse_hook_url(&tenant.hook_url).map_err(|error| in_file(index, error))?;
            match &mount {
                // The journey is mounted once, at the hook URL's path.
                Some(first) if first.path() != url.path() => {
                    return Err(in_file(
                        index,
                        ConfigError::new(
                            "hook_url",
                            format!(
                                "every tenant's hook URL must have the path {}",
                                first.path()
                            ),
                        ),
                    ));
                }
                Some(_) => {}
                None => mount = Some(url),
            }
        }
        let Some(hook_url) = mount else {
            return Err(ConfigError::new(
                source.unwrap_or("HOOK_SECRET"),
                "no tenant",
            ));
        };
        let layer = layer_for(&tenants)
            .map_err(|error| ConfigError::new(source.unwrap_or("HOOK_ISSUER"), error))?;
        let first = &tenants[0];
        Ok(Self {
            secret: first.secrets[0].clone(),
            issuer: first.issuer.clone(),
            audience: first.hook_url.clone(),
            hook_url,
            layer,
            tenants,
            attempts: Arc::new(MemoryStore::default()),
            attempts_kind: "memory",
            #[cfg(feature = "dev")]
            dev_issuer,
            load_test_routes: false,
        })
    }

    /// Also accepts `previous` secrets for the (single) tenant, as during a
    /// rotation; the current one stays first.
    pub fn with_previous_secrets(self, previous: Vec<HookSecret>) -> Result<Self, ConfigError> {
        let mut tenants = self.tenants;
        tenants[0].secrets.extend(previous);
        #[cfg(feature = "dev")]
        let dev_issuer = self.dev_issuer;
        #[cfg(not(feature = "dev"))]
        let dev_issuer = false;
        let config = Self::from_tenants(tenants, dev_issuer, None)?;
        Ok(Self {
            attempts: self.attempts,
            attempts_kind: self.attempts_kind,
            load_test_routes: self.load_test_routes,
            ..config
        })
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
        Self::new(&*secret, &base, &format!("{base}/interaction"), true)
    }

    /// Reads the command line and environment, given the bound address.
    pub fn from_args(args: &Args, local: SocketAddr) -> Result<Self, ConfigError> {
        let mut config = Self::from_settings(args, local)?;
        config.load_test_routes = args.load_test_routes;
        Ok(config)
    }

    fn from_settings(args: &Args, local: SocketAddr) -> Result<Self, ConfigError> {
        #[cfg(feature = "dev")]
        let dev_issuer = args.dev_issuer;
        #[cfg(not(feature = "dev"))]
        let dev_issuer = false;
        if let Some(path) = &args.tenants {
            if args.secret.is_some() || args.issuer.is_some() || args.hook_url.is_some() {
                return Err(ConfigError::new(
                    "HOOK_TENANTS",
                    "give either a tenants file or HOOK_SECRET, HOOK_ISSUER and HOOK_URL, not both",
                ));
            }
            let text = std::fs::read_to_string(path).map_err(|error| {
                ConfigError::new(
                    "HOOK_TENANTS",
                    format!("cannot read {}: {error}", path.display()),
                )
            })?;
            let tenants = parse_tenants_file(&text, |name| std::env::var(name).ok())
                .map_err(|error| ConfigError::new("HOOK_TENANTS", error))?;
            return Self::from_tenants(tenants, dev_issuer, Some("HOOK_TENANTS"));
        }
        let Some(encoded) = &args.secret else {
            // A deployment that set these but lost its secret must not start
            // quietly in dev mode with a simulated issuer.
            if args.issuer.is_some() || args.hook_url.is_some() {
                return Err(ConfigError::new(
                    "HOOK_SECRET",
                    "required when HOOK_ISSUER or HOOK_URL is set",
                ));
            }
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
        };
        let secrets = parse_secrets(encoded.split(','))
            .map_err(|error| ConfigError::new("HOOK_SECRET", error))?;
        let issuer = args
            .issuer
            .as_deref()
            .ok_or_else(|| ConfigError::new("HOOK_ISSUER", "required with HOOK_SECRET"))?;
        let hook_url = args
            .hook_url
            .as_deref()
            .ok_or_else(|| ConfigError::new("HOOK_URL", "required with HOOK_SECRET"))?;
        let tenant = TenantConfig {
            name: None,
            issuer: issuer.trim().to_owned(),
            hook_url: hook_url.trim().to_owned(),
            secrets,
        };
        Self::from_tenants(vec![tenant], dev_issuer, None)
    }

    /// Keeps attempt counts in `store` instead of this process's memory.
    pub fn with_attempt_store(mut self, store: Arc<dyn AttemptStore>, kind: &'static str) -> Self {
        self.attempts = store;
        self.attempts_kind = kind;
        self
    }

    /// Connects to the Redis of `--redis-url`, if set, and keeps attempt
    /// counts there. A Redis that cannot be reached is a configuration
    /// error: the hook must not start with limits it cannot keep.
    pub async fn connect_store(self, args: &Args) -> Result<Self, ConfigError> {
        let Some(url) = &args.redis_url else {
            return Ok(self);
        };
        let store = RedisStore::connect(url).await.map_err(|error| {
            ConfigError::new("HOOK_REDIS_URL", format!("cannot use Redis: {error}"))
        })?;
        Ok(self.with_attempt_store(Arc::new(store), "redis"))
    }

    /// Where the browser reaches this server, e.g. `http://127.0.0.1:3000`.
    pub fn base_url(&self) -> String {
        self.hook_url.origin().ascii_serialization()
    }
}

/// The layer for the configured tenants: one, with its secrets, or several,
/// chosen by each token's issuer.
fn layer_for(tenants: &[TenantConfig]) -> Result<InteractionHookLayer, hook_layer::TenantError> {
    let tenant = |config: &TenantConfig| {
        let mut tenant = Tenant::new(config.issuer.clone(), config.secrets[0].clone())
            .audience(config.hook_url.clone());
        for previous in &config.secrets[1..] {
            tenant = tenant.previous_secret(previous.clone());
        }
        match &config.name {
            Some(name) => tenant.name(name.clone()),
            None => tenant,
        }
    };
    if let [single] = tenants {
        let mut layer = InteractionHookLayer::new(single.secrets[0].clone())
            .issuer(single.issuer.clone())
            .audience(single.hook_url.clone());
        for previous in &single.secrets[1..] {
            layer = layer.previous_secret(previous.clone());
        }
        return Ok(layer);
    }
    InteractionHookLayer::with_tenants(tenants.iter().map(tenant))
}

/// Why a build without the `dev` feature needs a secret.
#[cfg(not(feature = "dev"))]
const NO_DEV_MODE: &str = "this build has no dev mode (it was built without the `dev` feature)";

/// `http://<addr>`.
#[cfg(feature = "dev")]
fn base_url(local: SocketAddr) -> String {
    format!("http://{local}")
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => {
            let domain = domain.strip_suffix('.').unwrap_or(domain);
            domain == "localhost" || domain.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Paths the server uses itself, which the journey must not shadow.
const RESERVED_PATHS: [&str; 4] = ["/healthz", "/assets", "/dev", "/load-test"];

/// MATTR VII requires an https hook URL without a query. Its path is where
/// the journey is mounted: `/` for a bare URL such as
/// `https://abcd.ngrok.app`, as MATTR's tutorial configures it. http is
/// accepted for loopback.
fn parse_hook_url(raw: &str) -> Result<Url, ConfigError> {
    let invalid = |why| ConfigError::new("HOOK_URL", why);
    let invalid_owned = |why: String| ConfigError::new("HOOK_URL", why);
    let url = Url::parse(raw).map_err(|_| invalid("not an absolute URL"))?;
    if !(url.scheme() == "https" || url.scheme() == "http" && is_loopback(&url)) {
        return Err(invalid("must be https (http only for localhost)"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    let path = url.path();
    if path == "/" {
        return Ok(url);
    }
    if path.ends_with('/') {
        return Err(invalid("must not end with a slash, e.g. /interaction"));
    }
    if path
        .split('/')
        .any(|segment| segment.starts_with([':', '*', '{']))
    {
        return Err(invalid("has a path segment starting with ':', '*' or '{'"));
    }
    let reserved = RESERVED_PATHS
        .iter()
        .find(|reserved| path == **reserved || path.starts_with(&format!("{reserved}/")));
    if let Some(reserved) = reserved {
        return Err(invalid_owned(format!(
            "its path collides with the server's own {reserved}"
        )));
    }
    Ok(url)
}

/// The tenant URL, as MATTR VII writes `iss`: an origin, no path. It is
/// kept as written: the layer compares it with `iss` as a URL, so
/// `https://Tenant.example:443/` matches a token from
/// `https://tenant.example`.
fn parse_issuer(raw: &str) -> Result<String, ConfigError> {
    let invalid = |why| ConfigError::new("HOOK_ISSUER", why);
    let url = Url::parse(raw).map_err(|_| invalid("not an absolute URL"))?;
    if !(url.scheme() == "https" || url.scheme() == "http" && is_loopback(&url)) {
        return Err(invalid("must be https (http only for localhost)"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("the tenant URL has no path, query or fragment"));
    }
    Ok(raw.to_owned())
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Config");
        debug
            .field("tenants", &self.tenants)
            .field("attempts", &self.attempts_kind)
            .field("issuer", &self.issuer)
            .field("hook_url", &self.hook_url)
            .field("audience", &self.audience);
        #[cfg(feature = "dev")]
        debug.field("dev_issuer", &self.dev_issuer);
        debug
            .field("load_test_routes", &self.load_test_routes)
            .finish()
    }
}

/// A setting that cannot be used, and why.
#[derive(Debug)]
pub struct ConfigError {
    setting: &'static str,
    reason: String,
}

impl ConfigError {
    fn new(setting: &'static str, reason: impl fmt::Display) -> Self {
        Self {
            setting,
            reason: reason.to_string(),
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

    const SECRET: &str = "dGtUrijBOT6UUJ8JO4kAFyGfhahDlVVeIk/sPbWTa7c=";
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
        assert_eq!(config.issuer, "http://127.0.0.1:3000");
        assert_eq!(
            config.hook_url.as_str(),
            "http://127.0.0.1:3000/interaction"
        );
        let v6 = Config::dev("[::1]:8080".parse().unwrap()).unwrap();
        assert_eq!(v6.base_url(), "http://[::1]:8080");
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
            assert_eq!(config.hook_url.path(), "/");
            assert_eq!(config.audience, hook_url);
        }
    }

    #[test]
    fn url_spellings_are_kept_for_the_layer_to_compare() {
        let config = production(
            "https://Tenant.vii.au01.mattr.global:443/",
            "https://HOOK.example/interaction",
        )
        .unwrap();
        assert_eq!(config.issuer, "https://Tenant.vii.au01.mattr.global:443/");
        assert_eq!(config.audience, "https://HOOK.example/interaction");
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
        assert_eq!(config.issuer, "https://t.vii.au01.mattr.global/");
        // The audience is the hook URL as written, as the tenant sends it back.
        assert_eq!(config.audience, "https://H.example:443/interaction");
        assert_eq!(config.hook_url.path(), "/interaction");
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
            error(&["--issuer", "https://t.example"]),
            "HOOK_SECRET: required when HOOK_ISSUER or HOOK_URL is set"
        );
        assert!(Args::try_parse_from(["example-server", "--bind", "nowhere"]).is_err());
    }

    const OLD: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
    const THIRD: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

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
        assert_eq!(config.tenants.len(), 1);
        assert_eq!(config.tenants[0].secrets.len(), 2);
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
        assert!(!bad.contains("dGtU"), "{bad}");
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
            let path = self.0.to_str().unwrap();
            let args = args(&[&["--tenants", path], extra].concat());
            Config::from_args(&args, LOCAL.parse().unwrap())
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
        assert_eq!(config.tenants.len(), 2);
        assert_eq!(config.issuer, "https://a.example");
        assert_eq!(config.hook_url.path(), "/interaction");
        assert!(!format!("{config:?}").contains("dGtU"));

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

    #[test]
    fn the_secret_is_never_shown() {
        let list = [
            "--secret",
            SECRET,
            "--issuer",
            "https://t.example",
            "--hook-url",
            "https://h.example/i",
        ];
        let config = Config::from_args(&args(&list), LOCAL.parse().unwrap()).unwrap();
        assert!(!format!("{config:?}").contains("dGtU"));
    }
}
