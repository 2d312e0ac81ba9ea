//! `mattr-hook check`: a token shown and judged. The verdict is the
//! layer's own (`InteractionHookLayer::verify`, the code path a hook runs);
//! the list of checks comes from the order the layer makes them
//! (`Check::ALL`) and the one that refused (`Rejection::check`), so nothing
//! here re-implements a rule.

use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hook_layer::testing::{Callback, MockIssuer, SimulatedTenant};
use hook_layer::{Check, HookSession, InteractionHookLayer, Rejection, SESSION_TOKEN_PARAM};
use serde_json::Value;

use crate::secret::Secrets;
use crate::usage::UsageError;

/// Longest claim value shown whole; longer ones are cut, with their length.
const SHOWN_CHARS: usize = 40;

/// What the hook is configured with, as far as a check is concerned.
pub struct Settings {
    /// The expected `iss` (the tenant URL).
    pub issuer: String,
    /// The expected `aud` (the hook URL).
    pub hook_url: String,
    /// Whether a loopback `redirectUrl` is accepted.
    pub allow_loopback: bool,
    /// Judge as at this Unix time.
    pub at: Option<u64>,
}

/// A token, or an address holding one.
pub enum Input {
    /// A compact token as given.
    Token(String),
    /// An address as given, and its request target (path and query, as a
    /// server receives it).
    Url {
        /// The whole address.
        full: String,
        /// `/path?query`, unaltered.
        target: String,
    },
}

impl Input {
    /// A URL when it has a scheme or starts with `/`; a token otherwise.
    pub fn read(text: &str) -> Result<Self, UsageError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(UsageError::new("TOKEN_OR_URL", "empty"));
        }
        let target = if let Some((_, rest)) = text.split_once("://") {
            url::Url::parse(text).map_err(|error| {
                UsageError::new("TOKEN_OR_URL", format!("not a valid URL ({error})"))
            })?;
            // The target as sent, not as the url crate would re-encode it:
            // the layer must see what a server would.
            match rest.find(['/', '?']) {
                Some(at) if rest[at..].starts_with('?') => format!("/{}", &rest[at..]),
                Some(at) => rest[at..].to_owned(),
                None => "/".to_owned(),
            }
        } else if text.starts_with('/') {
            text.to_owned()
        } else {
            return Ok(Self::Token(text.to_owned()));
        };
        let target = target.split_once('#').map_or(target.as_str(), |(t, _)| t);
        if target.parse::<http::Uri>().is_err() {
            return Err(UsageError::new(
                "TOKEN_OR_URL",
                "not a valid request target (path and query)",
            ));
        }
        Ok(Self::Url {
            full: text.to_owned(),
            target: target.to_owned(),
        })
    }

    /// The token to show: as given, or the first `session_token` in the
    /// query.
    fn token(&self) -> Option<String> {
        match self {
            Self::Token(token) => Some(token.clone()),
            Self::Url { target, .. } => {
                let query = target.split_once('?')?.1;
                form_urlencoded::parse(query.as_bytes())
                    .find(|(name, _)| name == SESSION_TOKEN_PARAM)
                    .map(|(_, value)| value.into_owned())
            }
        }
    }
}

