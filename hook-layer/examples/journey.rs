//! A journey of two pages with the journey toolkit: page one asks for an
//! email address and the acceptance of the terms, page two for a one-time
//! code. What page two needs from page one travels with the browser,
//! sealed by the session (`seal_for` / `open_for`); wrong codes are limited
//! per session by an `AttemptLimiter`, which reserves an attempt before the
//! code is checked; and `Answers` signs one response per session, however
//! often the last step is submitted.
//!
//! ```text
//! cargo run -p hook-layer --example journey
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
//!
//! There is no mail here: the code page shows the code it would have sent.

mod demo;

use std::error::Error;
use std::future::ready;
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use demo::{Settings, escape};
use hook_layer::attempts::{
    AnswerError, Answered, Answers, AttemptError, AttemptLimiter, MemoryStore,
};
use hook_layer::{HookRedirect, HookSession, OpenError};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

/// Wrong codes allowed per session.
const CODE_ATTEMPTS: u64 = 3;

/// What the code step keeps across requests: the attempt counts and which
/// sessions were answered, in one store; and where the pages' forms go.
#[derive(Clone)]
struct Journey {
    codes: AttemptLimiter,
    answers: Answers,
    paths: Arc<Paths>,
}

/// Where the forms go: below the hook URL's path.
struct Paths {
    email: String,
    code: String,
    decline: String,
}
/// What a sealed value is for: a value sealed for anything else is refused
/// where this one is expected.
const CODE_SENT: &str = "code-sent";

/// The user claims this hook reads from the session token, if the tenant
/// sends them.
#[derive(Clone, Deserialize)]
struct Profile {
    given_name: Option<String>,
    email: Option<String>,
}

type Session = HookSession<Profile>;

/// Page one's answers, sealed into page two's form: the browser carries
/// them but can neither read nor change them, nor take them to another
/// session.
#[derive(Serialize, Deserialize)]
struct CodeSent {
    email: String,
    code: String,
}

/// Page one: an email address and the terms.
async fn welcome(State(journey): State<Journey>, session: Session) -> Response {
    let email = session.claims().email.clone().unwrap_or_default();
    email_page(&journey.paths, &session, &email, None)
}

fn email_page(paths: &Paths, session: &Session, email: &str, error: Option<&str>) -> Response {
    let name = session.claims().given_name.as_deref().unwrap_or("there");
    let token = session.token();
    let (status, error) = match error {
        Some(error) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(r#"<p role="alert">{}</p>"#, escape(error)),
        ),
        None => (StatusCode::OK, String::new()),
    };
    page(
        status,
        "Your email address",
        &format!(
            r#"<h1>Hello, {name}</h1>
{error}
<form method="post" action="{email_action}?session_token={token}">
  <label for="email">Email address for your one-time code</label>
  <input id="email" name="email" type="email" value="{email}" autocomplete="email">
  <label><input name="terms" type="checkbox"> I accept the terms of service</label>
  <button type="submit">Send me a code</button>
</form>
<form method="post" action="{decline}?session_token={token}">
  <button type="submit">No thanks, stop the issuance</button>
</form>"#,
            name = escape(name),
            email = escape(email),
            email_action = paths.email,
            decline = paths.decline,
        ),
    )
}

#[derive(Deserialize)]
struct EmailForm {
    #[serde(default)]
    email: String,
    /// Present only when the box is ticked.
    terms: Option<String>,
}

/// Page one's answers: checked, then sealed into page two with a fresh
/// code.
async fn send_code(
    State(journey): State<Journey>,
    session: Session,
    Form(form): Form<EmailForm>,
) -> Response {
    let paths = &journey.paths;
    let email = form.email.trim();
    if !email.contains('@') || email.len() > 254 {
        return email_page(paths, &session, email, Some("Enter your email address."));
    }
    if form.terms.is_none() {
        return email_page(paths, &session, email, Some("Accept the terms to go on."));
    }
    let Ok(number) = getrandom::u32() else {
        return page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Please try again",
            "<p>We could not make a code just now.</p>",
        );
    };
    // A real hook emails the code here, and never shows it.
    let sent = CodeSent {
        email: email.to_owned(),
        // The bias of `% 1_000_000` on 32 random bits is under 0.03%.
        code: format!("{:06}", number % 1_000_000),
    };
    code_page(paths, &session, &sent, StatusCode::OK, None)
}

