//! A simulated MATTR VII, for trying the journey without a tenant: it
//! starts an issuance for a sample user (minting the session token MATTR VII
//! would) and, at the callback, reads the hook's response as MATTR VII
//! would and shows the outcome.
//!
//! The issuances and the checks of answers are
//! `hook_layer::testing::SimulatedTenant`'s, as in `mattr-hook issuer`;
//! this file holds the pages. After an issuance completes, the simulated
//! tenant also sends the hook its webhook event, as MATTR VII does
//! (`dev_webhooks`).
//!
//! Compiled only with the `dev` feature. Its pages (`templates/dev/`) have
//! their own name and colours, so that it is plain where the hook starts
//! and ends.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Form, State};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use hook_layer::ClaimsMap;
use hook_layer::testing::{Callback, MockIssuer, SimulatedTenant};
use http::StatusCode;
use serde::Deserialize;

use crate::config::Config;
use crate::dev_webhooks::SimulatedWebhooks;
use crate::pages::{Claim, render};
use crate::webhook_settings::DEV_JWKS_PATH;

/// The simulated tenant's start page. Its pages live under `/dev`, so that
/// they never collide with a journey mounted at the root.
pub const START_PATH: &str = "/dev";
/// Where the simulated tenant receives the hook's response.
pub const CALLBACK_PATH: &str = "/dev/callback";
/// Where the start page's form posts.
const BEGIN_PATH: &str = "/dev/start";

/// The simulated MATTR VII: its issuances and, when the hook receives
/// webhooks, its webhook.
struct DevTenant {
    issuer: SimulatedTenant,
    webhooks: Option<Arc<SimulatedWebhooks>>,
}

/// `/dev` (start page), `/dev/start`, `/dev/callback` and, when the hook
/// receives webhooks, the simulated tenant's webhook keys.
pub fn router(config: &Config) -> Router {
    let tenant = config.tenant();
    let mock = MockIssuer::new(tenant.secrets[0].clone())
        .tenant(tenant.issuer.clone())
        .redirect_url(format!("{}{CALLBACK_PATH}", config.base_url()));
    let issuer = match SimulatedTenant::new(mock, &tenant.hook_url) {
        Ok(issuer) => issuer,
        // Not reached: the settings were read with the hook URL checked.
        Err(error) => {
            tracing::error!(%error, "the simulated MATTR VII cannot send the browser to HOOK_URL");
            return Router::new();
        }
    };
    let webhooks = config
        .webhook
        .as_ref()
        .and_then(SimulatedWebhooks::new)
        .map(Arc::new);
    let mut router = Router::new()
        .route(START_PATH, get(start_page))
        .route(BEGIN_PATH, post(start))
        .route(CALLBACK_PATH, get(callback));
    if let Some(webhooks) = &webhooks {
        let jwks = webhooks.jwks();
        router = router.route(
            DEV_JWKS_PATH,
            get(move || async move { ([(http::header::CONTENT_TYPE, "application/json")], jwks) }),
        );
    }
    router.with_state(Arc::new(DevTenant { issuer, webhooks }))
}

#[derive(Template)]
#[template(path = "dev/start.html")]
struct StartPage {
    start: &'static str,
}

async fn start_page() -> Response {
    render(StatusCode::OK, &StartPage { start: BEGIN_PATH })
}

/// The simulated MATTR VII's error page.
#[derive(Template)]
#[template(path = "dev/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    start: &'static str,
}

fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let page = ErrorPage {
        title,
        message,
        start: START_PATH,
    };
    render(status, &page)
}

#[derive(Deserialize)]
struct StartForm {
    #[serde(default)]
    given_name: String,
    #[serde(default)]
    email: String,
}

async fn start(State(tenant): State<Arc<DevTenant>>, Form(form): Form<StartForm>) -> Response {
    let mut claims = ClaimsMap::new();
    for (name, value) in [("given_name", form.given_name), ("email", form.email)] {
        if !value.trim().is_empty() {
            claims.insert(name.to_owned(), value.trim().into());
        }
    }
    let start = match tenant.issuer.start(&claims) {
        Ok(start) => start,
        Err(error) => {
            tracing::error!(%error, "could not start an issuance");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Could not start",
                "Try again.",
            );
        }
    };
    let mut response = axum::response::IntoResponse::into_response(Redirect::to(&start.url));
    response.headers_mut().insert(
        http::header::REFERRER_POLICY,
        http::HeaderValue::from_static("no-referrer"),
    );
    response
}

async fn callback(State(tenant): State<Arc<DevTenant>>, uri: http::Uri) -> Response {
    let target = uri.path_and_query().map_or("/", |target| target.as_str());
    let (claims, persisted, failure, state) = match tenant.issuer.callback(target) {
        Callback::Completed {
            state,
            claims,
            claims_to_persist,
        } => {
            // As MATTR VII does once the credential is issued; the page
            // does not wait for it.
            if let Some(webhooks) = &tenant.webhooks {
                webhooks.issued(&state, &claims);
            }
            let claims = claims
                .iter()
                .map(|(name, value)| Claim::named(name, value))
                .collect();
            (claims, claims_to_persist, None, state)
        }
        Callback::Failed { state, message } => (Vec::new(), Vec::new(), Some(message), state),
        Callback::Rejected { check, reason, .. } => {
            let (title, message) = match check {
                "session_token" => ("No response", "The hook sent no session_token.".to_owned()),
                "state" => (
                    "Unknown issuance",
                    format!(
                        "This response answers no issuance in progress: {reason}. Reloading the outcome page answers it twice."
                    ),
                ),
                _ => (
                    "Response refused",
                    format!("MATTR VII would refuse it: {reason}."),
                ),
            };
            return error_page(StatusCode::BAD_REQUEST, title, &message);
        }
        _ => {
            return error_page(
                StatusCode::BAD_REQUEST,
                "Response refused",
                "Unknown outcome.",
            );
        }
    };
    let page = OutcomePage {
        failure,
        claims,
        persisted,
        state,
        start: START_PATH,
    };
    render(StatusCode::OK, &page)
}

/// The outcome of an issuance, as MATTR VII read the hook's response.
#[derive(Template)]
#[template(path = "dev/outcome.html")]
struct OutcomePage {
    /// The hook's reason, when it failed the interaction.
    failure: Option<String>,
    /// The claims it returned, under their own names, when it completed.
    claims: Vec<Claim>,
    /// The claims to store on the user record.
    persisted: Vec<String>,
    state: String,
    start: &'static str,
}
