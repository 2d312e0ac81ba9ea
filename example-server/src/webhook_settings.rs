//! The webhook endpoint's settings (`HOOK_WEBHOOK_*`), read and checked.
//!
//! Like every other setting, a bad one is reported by its name and what it
//! expects, never by its value.

use std::net::SocketAddr;

use hook_layer::config::{ConfigError, TenantSettings};
use hook_layer::webhooks::{FetchError, MAX_EVENT_ID_LEN, RemoteKeys};
use url::Url;

use crate::args::Args;

/// The path webhooks are received at, by default.
pub const DEFAULT_PATH: &str = "/webhooks/mattr";
/// The webhook id accepted in dev mode when `HOOK_WEBHOOK_ID` is not set:
/// the simulated MATTR VII's webhook.
pub const DEV_WEBHOOK_ID: &str = "dev-webhook";
/// Where the simulated MATTR VII publishes its webhook keys, on this
/// server (under `/dev`, with its other pages).
pub const DEV_JWKS_PATH: &str = "/dev/v1/webhooks/jwks";
/// Where a MATTR VII tenant publishes its webhook keys, under its URL.
const TENANT_JWKS_PATH: &str = "/v1/webhooks/jwks";

/// The webhook endpoint: which webhook it accepts, where, and whose keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// The webhook id accepted (`HOOK_WEBHOOK_ID`).
    pub id: String,
    /// The path the route is mounted at on this server.
    pub path: String,
    /// The URL MATTR VII posts to and signs, which a proxy may map to
    /// [`path`](Self::path).
    pub public_url: String,
    /// The tenant's JWKS URL.
    pub jwks_url: String,
    /// In dev mode: the address this server listens on, where the
    /// simulated MATTR VII delivers its webhooks.
    pub simulated_at: Option<SocketAddr>,
}

/// What the webhook settings were given: the command line's, or none.
#[derive(Debug, Default)]
pub struct Given<'a> {
    /// `HOOK_WEBHOOK_ID`.
    pub id: Option<&'a str>,
    /// `HOOK_WEBHOOK_PATH`.
    pub path: Option<&'a str>,
    /// `HOOK_WEBHOOK_URL`.
    pub public_url: Option<&'a str>,
    /// `HOOK_WEBHOOK_JWKS_URL`.
    pub jwks_url: Option<&'a str>,
}

impl<'a> Given<'a> {
    /// The settings of `args`.
    pub fn from_args(args: &'a Args) -> Self {
        Self {
            id: args.webhook_id.as_deref(),
            path: Some(args.webhook_path.as_str()),
            public_url: args.webhook_url.as_deref(),
            jwks_url: args.webhook_jwks_url.as_deref(),
        }
    }
}

impl WebhookSettings {
    /// The endpoint for `tenant` (the first), given `reserved` paths (the
    /// journey's among them) that it must not shadow. `None` when no
    /// webhook id is set outside dev mode; `dev` is the address this
    /// server listens on, in dev mode.
    pub fn resolve(
        given: &Given<'_>,
        tenant: &TenantSettings,
        reserved: &[&str],
        dev: Option<SocketAddr>,
    ) -> Result<Option<Self>, ConfigError> {
        let id = match (given.id.map(str::trim), dev) {
            (Some(id), _) => id.to_owned(),
            (None, Some(_)) => DEV_WEBHOOK_ID.to_owned(),
            (None, None) => {
                if given.public_url.is_some() || given.jwks_url.is_some() {
                    return Err(ConfigError::new(
                        "HOOK_WEBHOOK_ID",
                        "required with HOOK_WEBHOOK_URL or HOOK_WEBHOOK_JWKS_URL",
                    ));
                }
                return Ok(None);
            }
        };
        check_id(&id)?;
        let path = given.path.map_or(DEFAULT_PATH, str::trim).to_owned();
        check_path(&path, reserved)?;
        let public_url = match given.public_url.map(str::trim) {
            Some(url) => url.to_owned(),
            None => format!("{}{path}", origin(&tenant.hook_url)),
        };
        check_public_url(&public_url)?;
        let jwks_url = match (given.jwks_url.map(str::trim), dev) {
            (Some(url), _) => url.to_owned(),
            (None, Some(local)) => format!("http://{local}{DEV_JWKS_PATH}"),
            (None, None) => format!(
                "{}{TENANT_JWKS_PATH}",
                tenant.issuer.trim().trim_end_matches('/')
            ),
        };
        // The library's own rule: https, or http on a loopback address.
        let unused = |_| async { Err::<String, _>(FetchError::new("not fetched")) };
        RemoteKeys::new(&jwks_url, unused).map_err(|error| {
            let setting = if given.jwks_url.is_some() {
                "HOOK_WEBHOOK_JWKS_URL"
            } else {
                "HOOK_ISSUER"
            };
            ConfigError::new(setting, error)
        })?;
        Ok(Some(Self {
            id,
            path,
            public_url,
            jwks_url,
            simulated_at: dev,
        }))
    }
}

