//! The quick start on axum: one page that greets the holder with the claims
//! from the session token, and two buttons, one that completes the
//! interaction with a claim and one that fails the issuance.
//!
//! ```text
//! cargo run -p hook-layer --example quickstart
//! ```
//!
//! With `HOOK_SECRET` (base64, as MATTR VII returns it; during a rotation
//! the current secret first, then older ones, comma-separated), `HOOK_ISSUER`
//! (the tenant URL) and `HOOK_URL` (the hook URL configured on the tenant)
//! set, or `HOOK_TENANTS` (a tenants file) instead, it serves those tenants
//! at `HOOK_URL`'s path: the settings are read as the `config` feature reads
//! them. Without any of them it plays MATTR VII itself with `MockIssuer` and
//! prints a URL to open in a browser; the journey ends on a `/callback` page
//! that shows what MATTR VII would have read. It listens on 127.0.0.1, port
//! `PORT` (default 3000; 0 for any free one).

mod demo;

use std::error::Error;
use std::future::ready;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::Uri;
use axum::response::Html;
use axum::routing::{get, post};
use demo::{Settings, escape};
use hook_layer::{CompletionError, HookRedirect, HookSession};
use serde::Deserialize;
use tokio::net::TcpListener;

/// The user claims this hook reads from the session token. Which claims
/// arrive is configured on the tenant; a field that could be missing is an
/// `Option`, since a token whose claims do not fit this type is refused.
#[derive(Clone, Deserialize)]
struct Profile {
    given_name: Option<String>,
}

/// Where the two forms go: below the hook URL's path.
struct Paths {
    finish: String,
    decline: String,
}

/// The first page: a greeting and the two ways out. The session token
/// travels in each form's action, since the layer verifies it on every
/// request.
async fn welcome(State(paths): State<Arc<Paths>>, session: HookSession<Profile>) -> Html<String> {
    let name = session.claims().given_name.as_deref().unwrap_or("there");
    let token = session.token();
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Welcome</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>Hello, {name}</h1>
<form method="post" action="{finish}?session_token={token}">
  <label for="preferred_name">What should we call you?</label>
  <input id="preferred_name" name="preferred_name" value="{name}" required>
  <button type="submit">Continue</button>
</form>
<form method="post" action="{decline}?session_token={token}">
  <button type="submit">No thanks, stop the issuance</button>
</form>
</body></html>"#,
        name = escape(name),
        finish = paths.finish,
        decline = paths.decline,
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
    demo::run(serve).await
}

/// The hook's pages behind the layer, at the hook URL's path, and, in the
/// demo, MATTR VII's.
async fn serve(listener: TcpListener, settings: Settings) -> Result<(), Box<dyn Error>> {
    let paths = Arc::new(Paths {
        finish: settings.path("finish"),
        decline: settings.path("decline"),
    });
    let mut app = Router::new()
        .route(&settings.path(""), get(welcome))
        .route(&paths.finish, post(finish))
        .route(&paths.decline, post(decline))
        // Guards the routes above only: a request without a valid session
        // token never reaches them.
        .route_layer(settings.layer().claims::<Profile>())
        .with_state(Arc::clone(&paths));
    if let Some(demo) = settings.demo.map(Arc::new) {
        // The demo's MATTR VII, outside the layer.
        let again = Arc::clone(&demo);
        app = app
            .route("/", get(move || ready(again.start())))
            .route("/callback", get(move |uri: Uri| ready(demo.callback(&uri))));
    }
    axum::serve(listener, app).await?;
    Ok(())
}