/// Page two: the code, with page one's answers sealed in a hidden field.
fn code_page(
    paths: &Paths,
    session: &Session,
    sent: &CodeSent,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let sealed = match session.seal_for(CODE_SENT, sent) {
        Ok(sealed) => sealed,
        Err(error) => return could_not_complete(&error),
    };
    let error = error
        .map(|error| format!(r#"<p role="alert">{}</p>"#, escape(error)))
        .unwrap_or_default();
    page(
        status,
        "Your one-time code",
        &format!(
            r#"<h1>Check your email</h1>
<p>We would have sent a code to {email}. This example sends no mail, so here
it is: <strong id="demo-code">{code}</strong></p>
{error}
<form method="post" action="{action}?session_token={token}">
  <input type="hidden" name="sent" value="{sealed}">
  <label for="code">One-time code</label>
  <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code">
  <button type="submit">Check the code</button>
</form>"#,
            email = escape(&sent.email),
            code = escape(&sent.code),
            action = paths.code,
            token = session.token(),
        ),
    )
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    sent: String,
    #[serde(default)]
    code: String,
}

/// Page two's answer. An attempt is reserved before the code is checked,
/// so however many requests arrive at once, no more than `CODE_ATTEMPTS`
/// codes are ever checked for a session.
async fn check_code(
    State(journey): State<Journey>,
    session: Session,
    Form(form): Form<CodeForm>,
) -> Response {
    let sent: CodeSent = match session.open_for(CODE_SENT, &form.sent) {
        Ok(sent) => sent,
        Err(OpenError::Expired) => return session_over(),
        // Changed, forged, or from another session.
        Err(_) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Something went wrong",
                "<p>This page was changed or belongs to another session. \
                 Start again from your wallet.</p>",
            );
        }
    };
    if form.code.trim().is_empty() {
        // Not an attempt: nothing was entered.
        return code_page(
            &journey.paths,
            &session,
            &sent,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Enter the code."),
        );
    }
    let attempt = match journey.codes.attempt(&session).await {
        Ok(attempt) => attempt,
        // Every attempt is used (another tab, or the back button, got here
        // first). Sign nothing: the request that used the last attempt
        // answers the session, with the right code or with a failure.
        Err(AttemptError::Exhausted { .. }) => {
            return page(
                StatusCode::CONFLICT,
                "No attempts left",
                "<p>Every attempt for this session is used. Go back to your wallet.</p>",
            );
        }
        Err(AttemptError::SessionOver) => return session_over(),
        // The store is down: no count, so no check. The holder may try
        // again later.
        Err(AttemptError::Store(error)) => return try_again_later(&error),
        // Whatever else may refuse an attempt: no check either.
        Err(error) => return try_again_later(&error),
    };
    if form.code.trim() == sent.code {
        return answer(verified(&session, &sent, &journey.answers).await);
    }
    if attempt.remaining == 0 {
        // That was the last one: fail the issuance now rather than show a
        // form that can only refuse.
        let limit = journey.codes.limit();
        let failure = session.fail(format!("The one-time code was wrong {limit} times"));
        return answer(failure.redirect_once(&journey.answers).await);
    }
    let left = attempt.remaining;
    let plural = if left == 1 { "" } else { "s" };
    let error = format!("That code is not right. {left} attempt{plural} left.");
    code_page(
        &journey.paths,
        &session,
        &sent,
        StatusCode::UNPROCESSABLE_ENTITY,
        Some(&error),
    )
}