/// MATTR VII's webhook ids are UUIDs; anything printable and short enough
/// to sit in a store key is accepted.
fn check_id(id: &str) -> Result<(), ConfigError> {
    let printable = id.bytes().all(|byte| byte.is_ascii_graphic());
    if id.is_empty() || id.len() > MAX_EVENT_ID_LEN || !printable {
        return Err(ConfigError::new(
            "HOOK_WEBHOOK_ID",
            format!(
                "expected the webhook's id as MATTR VII returned it: 1 to {MAX_EVENT_ID_LEN} \
                 printable characters, no spaces (the value given is not shown)"
            ),
        ));
    }
    Ok(())
}

/// A path of plain segments, not the root, not ending with a slash, and
/// clear of the server's other paths (either way: neither under the
/// other).
fn check_path(path: &str, reserved: &[&str]) -> Result<(), ConfigError> {
    let plain = path.len() > 1
        && path.starts_with('/')
        && !path.ends_with('/')
        && !path.contains("//")
        && path
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte));
    if !plain {
        return Err(ConfigError::new(
            "HOOK_WEBHOOK_PATH",
            "expected a path such as /webhooks/mattr: letters, digits and -._~ in segments, no \
             trailing slash (the value given is not shown)",
        ));
    }
    let under = |inner: &str, outer: &str| {
        inner == outer
            || inner
                .strip_prefix(outer)
                .is_some_and(|rest| rest.starts_with('/'))
    };
    match reserved
        .iter()
        .find(|other| under(path, other) || under(other, path))
    {
        Some(other) => Err(ConfigError::new(
            "HOOK_WEBHOOK_PATH",
            format!("collides with the server's own {other}"),
        )),
        None => Ok(()),
    }
}

/// An absolute http(s) URL with a host and no query, as MATTR VII takes.
fn check_public_url(url: &str) -> Result<(), ConfigError> {
    let fine = Url::parse(url).is_ok_and(|url| {
        matches!(url.scheme(), "https" | "http")
            && url.host_str().is_some()
            && url.query().is_none()
            && url.fragment().is_none()
    });
    if !fine {
        return Err(ConfigError::new(
            "HOOK_WEBHOOK_URL",
            "expected the webhook URL as configured at MATTR VII, e.g. \
             https://hook.example.com/webhooks/mattr, with no query (the value given is not shown)",
        ));
    }
    Ok(())
}