/// Explains a session token; whether the layer accepts it.
pub fn session_token(secrets: Secrets, settings: &Settings, input: &Input) -> bool {
    show_token(input);
    let mut secrets = secrets.all().iter().cloned();
    let Some(current) = secrets.next() else {
        return false;
    };
    let mut layer = InteractionHookLayer::new(current)
        .issuer(settings.issuer.as_str())
        .audience(settings.hook_url.as_str());
    for previous in secrets {
        layer = layer.previous_secret(previous);
    }
    if settings.allow_loopback {
        layer = layer.allow_loopback_redirects();
    }
    if let Some(at) = settings.at {
        layer = layer.clock(move || UNIX_EPOCH + Duration::from_secs(at));
    }
    let verdict: Result<HookSession, Rejection> = match input {
        Input::Token(token) => layer.verify_token(token),
        Input::Url { target, .. } => match target.parse() {
            Ok(uri) => layer.verify(&uri),
            Err(_) => Err(Rejection::MissingToken),
        },
    };
    println!("checks:");
    let refused_at = verdict.as_ref().err().map(Rejection::check);
    for check in Check::ALL {
        let (mark, note) = match refused_at {
            Some(refused) if check == refused => (
                "FAIL",
                verdict
                    .as_ref()
                    .err()
                    .map_or(String::new(), ToString::to_string),
            ),
            Some(refused) if check > refused => ("-", "not reached".to_owned()),
            _ if check == Check::Request && matches!(input, Input::Token(_)) => {
                ("pass", "given as a token".to_owned())
            }
            _ => ("pass", check.describe().to_owned()),
        };
        println!("  {mark:<4}  {:<12}  {note}", check.name());
    }
    match verdict {
        Ok(session) => {
            println!(
                "verdict: accepted (state {}, secret {})",
                shorten(session.state()),
                session.secret_index() + 1
            );
            true
        }
        Err(rejection) => {
            println!(
                "verdict: refused: {} ({}): {rejection}",
                rejection.code(),
                rejection.status().as_u16()
            );
            false
        }
    }
}

/// Checks a response to MATTR VII as `mattr-hook issuer`'s callback does
/// (without the bookkeeping of issuances in progress); whether it is valid.
pub fn response(secrets: &Secrets, settings: &Settings, input: &Input) -> bool {
    show_token(input);
    let mut mock = MockIssuer::new(secrets.current())
        .tenant(settings.issuer.as_str())
        .hook_url(settings.hook_url.as_str());
    if let Some(at) = settings.at {
        mock = mock.clock(move || UNIX_EPOCH + Duration::from_secs(at));
    }
    let tenant = match SimulatedTenant::new(mock, &settings.hook_url) {
        Ok(tenant) => tenant,
        Err(_) => return false,
    };
    let read = match input {
        Input::Token(token) => tenant.read_token(token),
        Input::Url { full, .. } => tenant.read(full),
    };
    match read {
        Ok(response) => {
            let outcome = match response.outcome {
                hook_layer::testing::Outcome::Completed {
                    claims,
                    claims_to_persist,
                } => format!(
                    "completed, claims {}, claimsToPersist {:?}",
                    shortened(&Value::Object(claims)),
                    claims_to_persist
                ),
                hook_layer::testing::Outcome::Failed { message } => {
                    format!("failed: {}", shorten(&message))
                }
            };
            println!(
                "verdict: valid ({outcome}), state {}",
                shorten(&response.state)
            );
            true
        }
        Err(Callback::Rejected { check, reason, .. }) => {
            println!("verdict: rejected: {check}: {reason}");
            false
        }
        Err(_) => false,
    }
}

/// Prints the token's header and payload, values shortened; never the
/// signature.
fn show_token(input: &Input) {
    let Some(token) = input.token() else {
        println!("token: none in the address");
        return;
    };
    let mut segments = token.split('.');
    for name in ["header", "payload"] {
        let shown = segments
            .next()
            .and_then(|segment| URL_SAFE_NO_PAD.decode(segment).ok())
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .map_or_else(
                || "(not base64url JSON)".to_owned(),
                |json| shortened(&json).to_string(),
            );
        println!("{name}: {shown}");
    }
}

/// `json` with every long string cut.
fn shortened(json: &Value) -> Value {
    match json {
        Value::String(text) => Value::String(shorten(text)),
        Value::Array(items) => Value::Array(items.iter().map(shortened).collect()),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(name, value)| (shorten(name), shortened(value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `text`, cut to its first characters when long, with its length.
pub fn shorten(text: &str) -> String {
    let count = text.chars().count();
    if count <= SHOWN_CHARS {
        return text.to_owned();
    }
    let head: String = text.chars().take(SHOWN_CHARS).collect();
    format!("{head}…({count} chars)")
}