/// The right code: the issuance goes on with what the journey learnt, and
/// MATTR VII is asked to keep the email address on the user record.
async fn verified(
    session: &Session,
    sent: &CodeSent,
    answers: &Answers,
) -> Result<HookRedirect, AnswerError> {
    session
        .complete()
        .claim("email", &sent.email)
        .and_then(|completion| completion.claim("emailVerified", true))
        .and_then(|completion| completion.claim("termsAccepted", true))
        .map_err(AnswerError::Completion)?
        .persist(["email"])
        .redirect_once(answers)
        .await
}

/// "No thanks": the issuance fails.
async fn decline(State(journey): State<Journey>, session: Session) -> Response {
    let failure = session.fail("The holder declined the terms");
    answer(failure.redirect_once(&journey.answers).await)
}

/// The redirect back to MATTR VII, or why there is none: the session was
/// answered already (a reload, a second tab), or the store is down.
fn answer(result: Result<HookRedirect, AnswerError>) -> Response {
    match result {
        Ok(redirect) => redirect.into_response(),
        // The one response this session has: offered again, never a
        // second one (a reload, a second tab, a reply lost on the way).
        Err(AnswerError::AlreadyAnswered(answer)) => {
            let outcome = match answer.outcome() {
                Answered::Completed => "has already been completed",
                Answered::Ended => "has already ended",
            };
            page(
                StatusCode::CONFLICT,
                "Already answered",
                &format!(
                    "<p>This issuance {outcome}. \
                     <a href=\"{}\">Continue to your wallet</a>.</p>",
                    // A serialized URL holds no quote or angle bracket.
                    answer.redirect().url().replace('&', "&amp;")
                ),
            )
        }
        Err(AnswerError::SessionBeforeStore) => page(
            StatusCode::CONFLICT,
            "Please start again",
            "<p>This hook restarted since your session began. \
             Start again from your wallet.</p>",
        ),
        Err(AnswerError::Store(error)) => try_again_later(&error),
        Err(AnswerError::SessionOver) => session_over(),
        Err(error) => could_not_complete(&error),
    }
}

/// No attempt could be reserved, so the code is not checked.
fn try_again_later(error: &dyn Error) -> Response {
    eprintln!("no attempt reserved, no code checked: {error}");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Please try again later",
        "<p>We cannot check codes right now. Nothing was checked; \
         try again in a minute.</p>",
    )
}

/// The session token was valid when the request arrived but its session
/// ended since: nothing more can be done in it.
fn session_over() -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Your session is over",
        "<p>This session has ended. Go back to your wallet and start again.</p>",
    )
}

fn could_not_complete(error: &dyn Error) -> Response {
    eprintln!("could not go on: {error}");
    page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Please try again",
        "<p>Something went wrong on our side.</p>",
    )
}

#[tokio::main]
async fn main() -> ExitCode {
    demo::run(serve).await
}

/// The hook's pages behind the layer, at the hook URL's path, and, in the
/// demo, MATTR VII's.
async fn serve(listener: TcpListener, settings: Settings) -> Result<(), Box<dyn Error>> {
    let paths = Arc::new(Paths {
        email: settings.path("email"),
        code: settings.path("code"),
        decline: settings.path("decline"),
    });
    // One store for the process; several replicas would share a
    // `RedisStore` (feature `redis`) instead.
    let store = Arc::new(MemoryStore::default());
    let journey = Journey {
        codes: AttemptLimiter::new("code", CODE_ATTEMPTS, store.clone()),
        answers: Answers::new(store),
        paths: Arc::clone(&paths),
    };

    let mut app = Router::new()
        .route(&settings.path(""), get(welcome))
        .route(&paths.email, post(send_code))
        .route(&paths.code, post(check_code))
        .route(&paths.decline, post(decline))
        // Guards the routes above only: a request without a valid session
        // token never reaches them.
        .route_layer(settings.layer().claims::<Profile>())
        .with_state(journey);
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

/// A whole HTML page around `body`.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
{body}
</body></html>"#
    );
    (status, Html(html)).into_response()
}
