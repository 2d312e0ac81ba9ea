//! What the examples share and none of them is about: the tenant settings
//! (real tenants read as the `config` feature reads them, or a demo tenant
//! played by `MockIssuer`), the port, the demo's MATTR VII pages (`/` and
//! `/callback`), and the start and end of the process.
//!
//! Only `http` types here, no web framework: each example wires `/` and
//! `/callback` in its own, and the hyper one stays free of axum.

use std::error::Error;
use std::process::ExitCode;

use hook_layer::config::{HookSettings, TenantSettings};
use hook_layer::testing::{MockIssuer, Outcome};
use hook_layer::{HookSecret, InteractionHookLayer};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use http::{HeaderValue, Response, StatusCode, Uri};
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The media type of the demo's plain-text answers.
const TEXT: &str = "text/plain; charset=utf-8";

/// Runs an example: listens on 127.0.0.1, `PORT` (default 3000; 0 for any
/// free one), reads the settings, prints where to start and hands the
/// listener and the settings to `serve`. An error, from here or from
/// `serve`, ends the process with its message and a failure status.
pub async fn run<F, Fut>(serve: F) -> ExitCode
where
    F: FnOnce(TcpListener, Settings) -> Fut,
    Fut: Future<Output = Result<(), Box<dyn Error>>>,
{
    let started = async {
        let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
        let base = format!("http://{}", listener.local_addr()?);
        let settings = settings(&base)?;
        match &settings.demo {
            Some(demo) => println!("open this in a browser: {base}{}", demo.start_uri()),
            None => println!(
                "listening on {base}; MATTR VII sends holders to {}",
                settings.hook.hook_path()
            ),
        }
        serve(listener, settings).await
    };
    match started.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// What the hook needs to know about its tenants, and, in the demo, the
/// stand-in for MATTR VII.
pub struct Settings {
    /// The tenants, their secrets, and the hook URLs' path, where the
    /// journey is mounted.
    pub hook: HookSettings,
    /// Plays MATTR VII when no tenant is configured.
    pub demo: Option<Demo>,
}

impl Settings {
    /// The layer for the tenants; in the demo, one that lets the holder go
    /// back to this machine, where the demo's MATTR VII is (a real
    /// tenant's redirect URL is always https on the tenant).
    pub fn layer(&self) -> InteractionHookLayer {
        let layer = self.hook.layer();
        match self.demo {
            Some(_) => layer.allow_loopback_redirects(),
            None => layer,
        }
    }

    /// The path of a step of the journey: `step` below the hook URL's path
    /// (`""` for that path itself). `/interaction/finish` for
    /// `https://hook.example.com/interaction`, `/finish` for
    /// `https://abcd.ngrok.app`.
    pub fn path(&self, step: &str) -> String {
        let base = self.hook.hook_path().trim_end_matches('/');
        match step {
            "" if base.is_empty() => "/".to_owned(),
            "" => base.to_owned(),
            step => format!("{base}/{step}"),
        }
    }
}

/// The tenants from `HOOK_SECRET`, `HOOK_ISSUER` and `HOOK_URL`, or from
/// the tenants file `HOOK_TENANTS`, read and checked as the `config`
/// feature does (a rotation's older secrets after the current one,
/// comma-separated; no error shows a secret). With none of them set, a
/// demo tenant played by `MockIssuer`, which sends holders back to this
/// server's `/callback`.
fn settings(base: &str) -> Result<Settings, Box<dyn Error>> {
    let names = ["HOOK_SECRET", "HOOK_ISSUER", "HOOK_URL", "HOOK_TENANTS"];
    let unset = |name: &&str| std::env::var_os(name).is_none_or(|value| value.is_empty());
    if !names.iter().all(unset) {
        return Ok(Settings {
            hook: HookSettings::from_env()?,
            demo: None,
        });
    }
    // A fixed secret is fine for a demo on 127.0.0.1 and nothing else:
    // anyone who reads this file can sign tokens with it.
    let secret = HookSecret::from_bytes(b"demo only, never in production!!")?;
    let hook_url = format!("{base}/interaction");
    let mattr = MockIssuer::new(secret.clone())
        .hook_url(&hook_url)
        .redirect_url(format!("{base}/callback"));
    let hook = HookSettings::for_tenant(TenantSettings {
        name: None,
        issuer: mattr.tenant_url().to_owned(),
        hook_url,
        secrets: vec![secret],
    })?;
    let start = hook.hook_path().to_owned();
    Ok(Settings {
        hook,
        demo: Some(Demo {
            mattr,
            base: base.to_owned(),
            start,
        }),
    })
}

/// `PORT`, or 3000.
fn port() -> Result<u16, Box<dyn Error>> {
    match std::env::var("PORT") {
        Ok(port) => Ok(port.parse().map_err(|_| "PORT must be a port number")?),
        Err(_) => Ok(3000),
    }
}

/// The demo's MATTR VII, on this server: `/` starts an issuance and
/// `/callback` is where the holder comes back. Both pages are outside the
/// layer: they carry no session token of the hook's.
pub struct Demo {
    mattr: MockIssuer,
    /// `http://127.0.0.1:<port>`.
    base: String,
    /// The hook's first page: the hook URL's path.
    start: String,
}

impl Demo {
    /// A fresh session token for a sample holder, as MATTR VII would send
    /// the browser to the hook with it. Each example reads the claims it
    /// needs and ignores the others.
    pub fn start_uri(&self) -> String {
        self.mattr
            .session()
            .claim("given_name", "Ada")
            .claim("email", "ada@example.com")
            .uri(&self.start)
    }

    /// `/`: starts another issuance.
    pub fn start(&self) -> Response<String> {
        let mut response = respond(StatusCode::SEE_OTHER, TEXT, String::new());
        if let Ok(location) = HeaderValue::try_from(self.start_uri()) {
            response.headers_mut().insert(LOCATION, location);
        }
        response
    }

    /// `/callback`: where MATTR VII would continue the issuance. It reads
    /// the response token as MATTR VII would and shows the outcome as JSON.
    pub fn callback(&self, uri: &Uri) -> Response<String> {
        let outcome = match self.mattr.read_redirect(&format!("{}{uri}", self.base)) {
            Ok(response) => outcome(response.outcome),
            Err(error) => {
                let refusal = format!("MATTR VII would refuse this response: {error}");
                return respond(StatusCode::BAD_REQUEST, TEXT, refusal);
            }
        };
        println!(
            "MATTR VII read: {outcome}; open {}/ to start again",
            self.base
        );
        respond(StatusCode::OK, "application/json", format!("{outcome:#}\n"))
    }
}

/// What MATTR VII read, as the JSON `/callback` shows.
fn outcome(outcome: Outcome) -> Value {
    match outcome {
        Outcome::Completed {
            claims,
            claims_to_persist,
        } => json!({
            "outcome": "completed",
            "claims": claims,
            "claimsToPersist": claims_to_persist,
        }),
        Outcome::Failed { message } => json!({ "outcome": "failed", "message": message }),
    }
}

/// A response of the demo's, which no cache keeps.
fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<String> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Text for an HTML page: claims and answers come from outside.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