/// `https://hook.example.com` of `https://hook.example.com/interaction`.
fn origin(url: &str) -> String {
    Url::parse(url)
        .map(|url| url.origin().ascii_serialization())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use hook_layer::HookSecret;

    use super::*;

    fn tenant() -> TenantSettings {
        TenantSettings {
            name: None,
            issuer: "https://tenant.vii.au01.mattr.global/".to_owned(),
            hook_url: "https://hook.example.com/interaction".to_owned(),
            secrets: vec![HookSecret::from_bytes(&[7; 32]).unwrap()],
        }
    }

    const RESERVED: [&str; 3] = ["/interaction", "/healthz", "/dev"];

    fn resolve(given: &Given<'_>) -> Result<Option<WebhookSettings>, ConfigError> {
        WebhookSettings::resolve(given, &tenant(), &RESERVED, None)
    }

    #[test]
    fn off_without_an_id_outside_dev_mode() {
        assert_eq!(resolve(&Given::default()).unwrap(), None);
        let orphan = Given {
            jwks_url: Some("https://keys.example/jwks"),
            ..Given::default()
        };
        assert_eq!(
            resolve(&orphan).unwrap_err().to_string(),
            "HOOK_WEBHOOK_ID: required with HOOK_WEBHOOK_URL or HOOK_WEBHOOK_JWKS_URL"
        );
    }

    #[test]
    fn defaults_come_from_the_tenant_and_the_hook_url() {
        let given = Given {
            id: Some(" 7d1a7bd9-3f0e-4c6e-9d54-8c1f1f0b2a11 "),
            ..Given::default()
        };
        let settings = resolve(&given).unwrap().unwrap();
        assert_eq!(settings.id, "7d1a7bd9-3f0e-4c6e-9d54-8c1f1f0b2a11");
        assert_eq!(settings.path, DEFAULT_PATH);
        assert_eq!(
            settings.public_url,
            "https://hook.example.com/webhooks/mattr"
        );
        assert_eq!(
            settings.jwks_url,
            "https://tenant.vii.au01.mattr.global/v1/webhooks/jwks"
        );
        assert_eq!(settings.simulated_at, None);
    }

    #[test]
    fn dev_mode_serves_the_simulated_tenants_webhook() {
        let local = "127.0.0.1:3000".parse().unwrap();
        let settings =
            WebhookSettings::resolve(&Given::default(), &tenant(), &RESERVED, Some(local))
                .unwrap()
                .unwrap();
        assert_eq!(settings.id, DEV_WEBHOOK_ID);
        assert_eq!(
            settings.jwks_url,
            "http://127.0.0.1:3000/dev/v1/webhooks/jwks"
        );
        assert_eq!(settings.simulated_at, Some(local));
    }

    #[test]
    fn bad_settings_are_named_without_their_values() {
        let cases: [(Given<'_>, &str); 6] = [
            (
                Given {
                    id: Some("has leak"),
                    ..Given::default()
                },
                "HOOK_WEBHOOK_ID: expected",
            ),
            (
                Given {
                    id: Some("w"),
                    path: Some("/leak?x"),
                    ..Given::default()
                },
                "HOOK_WEBHOOK_PATH: expected",
            ),
            (
                Given {
                    id: Some("w"),
                    path: Some("/interaction/hooks"),
                    ..Given::default()
                },
                "HOOK_WEBHOOK_PATH: collides with the server's own /interaction",
            ),
            (
                Given {
                    id: Some("w"),
                    path: Some("/dev/hooks"),
                    ..Given::default()
                },
                "HOOK_WEBHOOK_PATH: collides with the server's own /dev",
            ),
            (
                Given {
                    id: Some("w"),
                    public_url: Some("https://hook.example.com/w?leak"),
                    ..Given::default()
                },
                "HOOK_WEBHOOK_URL: expected",
            ),
            (
                Given {
                    id: Some("w"),
                    jwks_url: Some("http://keys.example/leak"),
                    ..Given::default()
                },
                "HOOK_WEBHOOK_JWKS_URL: a JWKS URL is https",
            ),
        ];
        for (given, expected) in cases {
            let message = resolve(&given).unwrap_err().to_string();
            assert!(message.starts_with(expected), "{message}");
            assert!(!message.contains("leak"), "{message}");
        }
    }
}
