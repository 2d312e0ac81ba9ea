//! The hook itself: welcome, terms of service, extra details, a one-time
//! code, then back to MATTR VII. Every route is behind the layer, and the
//! session token travels from page to page in links and form actions.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Form, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Router, routing::post};
use hook_layer::{
    CompletionError, HookRedirect, HookSession, InteractionHookLayer, SESSION_TOKEN_PARAM,
};
use http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use crate::config::Config;
use crate::details::{DetailsErrors, DetailsForm, today};
use crate::keys::JourneyKeys;
use crate::otp::{self, Attempts, MAX_FAILED_CODES};
use crate::pages::{self, claims_list, escape, html, layout};
use crate::progress::{Details, Progress};

/// The user claims MATTR VII passes on: the two this example greets with,
/// and whatever else the hook is configured to receive.
#[derive(Debug, Clone, Deserialize)]
pub struct UserClaims {
    /// OpenID Connect `given_name`.
    pub given_name: Option<String>,
    /// OpenID Connect `email`.
    pub email: Option<String>,
    /// Every other claim.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

type Session = HookSession<UserClaims>;

/// Where `--load-test-routes` mounts the welcome page without the layer.
pub const LOAD_TEST_WELCOME: &str = "/load-test/welcome";

/// Where each step lives, under the hook URL's path.
struct Paths {
    welcome: String,
    terms: String,
    details: String,
    verify: String,
}

#[derive(Clone)]
struct Journey {
    keys: JourneyKeys,
    paths: Arc<Paths>,
    show_code: bool,
    attempts: Arc<Attempts>,
}

/// The journey's routes, behind the interaction hook layer.
pub fn router(config: &Config) -> Router {
    // A hook URL without a path mounts the journey at the root: welcome at
    // `/`, the steps at `/terms` and so on.
    let base = config.hook_url.path().trim_end_matches('/');
    let paths = Paths {
        welcome: if base.is_empty() { "/" } else { base }.to_owned(),
        terms: format!("{base}/terms"),
        details: format!("{base}/details"),
        verify: format!("{base}/verify"),
    };
    let mut layer = InteractionHookLayer::new(config.secret.clone())
        .issuer(config.issuer.clone())
        .audience(config.audience.clone())
        .claims::<UserClaims>()
        .on_rejection(pages::rejection);
    if config.dev_issuer {
        // The simulated MATTR VII's callback is on this server, usually on
        // 127.0.0.1 over http.
        layer = layer.allow_loopback_redirects();
    }
    let mut router = Router::new()
        .route(&paths.welcome, get(welcome))
        .route(&paths.terms, get(terms).post(decide_terms))
        .route(&paths.details, post(submit_details))
        .route(&paths.verify, post(verify_code))
        // `route_layer`: only matched routes are guarded, so an unknown path is
        // a 404, not a refused token.
        .route_layer(layer);
    if config.load_test_routes {
        // Added after `.route_layer`, so outside it.
        router = router.route(LOAD_TEST_WELCOME, get(unguarded_welcome));
    }
    router.with_state(Journey {
        keys: config.keys.clone(),
        paths: Arc::new(paths),
        show_code: config.dev_issuer,
        attempts: Arc::default(),
    })
}

/// `path?session_token=...`: a step's URL for this session.
fn action(path: &str, session: &Session) -> String {
    escape(&format!("{path}?{SESSION_TOKEN_PARAM}={}", session.token()))
}

async fn welcome(State(journey): State<Journey>, session: Session) -> Response {
    welcome_page(&journey, session.claims(), session.token())
}

fn welcome_page(journey: &Journey, claims: &UserClaims, token: &str) -> Response {
    let name = claims.given_name.as_deref().unwrap_or("there");
    let mut shared = serde_json::Map::new();
    for (key, value) in [("given_name", &claims.given_name), ("email", &claims.email)] {
        if let Some(value) = value {
            shared.insert(key.to_owned(), Value::String(value.clone()));
        }
    }
    shared.extend(claims.other.clone());
    let main = format!(
        r#"<h1>Hello, {name}</h1>
<p class="lead">Before Acme issues your credential there are three short steps: our terms of service, a few details, and a one-time code. It takes about a minute.</p>
<h2>Shared from your sign-in</h2>
{claims}
<form method="get" action="{terms}">
<input type="hidden" name="{param}" value="{token}">
<div class="actions"><button type="submit">Continue</button></div>
</form>"#,
        name = escape(name),
        claims = claims_list(&shared),
        terms = escape(&journey.paths.terms),
        param = SESSION_TOKEN_PARAM,
        token = escape(token),
    );
    html(StatusCode::OK, layout("Welcome", Some(1), &main))
}

#[derive(Deserialize)]
struct UncheckedToken {
    #[serde(default)]
    session_token: String,
}

/// The welcome page for the sample user, *without* the layer: the token is
/// echoed unverified. Mounted only with `--load-test-routes`, so that a load
/// test can compare the hook's first page with the same page minus the
/// layer (see `scripts/load.sh`).
async fn unguarded_welcome(
    State(journey): State<Journey>,
    Query(query): Query<UncheckedToken>,
) -> Response {
    let claims = UserClaims {
        given_name: Some("Ada".to_owned()),
        email: Some("ada@example.com".to_owned()),
        other: BTreeMap::new(),
    };
    welcome_page(&journey, &claims, &query.session_token)
}

async fn terms(State(journey): State<Journey>, session: Session) -> Response {
    let main = format!(
        r#"<h1>Terms of service</h1>
<p class="lead">Please read and accept the terms to continue.</p>
<div class="terms" tabindex="0" role="region" aria-label="Terms of service">
<p><strong>1. The credential.</strong> Acme issues a digital credential to your wallet that states the details you confirm in this journey. You control where you present it.</p>
<p><strong>2. Your details.</strong> The preferred name you give is stored with your account so we can use it next time; your date of birth is placed in this credential only.</p>
<p><strong>3. Accuracy.</strong> You confirm the details you give are true. A credential obtained with false details may be revoked.</p>
<p><strong>4. Revocation.</strong> Acme may revoke the credential if these terms are broken or the details change.</p>
</div>
<form method="post" action="{action}">
<div class="actions">
<button type="submit" name="decision" value="accept">Accept and continue</button>
<button type="submit" name="decision" value="decline" class="secondary">Decline</button>
</div>
</form>"#,
        action = action(&journey.paths.terms, &session),
    );
    html(StatusCode::OK, layout("Terms of service", Some(2), &main))
}

#[derive(Deserialize)]
struct TermsForm {
    #[serde(default)]
    decision: String,
}

async fn decide_terms(
    State(journey): State<Journey>,
    session: Session,
    Form(form): Form<TermsForm>,
) -> Response {
    match form.decision.as_str() {
        "accept" => {
            let mut progress = Progress::start(session.state());
            progress.terms_accepted = true;
            let (form, errors) = (DetailsForm::default(), DetailsErrors::default());
            details_page(&journey, &session, &progress, &form, &errors)
        }
        "decline" => finish(
            session
                .fail("The holder declined the terms of service")
                .redirect(),
        ),
        _ => pages::error_page(
            StatusCode::BAD_REQUEST,
            "Choose an option",
            "Accept or decline the terms.",
        ),
    }
}

fn details_page(
    journey: &Journey,
    session: &Session,
    progress: &Progress,
    form: &DetailsForm,
    errors: &DetailsErrors,
) -> Response {
    let invalid = errors.preferred_name.is_some() || errors.date_of_birth.is_some();
    let mut main = String::from("<h1>A few details</h1>");
    if invalid {
        // Name and link each field with a problem, not just "highlighted".
        let mut summary = String::from(
            r#"<div class="notice error" role="alert">Please correct these fields:<ul>"#,
        );
        let labelled = [
            ("preferred_name", "Preferred name", errors.preferred_name),
            ("date_of_birth", "Date of birth", errors.date_of_birth),
        ];
        for (id, label, error) in labelled {
            if let Some(error) = error {
                let _ = write!(
                    summary,
                    r##"<li><a href="#{id}">{label}</a>: {}</li>"##,
                    escape(error)
                );
            }
        }
        summary.push_str("</ul></div>");
        main.push_str(&summary);
    } else {
        main.push_str(r#"<p class="lead">These go into your credential.</p>"#);
    }
    let _ = write!(
        main,
        r#"<form method="post" action="{action}" novalidate>
<input type="hidden" name="progress" value="{progress}">
{name}
{birth}
<div class="actions"><button type="submit">Continue</button></div>
</form>"#,
        action = action(&journey.paths.details, session),
        progress = escape(&progress.seal(&journey.keys)),
        name = field(
            "preferred_name",
            "Preferred name",
            "What should we call you?",
            "text",
            &form.preferred_name,
            errors.preferred_name,
            r#"autocomplete="nickname" maxlength="40""#
        ),
        birth = field(
            "date_of_birth",
            "Date of birth",
            "For example 1990-04-21.",
            "date",
            &form.date_of_birth,
            errors.date_of_birth,
            r#"autocomplete="bday""#
        ),
    );
    let status = if invalid {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = if invalid {
        "Error: your details"
    } else {
        "Your details"
    };
    html(status, layout(title, Some(3), &main))
}

/// A labelled input with its hint and, when invalid, its error, all tied
/// to the input for screen readers.
fn field(
    name: &str,
    label: &str,
    hint: &str,
    kind: &str,
    value: &str,
    error: Option<&str>,
    extra: &str,
) -> String {
    let (class, error_html, invalid) = match error {
        Some(message) => (
            "field invalid",
            format!(
                r#"<span class="field-error" id="{name}-error">{}</span>"#,
                escape(message)
            ),
            format!(r#" aria-invalid="true" aria-describedby="{name}-hint {name}-error""#),
        ),
        None => (
            "field",
            String::new(),
            format!(r#" aria-describedby="{name}-hint""#),
        ),
    };
    format!(
        r#"<div class="{class}"><label for="{name}">{label}</label><span class="hint" id="{name}-hint">{hint}</span>{error_html}<input type="{kind}" id="{name}" name="{name}" value="{value}" required {extra}{invalid}></div>"#,
        value = escape(value),
    )
}

async fn submit_details(
    State(journey): State<Journey>,
    session: Session,
    Form(form): Form<DetailsForm>,
) -> Response {
    let Some(mut progress) =
        open_progress(&journey, &session, &form.progress).filter(|p| p.terms_accepted)
    else {
        return start_again();
    };
    match form.validate(today()) {
        Ok(details) => {
            progress.details = Some(details);
            code_page(&journey, &session, &progress, None)
        }
        Err(errors) => details_page(&journey, &session, &progress, &form, &errors),
    }
}

/// The progress sealed in a form, if it is genuine and this session's.
fn open_progress(journey: &Journey, session: &Session, sealed: &str) -> Option<Progress> {
    Progress::open(sealed, &journey.keys, session.state())
}

fn start_again() -> Response {
    pages::error_page(
        StatusCode::BAD_REQUEST,
        "Something went wrong",
        "This page was opened out of order or its form was changed.",
    )
}

fn code_page(
    journey: &Journey,
    session: &Session,
    progress: &Progress,
    error: Option<String>,
) -> Response {
    let code = otp::code(&journey.keys, session.token());
    let delivery = if journey.show_code {
        format!(
            r#"<div class="notice dev" role="status">Dev mode: your code is <strong id="dev-code">{code}</strong>. A real hook sends it by SMS or email.</div>"#
        )
    } else {
        // Once per session's first visit here, not again on a wrong code.
        if error.is_none() {
            send_code(session);
        }
        r#"<p class="lead">Enter the 6-digit code sent to the email address on your account.</p>
<div class="notice dev" role="status">This example server has no way to send codes: run it with <code>--dev-issuer</code> to see them on this page.</div>"#
            .to_owned()
    };
    let (class, error_html, invalid) = match &error {
        Some(message) => (
            "field invalid",
            format!(
                r#"<span class="field-error" id="code-error" role="alert">{}</span>"#,
                escape(message)
            ),
            r#" aria-invalid="true" aria-describedby="code-error""#,
        ),
        None => ("field", String::new(), ""),
    };
    let main = format!(
        r#"<h1>Enter your one-time code</h1>
{delivery}
<form method="post" action="{action}" novalidate>
<input type="hidden" name="progress" value="{progress}">
<div class="{class}"><label for="code">One-time code</label>{error_html}<input type="text" id="code" name="code" class="code" inputmode="numeric" autocomplete="one-time-code" maxlength="12" required{invalid}></div>
<div class="actions"><button type="submit">Verify and finish</button></div>
</form>"#,
        action = action(&journey.paths.verify, session),
        progress = escape(&progress.seal(&journey.keys)),
    );
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = if error.is_some() {
        "Error: one-time code"
    } else {
        "One-time code"
    };
    html(status, layout(title, Some(4), &main))
}

/// Where a real hook would hand the code to an SMS or email service. This
/// example has none configured; it says so, without the code itself.
fn send_code(session: &Session) {
    let to = session
        .claims()
        .email
        .as_deref()
        .map_or_else(|| "no email claim".to_owned(), mask_email);
    tracing::info!(
        to,
        "one-time code issued; this example has no mail transport, run with --dev-issuer to show codes"
    );
}

/// `ada@example.com` -> `a***@example.com`: enough to tell, not to harvest.
fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".to_owned(),
    }
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    progress: String,
    #[serde(default)]
    code: String,
}

async fn verify_code(
    State(journey): State<Journey>,
    session: Session,
    Form(form): Form<CodeForm>,
) -> Response {
    let progress = open_progress(&journey, &session, &form.progress);
    let Some((progress, details)) = progress.and_then(|p| p.details.clone().map(|d| (p, d))) else {
        return start_again();
    };
    let too_many = || format!("The one-time code was entered incorrectly {MAX_FAILED_CODES} times");
    // Once the limit is reached, no code is checked again in this session.
    if journey.attempts.failures(session.state()) >= MAX_FAILED_CODES {
        return finish(session.fail(too_many()).redirect());
    }
    if otp::matches(&otp::code(&journey.keys, session.token()), &form.code) {
        return finish(complete_with(&session, details));
    }
    let now = unix_now();
    let session_ends = session.expires_at().map_or(now + 1200, unix);
    let failures = journey
        .attempts
        .record_failure(session.state(), session_ends, now);
    if failures >= MAX_FAILED_CODES {
        return finish(session.fail(too_many()).redirect());
    }
    let left = MAX_FAILED_CODES - failures;
    let plural = if left == 1 { "" } else { "s" };
    let error = format!("That code is not right. {left} attempt{plural} left.");
    code_page(&journey, &session, &progress, Some(error))
}

/// The successful end: the collected details go back to MATTR VII, and the
/// preferred name is stored on the user record.
fn complete_with(session: &Session, details: Details) -> Result<HookRedirect, CompletionError> {
    let Details {
        preferred_name,
        date_of_birth,
    } = details;
    session
        .complete()
        .claim("preferredName", preferred_name)?
        .claim("dateOfBirth", date_of_birth)?
        .claim("termsAccepted", true)?
        .persist(["preferredName"])
        .redirect()
}

/// The redirect back to MATTR VII, or a page saying it could not be made.
fn finish(redirect: Result<HookRedirect, CompletionError>) -> Response {
    match redirect {
        Ok(redirect) => redirect.into_response(),
        Err(error) => {
            tracing::error!(%error, "could not complete the interaction");
            pages::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "We could not finish",
                "Your answers could not be sent back to the issuer.",
            )
        }
    }
}

fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

fn unix_now() -> u64 {
    unix(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_emails() {
        assert_eq!(mask_email("ada@example.com"), "a***@example.com");
        assert_eq!(mask_email("not an email"), "***");
    }
}
