//! The quick start on axum: one page that greets the holder with the claims
//! from the session token, and two buttons, one that completes the
//! interaction with a claim and one that fails the issuance.
//!
//! ```text
//! cargo run -p hook-layer --example quickstart
//! ```
//!
//! With `HOOK_SECRET` (base64, as MATTR VII returns it), `HOOK_ISSUER` (the
//! tenant URL) and `HOOK_URL` (the hook URL configured on the tenant) set, it
//! serves a real tenant. Without them it plays MATTR VII itself with
//! `MockIssuer` and prints a URL to open in a browser; the journey ends on a
//! `/callback` page that shows what MATTR VII would have read. `PORT` picks
//! the port (default 3000; 0 for any free one).

use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use hook_layer::testing::{MockIssuer, Outcome};
use hook_layer::{CompletionError, HookRedirect, HookSecret, HookSession, InteractionHookLayer};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;

/// The user claims this hook reads from the session token. Which claims
/// arrive is configured on the tenant; a field that could be missing is an
/// `Option`, since a token whose claims do not fit this type is refused.
#[derive(Clone, Deserialize)]
struct Profile {
    given_name: Option<String>,
}

/// The first page: a greeting and the two ways out. The session token
/// travels in each form's action, since the layer verifies it on every
/// request.
async fn welcome(session: HookSession<Profile>) -> Html<String> {
    let name = session.claims().given_name.as_deref().unwrap_or("there");
    let token = session.token();
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Welcome</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>Hello, {name}</h1>
<form method="post" action="/interaction/finish?session_token={token}">
  <label for="preferred_name">What should we call you?</label>
  <input id="preferred_name" name="preferred_name" value="{name}" required>
  <button type="submit">Continue</button>
</form>
<form method="post" action="/interaction/decline?session_token={token}">
  <button type="submit">No thanks, stop the issuance</button>
</form>
</body></html>"#,
        name = escape(name),
    ))
}

#[derive(Deserialize)]
struct Details {
    preferred_name: String,
}

/// "Continue": the issuance goes on with a claim, which MATTR VII is asked
/// to keep on the user record. `HookRedirect` and `CompletionError` are
/// both axum responses: a `303 See Other` back to MATTR VII, or a plain 500.
async fn finish(
    session: HookSession<Profile>,
    Form(details): Form<Details>,
) -> Result<HookRedirect, CompletionError> {
    session
        .complete()
        .claim("preferredName", details.preferred_name.trim())?
        .persist(["preferredName"])
        .redirect()
}

/// "No thanks": the issuance fails, with this message in the response
/// token's `error.message`.
async fn decline(session: HookSession<Profile>) -> Result<HookRedirect, CompletionError> {
    session.fail("The holder declined").redirect()
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let listener = TcpListener::bind(("127.0.0.1", port()?)).await?;
    let base = format!("http://{}", listener.local_addr()?);
    let settings = settings(&base)?;

    let mut layer = InteractionHookLayer::new(settings.secret)
        .issuer(settings.issuer)
        .audience(settings.hook_url);
    if settings.demo.is_some() {
        // The demo's MATTR VII is this process, on 127.0.0.1; a real
        // tenant's redirect URL is always https on the tenant.
        layer = layer.allow_loopback_redirects();
    }

    let app = Router::new()
        .route("/interaction", get(welcome))
        .route("/interaction/finish", post(finish))
        .route("/interaction/decline", post(decline))
        // Guards the routes above only: a request without a valid session
        // token never reaches them.
        .route_layer(layer.claims::<Profile>());

    let app = match settings.demo {
        Some(demo) => {
            println!("open this in a browser: {base}{}", demo.start_uri());
            app.merge(demo.routes())
        }
        None => {
            println!("listening on {base}; MATTR VII sends holders to /interaction");
            app
        }
    };
    axum::serve(listener, app).await?;
    Ok(())
}

