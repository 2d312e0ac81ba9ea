//! `mattr-hook issuer`: the simulated MATTR VII served over HTTP on
//! 127.0.0.1. The issuances and the checks of answers are
//! `hook_layer::testing::SimulatedTenant`'s, the example server's `/dev`
//! pages' too; this file only serves them.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use hook_layer::ClaimsMap;
use hook_layer::testing::{Callback, MockIssuer, SimulatedTenant};
use http::{HeaderValue, StatusCode, header};

use crate::secret::Secrets;
use crate::usage::UsageError;

/// Where the hook sends its answer.
const CALLBACK_PATH: &str = "/callback";

struct Served {
    tenant: SimulatedTenant,
    claims: ClaimsMap,
}

/// Serves until interrupted. The first line on standard output is the
/// start URL; then one JSON line per callback.
pub fn serve(
    secrets: Secrets,
    issuer: String,
    hook_url: String,
    port: u16,
    claims: ClaimsMap,
) -> Result<ExitCode, UsageError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| UsageError::new("runtime", error))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|error| UsageError::new("--port", format!("cannot listen on 127.0.0.1:{port} ({error})")))?;
        let local = listener
            .local_addr()
            .map_err(|error| UsageError::new("--port", error))?;
        let base = format!("http://{local}");
        let mock = MockIssuer::new(secrets.current())
            .tenant(issuer)
            .redirect_url(format!("{base}{CALLBACK_PATH}"));
        let tenant = SimulatedTenant::new(mock, &hook_url)
            .map_err(|error| UsageError::new("--hook-url", error))?;
        let served = Arc::new(Served { tenant, claims });
        let app = Router::new()
            .route("/", get(start_page))
            .route("/start", get(start))
            .route(CALLBACK_PATH, get(callback))
            .with_state(served);
        say(&format!("{base}/start"));
        eprintln!(
            "mattr-hook issuer: a simulated MATTR VII for {hook_url}; open {base}/ or GET {base}/start"
        );
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                // Without a signal handler the server runs until killed.
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            })
            .await
            .map_err(|error| UsageError::new("server", error))?;
        Ok(ExitCode::SUCCESS)
    })
}

/// One line on standard output, flushed at once: scripts read it as it
/// comes.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

async fn start_page(State(served): State<Arc<Served>>) -> Response {
    let claims = serde_json::Value::Object(served.claims.clone()).to_string();
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Simulated MATTR VII</title></head>\
         <body><h1>Simulated MATTR VII</h1>\
         <p>Begins an issuance for the hook at <code>{}</code>, with the claims <code>{}</code>.</p>\
         <form method=\"get\" action=\"/start\"><button>Start an issuance</button></form></body></html>",
        escape(served.tenant.hook_url()),
        escape(&claims),
    );
    page(StatusCode::OK, body)
}

async fn start(State(served): State<Arc<Served>>) -> Response {
    match served.tenant.start(&served.claims) {
        Ok(start) => {
            let mut response = StatusCode::SEE_OTHER.into_response();
            let headers = response.headers_mut();
            match HeaderValue::from_str(&start.url) {
                Ok(location) => {
                    headers.insert(header::LOCATION, location);
                }
                Err(_) => return page(StatusCode::INTERNAL_SERVER_ERROR, "bad hook URL".into()),
            }
            // The address holds a bearer token: it must not leak onward.
            headers.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => page(
            StatusCode::INTERNAL_SERVER_ERROR,
            escape(&error.to_string()),
        ),
    }
}

async fn callback(State(served): State<Arc<Served>>, uri: http::Uri) -> Response {
    let target = uri.path_and_query().map_or("/", |target| target.as_str());
    let answer = served.tenant.callback(target);
    say(&answer.to_json().to_string());
    let (title, detail) = match &answer {
        Callback::Completed {
            claims,
            claims_to_persist,
            ..
        } => (
            "Issuance completed".to_owned(),
            format!(
                "Claims: {}. To persist: {}.",
                serde_json::Value::Object(claims.clone()),
                claims_to_persist.join(", ")
            ),
        ),
        Callback::Failed { message, .. } => (
            "Issuance failed".to_owned(),
            format!("The hook said: {message}"),
        ),
        Callback::Rejected { check, reason, .. } => (
            format!("Response refused: {check}"),
            format!("MATTR VII would refuse it: {reason}."),
        ),
        _ => ("Unknown".to_owned(), String::new()),
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1 id=\"outcome\">{title}</h1><p id=\"detail\">{detail}</p>\
         <p><a href=\"/\">Start again</a></p></body></html>",
        title = escape(&title),
        detail = escape(&detail),
    );
    page(answer.status(), body)
}

fn page(status: StatusCode, body: String) -> Response {
    let mut response = (status, Html(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Text for HTML: claims and messages come from the hook.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}
