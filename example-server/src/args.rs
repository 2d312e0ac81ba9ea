//! The command line and environment, as clap reads them.
//!
//! A mistake in them is reported by the setting's name and what it
//! expects, never by the value given: a secret pasted into the wrong
//! variable, or onto the command line, must not end up in a log. clap's
//! own messages quote the value back, so [`Args::read`] writes its own.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};
use hook_layer::config::ConfigError;

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
// Every setting hides its environment value from `--help`: whatever was
// put in a variable, by mistake or not, is not printed back.
pub struct Args {
    /// The hook secret, base64, exactly as MATTR VII returned it. During a
    /// rotation: the current secret first, then older ones still accepted,
    /// separated by commas. Placeholders and the documentation's example
    /// secrets are refused.
    #[arg(long, env = "HOOK_SECRET", hide_env_values = true)]
    pub secret: Option<String>,

    /// The tenant URL, e.g. https://tenant.vii.au01.mattr.global (the
    /// session token's `iss`). Required with HOOK_SECRET.
    #[arg(long, env = "HOOK_ISSUER", hide_env_values = true)]
    pub issuer: Option<String>,

    /// This hook's public URL as configured on the tenant, e.g.
    /// https://hook.example.com/interaction (the session token's `aud`).
    /// Required with HOOK_SECRET.
    #[arg(long = "hook-url", env = "HOOK_URL", hide_env_values = true)]
    pub hook_url: Option<String>,