/// What the hook needs to know about its tenant, and, in the demo, the
/// stand-in for MATTR VII.
struct Settings {
    secret: HookSecret,
    issuer: String,
    hook_url: String,
    /// Plays MATTR VII when no tenant is configured.
    demo: Option<Demo>,
}

/// The tenant from `HOOK_SECRET`, `HOOK_ISSUER` and `HOOK_URL` when all
/// three are set; otherwise a demo tenant, played by `MockIssuer`, that
/// sends holders back to this server's `/callback`.
fn settings(base: &str) -> Result<Settings, Box<dyn Error>> {
    let names = ["HOOK_SECRET", "HOOK_ISSUER", "HOOK_URL"];
    match names.map(|name| std::env::var(name).ok()) {
        [Some(secret), Some(issuer), Some(hook_url)] => Ok(Settings {
            // Parsing the base64 secret never echoes it in an error.
            secret: secret
                .trim()
                .parse()
                .map_err(|error| format!("HOOK_SECRET: {error}"))?,
            issuer,
            hook_url,
            demo: None,
        }),
        [None, None, None] => {
            // A fixed secret is fine for a demo on 127.0.0.1 and nothing
            // else: anyone who reads this file can sign tokens with it.
            let secret = HookSecret::from_bytes(b"demo only, never in production!!")?;
            let hook_url = format!("{base}/interaction");
            let mattr = MockIssuer::new(secret.clone())
                .hook_url(&hook_url)
                .redirect_url(format!("{base}/callback"));
            Ok(Settings {
                secret,
                issuer: mattr.tenant_url().to_owned(),
                hook_url,
                demo: Some(Demo {
                    mattr,
                    base: base.to_owned(),
                }),
            })
        }
        _ => Err("set all of HOOK_SECRET, HOOK_ISSUER and HOOK_URL, or none for the demo".into()),
    }
}

/// `PORT`, or 3000.
fn port() -> Result<u16, Box<dyn Error>> {
    match std::env::var("PORT") {
        Ok(port) => Ok(port.parse().map_err(|_| "PORT must be a port number")?),
        Err(_) => Ok(3000),
    }
}

/// The demo's MATTR VII, on this server: `/` starts an issuance and
/// `/callback` is where the holder comes back.
struct Demo {
    mattr: MockIssuer,
    /// `http://127.0.0.1:<port>`.
    base: String,
}

impl Demo {
    /// A fresh session token for a sample holder, as MATTR VII would send
    /// the browser to the hook with it.
    fn start_uri(&self) -> String {
        self.mattr
            .session()
            .claim("given_name", "Ada")
            .uri("/interaction")
    }

    fn routes(self) -> Router {
        Router::new()
            .route("/", get(start))
            .route("/callback", get(callback))
            .with_state(Arc::new(self))
    }
}

/// Demo only: starts another issuance.
async fn start(State(demo): State<Arc<Demo>>) -> Redirect {
    Redirect::to(&demo.start_uri())
}

/// Demo only: where MATTR VII would continue the issuance. It reads the
/// response token as MATTR VII would and shows the outcome.
async fn callback(State(demo): State<Arc<Demo>>, uri: Uri) -> Response {
    let outcome = match demo.mattr.read_redirect(&format!("{}{uri}", demo.base)) {
        Ok(response) => match response.outcome {
            Outcome::Completed {
                claims,
                claims_to_persist,
            } => json!({
                "outcome": "completed",
                "claims": claims,
                "claimsToPersist": claims_to_persist,
            }),
            Outcome::Failed { message } => json!({ "outcome": "failed", "message": message }),
        },
        Err(error) => {
            let refusal = format!("MATTR VII would refuse this response: {error}");
            return (StatusCode::BAD_REQUEST, refusal).into_response();
        }
    };
    println!(
        "MATTR VII read: {outcome}; open {}/ to start again",
        demo.base
    );
    let headers = [
        (header::CONTENT_TYPE, "application/json"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    (headers, format!("{outcome:#}\n")).into_response()
}

/// Text for an HTML page: claims come from outside.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