    /// Serve several MATTR VII tenants, read from this TOML file (each
    /// tenant entry with issuer, hook_url, and secrets or secret_env), instead
    /// of HOOK_SECRET, HOOK_ISSUER and HOOK_URL.
    #[arg(
        long,
        env = "HOOK_TENANTS",
        hide_env_values = true,
        value_name = "FILE"
    )]
    pub tenants: Option<PathBuf>,

    /// Address to listen on.
    #[arg(
        long,
        env = "HOOK_BIND",
        hide_env_values = true,
        value_name = "ADDRESS",
        default_value = "127.0.0.1:3000",
        value_parser = address
    )]
    pub bind: SocketAddr,

    /// Keep attempt counts (wrong codes, codes sent) in Redis, e.g.
    /// redis://127.0.0.1:6379/ (rediss:// for TLS), so that every replica
    /// of the hook shares them and they survive restarts. Without it they
    /// are kept in memory, per process.
    #[arg(long = "redis-url", env = "HOOK_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Keep attempt counts in a Redis Cluster instead of one server: some
    /// of its nodes' URLs (redis:// or rediss://), separated by commas; the
    /// others are learnt from them. Not with HOOK_REDIS_URL.
    #[arg(
        long = "redis-cluster-urls",
        env = "HOOK_REDIS_CLUSTER_URLS",
        hide_env_values = true,
        value_name = "URLS"
    )]
    pub redis_cluster_urls: Option<String>,

    /// Trust the certificate authority in this PEM file, instead of the
    /// system's, for rediss:// URLs: a private CA.
    #[arg(
        long = "redis-ca-file",
        env = "HOOK_REDIS_CA_FILE",
        hide_env_values = true,
        value_name = "FILE"
    )]
    pub redis_ca_file: Option<PathBuf>,

    /// Serve Prometheus metrics at /metrics on this address, e.g.
    /// 127.0.0.1:9898, apart from the hook's own. Off when unset. /metrics
    /// has no authentication and its labels name the tenants, so serve it
    /// only where the scraper alone reaches it; an address that is not
    /// loopback is warned about at startup.
    #[arg(
        long = "metrics-bind",
        env = "HOOK_METRICS_BIND",
        hide_env_values = true,
        value_name = "ADDRESS",
        value_parser = address
    )]
    pub metrics_bind: Option<SocketAddr>,

    /// How log lines are written to standard output: text, or json (one
    /// JSON object per line, for a log collector).
    #[arg(
        long = "log-format",
        env = "HOOK_LOG_FORMAT",
        hide_env_values = true,
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,

    /// Receive MATTR VII's signed webhooks for this webhook id (as the
    /// tenant created it) at HOOK_WEBHOOK_PATH. Without it the route is not
    /// served, except in dev mode (where the simulated MATTR VII sends them).
    #[arg(long = "webhook-id", env = "HOOK_WEBHOOK_ID", hide_env_values = true)]
    pub webhook_id: Option<String>,

    /// The path this server receives webhooks at.
    #[arg(
        long = "webhook-path",
        env = "HOOK_WEBHOOK_PATH",
        hide_env_values = true,
        value_name = "PATH",
        default_value = "/webhooks/mattr"
    )]
    pub webhook_path: String,

    /// The webhook URL as configured at MATTR VII, which it signs, e.g.
    /// https://hook.example.com/webhooks/mattr: needed when a proxy
    /// changes the path on the way. Default: HOOK_URL's origin and
    /// HOOK_WEBHOOK_PATH.
    #[arg(long = "webhook-url", env = "HOOK_WEBHOOK_URL", hide_env_values = true)]
    pub webhook_url: Option<String>,

    /// Where the tenant's webhook signing keys are published. Default:
    /// HOOK_ISSUER + /v1/webhooks/jwks (in dev mode, the simulated MATTR
    /// VII's, on this server).
    #[arg(
        long = "webhook-jwks-url",
        env = "HOOK_WEBHOOK_JWKS_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub webhook_jwks_url: Option<String>,

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

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message`
    /// and the event's own fields at the top level.
    Json,
}

/// Why [`Args::read`] returned no settings.
#[derive(Debug)]
pub enum ArgsError {
    /// `--help` or `--version` was asked for: print it
    /// ([`clap::Error::print`]) and exit successfully.
    Shown(clap::Error),
    /// A setting that cannot be used (exit status 2). The message names
    /// the setting and says what it expects; it never holds the value.
    Invalid(ConfigError),
}

impl Args {
    /// Reads the process's command line and environment.
    pub fn read() -> Result<Self, ArgsError> {
        Self::read_from(std::env::args_os())
    }

    /// Reads `argv` (the program's name first) and the environment, as
    /// [`read`](Self::read) does.
    pub fn read_from<I, T>(argv: I) -> Result<Self, ArgsError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
        Self::try_parse_from(&argv).map_err(|error| match error.kind() {
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => ArgsError::Shown(error),
            _ => ArgsError::Invalid(without_values(&error, &argv)),
        })
    }
}

/// What `address` expects, the whole of its error.
const ADDRESS: &str = "expected an IP address and a port, e.g. 127.0.0.1:3000 or [::1]:3000";

/// A socket address. Its error says what is expected, without the text
/// (std's does not quote it either, but says less).
fn address(text: &str) -> Result<SocketAddr, Expected> {
    text.trim().parse().map_err(|_| Expected(ADDRESS))
}

/// A value parser's error that says what was expected and nothing of the
/// value: the only parser errors shown in full.
#[derive(Debug)]
struct Expected(&'static str);

impl std::fmt::Display for Expected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Expected {}

/// clap's `error`, said again with the setting's name (its variable and
/// flag) and what it expects, and none of the values clap quotes: the
/// value given, or a stray argument.
fn without_values(error: &clap::Error, argv: &[OsString]) -> ConfigError {
    let invalid = string(error, ContextKind::InvalidArg);
    if error.kind() == ErrorKind::UnknownArgument {
        return unexpected(invalid.unwrap_or_default(), error, argv);
    }
    let setting = invalid
        .and_then(setting_named)
        .unwrap_or_else(|| "command line".to_owned());
    // Where a value was given, say that it is left out on purpose.
    const NOT_SHOWN: &str = " (the value given is not shown)";
    let reason = match error.kind() {
        ErrorKind::ValueValidation => {
            match std::error::Error::source(error).and_then(|source| source.downcast_ref()) {
                Some(Expected(expected)) => format!("{expected}{NOT_SHOWN}"),
                None => format!("not a valid value{NOT_SHOWN}"),
            }
        }
        ErrorKind::InvalidValue => match error.get(ContextKind::ValidValue) {
            Some(ContextValue::Strings(valid)) => {
                format!("expected one of: {}{NOT_SHOWN}", valid.join(", "))
            }
            _ => "a value is required".to_owned(),
        },
        ErrorKind::TooManyValues => format!("takes no value{NOT_SHOWN}"),
        ErrorKind::ArgumentConflict => match string(error, ContextKind::PriorArg) {
            Some(prior) if Some(prior) != invalid => {
                format!(
                    "not with {}",
                    setting_named(prior).unwrap_or(prior.to_owned())
                )
            }
            _ => "given more than once".to_owned(),
        },
        ErrorKind::InvalidUtf8 => format!("not valid UTF-8{NOT_SHOWN}"),
        kind => kind.as_str().unwrap_or("cannot be read").to_owned(),
    };
    ConfigError::new(setting, reason)
}

/// An argument the server does not take. A misspelt option is named,
/// when its name cannot be a secret; anything else is only counted:
/// a stray argument is as likely a value pasted in the wrong place.
fn unexpected(arg: &str, error: &clap::Error, argv: &[OsString]) -> ConfigError {
    let name = arg.split_once('=').map_or(arg, |(name, _)| name);
    let option_name = name.strip_prefix("--").is_some_and(|rest| {
        (1..=MAX_OPTION_NAME).contains(&rest.len())
            && rest.starts_with(|c: char| c.is_ascii_lowercase())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    // clap only suggests this server's own options.
    let suggestion = match string(error, ContextKind::SuggestedArg) {
        Some(suggested) => format!("; did you mean {suggested}?"),
        None => String::new(),
    };
    if option_name {
        return ConfigError::new(
            "command line",
            format!("unknown option {name}{suggestion} (see --help)"),
        );
    }
    let position = argv
        .iter()
        .skip(1)
        .position(|given| {
            let given = given.to_string_lossy();
            // clap names `--name=value` by its name.
            given == arg
                || given
                    .strip_prefix(arg)
                    .is_some_and(|rest| rest.starts_with('='))
        })
        .map_or_else(String::new, |index| format!(" (argument {})", index + 1));
    ConfigError::new(
        "command line",
        format!(
            "unexpected argument{position}, not shown in case it holds a secret; every setting \
             is an --option or a variable (see --help){suggestion}"
        ),
    )
}

/// Longer than any option of this server, and far shorter than a secret.
const MAX_OPTION_NAME: usize = 32;

/// A context of `error` that is one string.
fn string(error: &clap::Error, kind: ContextKind) -> Option<&str> {
    match error.get(kind) {
        Some(ContextValue::String(text)) => Some(text),
        _ => None,
    }
}

/// `HOOK_BIND (--bind)` for clap's `--bind <ADDRESS>`: the variable, which
/// is how a deployment sets it, and the flag. Only this server's own
/// options are named; anything else yields `None`.
fn setting_named(rendered: &str) -> Option<String> {
    let flag = rendered.split([' ', '=']).next()?;
    let long = flag.strip_prefix("--")?;
    let command = Args::command();
    let arg = command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(long))?;
    Some(match arg.get_env() {
        Some(variable) => format!("{} (--{long})", variable.to_string_lossy()),
        None => format!("--{long}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A secret-looking value, as if pasted into the wrong place.
    const PASTED: &str = "q3Lx0vN8d2Rk+T7yWmB1sZpE5uHcJ9aYfGi4oK6lQeU=";

    fn invalid(list: &[&str]) -> String {
        match Args::read_from(std::iter::once("example-server").chain(list.iter().copied())) {
            Err(ArgsError::Invalid(error)) => error.to_string(),
            Err(ArgsError::Shown(shown)) => panic!("{list:?} showed {shown}"),
            Ok(_) => panic!("{list:?} was accepted"),
        }
    }

    #[track_caller]
    fn assert_not_shown(message: &str) {
        assert!(
            !message.contains(PASTED) && !message.contains(&PASTED[..8]),
            "the value was shown: {message}"
        );
    }

    #[test]
    fn bad_values_name_the_setting_and_what_it_expects() {
        let cases = [
            (
                ["--bind", PASTED],
                "HOOK_BIND (--bind): expected an IP address",
            ),
            (
                ["--metrics-bind", PASTED],
                "HOOK_METRICS_BIND (--metrics-bind): expected an IP address",
            ),
            (
                ["--log-format", PASTED],
                "HOOK_LOG_FORMAT (--log-format): expected one of: text, json",
            ),
        ];
        for (list, expected) in cases {
            let message = invalid(&list);
            assert!(message.starts_with(expected), "{message}");
            assert!(
                message.ends_with(" (the value given is not shown)"),
                "{message}"
            );
            assert_not_shown(&message);
        }
        let flag = invalid(&[&format!("--dev-issuer={PASTED}")]);
        assert_not_shown(&flag);
        let twice = invalid(&["--bind", "127.0.0.1:1", "--bind", "127.0.0.1:2"]);
        assert!(
            twice.starts_with("HOOK_BIND (--bind): given more than once"),
            "{twice}"
        );
        let empty = invalid(&["--log-format="]);
        assert!(
            empty.starts_with("HOOK_LOG_FORMAT (--log-format): "),
            "{empty}"
        );
    }

    #[test]
    fn stray_arguments_are_counted_not_quoted() {
        let stray = invalid(&["--bind", "127.0.0.1:0", PASTED]);
        assert!(
            stray.starts_with("command line: unexpected argument (argument 3)"),
            "{stray}"
        );
        assert_not_shown(&stray);
        // A secret given as if it were an option, with or without a value.
        for (list, position) in [
            ([&format!("--{PASTED}")[..]], 1),
            ([&format!("--{PASTED}=x")[..]], 1),
            ([&format!("--x={PASTED}")[..]], 1),
        ] {
            let message = invalid(&list);
            assert!(
                message.contains(&format!("(argument {position})"))
                    || message.starts_with("command line: unknown option --x"),
                "{message}"
            );
            assert_not_shown(&message);
        }
        let joined = invalid(&[&format!("--secrte={PASTED}")]);
        assert!(
            joined.starts_with("command line: unknown option --secrte; did you mean --secret?"),
            "{joined}"
        );
        assert_not_shown(&joined);
    }

    #[test]
    fn a_misspelt_option_is_named_with_a_suggestion() {
        let message = invalid(&["--hook-ur", "https://h.example/i"]);
        assert!(
            message.starts_with("command line: unknown option --hook-ur; did you mean --hook-url?"),
            "{message}"
        );
    }

    #[test]
    fn help_and_version_are_shown() {
        for flag in ["--help", "--version"] {
            let shown = Args::read_from(["example-server", flag]);
            assert!(matches!(shown, Err(ArgsError::Shown(_))), "{flag}");
        }
    }

    /// `--help` prints no variable's value, whatever is in the environment.
    #[test]
    fn help_shows_no_environment_values() {
        let Err(ArgsError::Shown(help)) = Args::read_from(["example-server", "--help"]) else {
            panic!("no help");
        };
        let help = help.render().to_string();
        assert!(help.contains("[env: HOOK_BIND]"), "{help}");
        assert!(!help.contains("[env: HOOK_BIND="), "{help}");
        for arg in Args::command().get_arguments() {
            assert!(
                arg.get_env().is_none() || arg.is_hide_env_values_set(),
                "{:?} would show its value in --help",
                arg.get_id()
            );
        }
    }

    #[test]
    fn good_values_are_read() {
        let Ok(args) = Args::read_from([
            "example-server",
            "--bind",
            " [::1]:8080 ",
            "--log-format",
            "json",
            "--metrics-bind",
            "127.0.0.1:9898",
        ]) else {
            panic!("refused");
        };
        assert_eq!(args.bind, "[::1]:8080".parse().unwrap());
        assert_eq!(args.log_format, LogFormat::Json);
        assert_eq!(args.metrics_bind, Some("127.0.0.1:9898".parse().unwrap()));
    }
}
