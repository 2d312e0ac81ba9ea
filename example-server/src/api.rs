//! The JSON API a native app calls for the same journey as the pages:
//! terms, details, one-time code, with the same validation, sealed
//! progress, attempt limits and single answer (see `steps.rs`).
//!
//! The app is opened by the hook URL (an app link or universal link), reads
//! `session_token` from it and sends it on every call as
//! `Authorization: Bearer <token>`; the app never holds the hook secret.
//! The app carries an opaque `progress` string from one answer to the next
//! call, and finally opens the `redirectUrl` it is given, where MATTR VII
//! continues in the browser. Refusals are JSON too: the layer's
//! (`JsonOnRejection`: `{"error": "expired", ...}` with a
//! `WWW-Authenticate: Bearer` challenge) and this API's own
//! (`{"error": "<code>", "message": "..."}`). `example-server/README.md`
//! documents every call.

use std::time::UNIX_EPOCH;

use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Json, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hook_layer::attempts::StoredAnswer;
use hook_layer::{JsonOnRejection, OnRejection, Rejection, TokenSource};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::answered::{self, AnsweredGuard, Refusals};
use crate::claims::UserClaims;
use crate::config::Config;
use crate::delivery::{Channel, Recipient};
use crate::details::{DetailsForm, today};
use crate::progress::Progress;
use crate::steps::{
    self, Checked, Dispatch, Ended, Session, Steps, Trouble, open_progress, seal_progress,
};

/// Where the API lives, under the hook URL's path: `/interaction/api`.
pub const API_PATH: &str = "/api";

#[derive(Clone)]
struct Api {
    steps: Steps,
}

/// The API's routes, behind a layer built from the same settings as the
/// pages' layer, reading the token from `Authorization: Bearer` and
/// refusing in JSON.
pub(crate) fn router(config: &Config, steps: Steps) -> Router {
    let base = format!("{}{API_PATH}", config.hook_path().trim_end_matches('/'));
    #[cfg_attr(not(feature = "dev"), allow(unused_mut))]
    let mut layer = config
        .settings
        .layer()
        .claims::<UserClaims>()
        .token_source(TokenSource::Bearer)
        .on_rejection(JsonOnRejection);
    #[cfg(feature = "dev")]
    if config.dev_issuer {
        // As for the pages: the simulated MATTR VII's callback is local.
        layer = layer.allow_loopback_redirects();
    }
    let guard = AnsweredGuard {
        answers: steps.answers.clone(),
        refusals: JsonRefusals,
        store_answers_at_once: config.attempts_in_memory(),
    };
    // `session` says whether the session was answered; the steps refuse
    // once it was.
    let steps_routes = Router::new()
        .route(&format!("{base}/terms"), post(terms))
        .route(&format!("{base}/details"), post(details))
        .route(&format!("{base}/code"), post(code))
        .route_layer(guard);
    Router::new()
        .route(&format!("{base}/session"), get(session_info))
        .merge(steps_routes)
        .route_layer(layer)
        .with_state(Api { steps })
}

/// The answered-session guard's JSON.
#[derive(Clone)]
struct JsonRefusals;

impl Refusals for JsonRefusals {
    fn answered(&self, answer: &StoredAnswer) -> Response {
        reply(StatusCode::CONFLICT, answered::json_body(answer))
    }

    fn restarted(&self) -> Response {
        trouble(Trouble::Restarted)
    }

    fn store_down(&self) -> Response {
        trouble(Trouble::StoreDown)
    }
}

/// `status` with `body` as `application/json`. The layer adds
/// `Cache-Control: no-store` and `Referrer-Policy: no-referrer`.
fn reply(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// `{"error": "<error>", "message": "<message>"}`.
fn problem(status: StatusCode, error: &str, message: &str) -> Response {
    reply(status, json!({ "error": error, "message": message }))
}

/// `422` with what is wrong with each named field.
fn invalid_fields(fields: Map<String, Value>) -> Response {
    reply(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!({
            "error": "invalid_fields",
            "message": "Some fields need correcting.",
            "fields": fields,
        }),
    )
}

/// One field's problem, for [`invalid_fields`].
fn field(name: &str, problem: &str) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert(name.to_owned(), Value::from(problem));
    fields
}

/// A body that is not the JSON object a call takes. Its details are not
/// echoed: they could quote what was sent.
fn bad_body(rejection: &JsonRejection) -> Response {
    let status = match rejection {
        JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::BAD_REQUEST,
    };
    problem(
        status,
        "invalid_body",
        "The body must be a JSON object (Content-Type: application/json) with this call's fields.",
    )
}

fn invalid_progress() -> Response {
    problem(
        StatusCode::BAD_REQUEST,
        "invalid_progress",
        "The progress is not this session's, was changed, or is not at this step yet.",
    )
}

/// The JSON for trouble that stopped a step.
fn trouble(trouble: Trouble) -> Response {
    match trouble {
        Trouble::StoreDown => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "Nothing was checked, sent or signed; try again in a moment.",
        ),
        // The same refusal as the layer's for an expired token.
        Trouble::SessionOver => JsonOnRejection.on_rejection(&Rejection::Expired),
        Trouble::Restarted => {
            let (_, message) = answered::RESTARTED;
            problem(
                StatusCode::CONFLICT,
                "session_before_restart",
                &format!("{message} Start again from the wallet."),
            )
        }
        Trouble::Broken => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "Something went wrong on our side; try again later.",
        ),
    }
}

/// `{"redirectUrl": ...}` for the app to open, or why there is none.
fn ended(ended: Ended) -> Response {
    match ended {
        Ended::Redirect(redirect) => redirect.json().into_response(),
        Ended::AlreadyAnswered(answer) => reply(StatusCode::CONFLICT, answered::json_body(&answer)),
        Ended::Trouble(problem) => trouble(problem),
    }
}

/// `200` with the sealed `progress`, the `next` call, and `more`.
fn go_on(session: &Session, progress: &Progress, next: &str, more: Map<String, Value>) -> Response {
    let Some(sealed) = seal_progress(session, progress) else {
        return trouble(Trouble::Broken);
    };
    let mut body = more;
    body.insert("progress".to_owned(), Value::from(sealed));
    body.insert("next".to_owned(), Value::from(next));
    reply(StatusCode::OK, Value::Object(body))
}

/// How codes reach the holder, as the API names it.
fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Screen => "screen",
        Channel::Nowhere => "none",
        Channel::Email => "email",
        Channel::Sms => "sms",
    }
}

/// `GET {hook}/api/session`: the session's user claims, whether it was
/// answered, when it expires and how codes are sent.
async fn session_info(State(api): State<Api>, session: Session) -> Response {
    let answered = match api.steps.answered(&session).await {
        Ok(answered) => answered,
        Err(problem) => return trouble(problem),
    };
    let expires_at = session
        .expires_at()
        .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
        .map(|since| since.as_secs());
    reply(
        StatusCode::OK,
        json!({
            "claims": session.claims(),
            "answered": answered.as_ref().map(|answer| answered::name(answer.outcome())),
            "redirectUrl": answered.as_ref().and_then(answered::offered),
            "expiresAt": expires_at,
            "codeChannel": channel_name(api.steps.sender.channel()),
        }),
    )
}

#[derive(Deserialize)]
struct TermsBody {
    #[serde(default)]
    decision: String,
}

/// `POST {hook}/api/terms`: `accept` starts the progress; `decline` ends
/// the issuance.
async fn terms(
    State(api): State<Api>,
    session: Session,
    body: Result<Json<TermsBody>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_body(&rejection),
    };
    match body.decision.as_str() {
        "accept" => {
            let progress = Progress {
                terms_accepted: true,
                ..Progress::default()
            };
            go_on(&session, &progress, "details", Map::new())
        }
        "decline" => ended(api.steps.decline(&session).await),
        _ => invalid_fields(field("decision", "Use \"accept\" or \"decline\".")),
    }
}

/// `POST {hook}/api/details`: the preferred name and date of birth,
/// validated as the form is.
async fn details(session: Session, body: Result<Json<DetailsForm>, JsonRejection>) -> Response {
    let Json(form) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_body(&rejection),
    };
    let Some(mut progress) = open_progress(&session, &form.progress).filter(|p| p.terms_accepted)
    else {
        return invalid_progress();
    };
    match form.validate(today()) {
        Ok(details) => {
            progress.details = Some(details);
            progress.code = None;
            go_on(&session, &progress, "code", Map::new())
        }
        Err(errors) => {
            let mut fields = Map::new();
            for (name, error) in [
                ("preferred_name", errors.preferred_name),
                ("date_of_birth", errors.date_of_birth),
            ] {
                if let Some(error) = error {
                    fields.insert(name.to_owned(), Value::from(error));
                }
            }
            invalid_fields(fields)
        }
    }
}

#[derive(Deserialize)]
struct CodeBody {
    #[serde(default)]
    progress: String,
    /// `send` or `check`.
    #[serde(default)]
    action: String,
    /// For `check`.
    #[serde(default)]
    code: String,
}

/// `POST {hook}/api/code`: `send` a code (the first, or another), or
/// `check` one.
async fn code(
    State(api): State<Api>,
    session: Session,
    body: Result<Json<CodeBody>, JsonRejection>,
) -> Response {
    let Json(body) = match body {
        Ok(body) => body,
        Err(rejection) => return bad_body(&rejection),
    };
    let Some(progress) = open_progress(&session, &body.progress).filter(|p| p.details.is_some())
    else {
        return invalid_progress();
    };
    match body.action.as_str() {
        "send" => send_code(&api, &session, progress).await,
        "check" => check_code(&api, &session, &progress, &body.code).await,
        _ => invalid_fields(field("action", "Use \"send\" or \"check\".")),
    }
}

async fn send_code(api: &Api, session: &Session, progress: Progress) -> Response {
    match api.steps.send_code(session, progress).await {
        Dispatch::Sent(progress) => {
            let channel = api.steps.sender.channel();
            let mut more = Map::new();
            more.insert("channel".to_owned(), Value::from(channel_name(channel)));
            more.insert(
                "sentTo".to_owned(),
                Value::from(Recipient::from_claims(session.claims()).masked(channel)),
            );
            // Dev mode shows the code on the page; the API returns it in
            // its place. No other sender puts it here.
            if channel == Channel::Screen
                && let Some(code) = &progress.code
            {
                more.insert("devCode".to_owned(), Value::from(code.as_str()));
            }
            go_on(session, &progress, "code", more)
        }
        Dispatch::Exhausted { limit } => problem(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_codes_sent",
            &steps::sends_used_message(limit),
        ),
        Dispatch::Undelivered => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "code_not_sent",
            "The code could not be sent just now; ask for another in a moment.",
        ),
        Dispatch::Trouble(problem) => trouble(problem),
    }
}

async fn check_code(api: &Api, session: &Session, progress: &Progress, code: &str) -> Response {
    match api.steps.check_code(session, progress, code).await {
        Checked::NothingSent => problem(
            StatusCode::CONFLICT,
            "no_code_sent",
            "No code has been sent yet: send one first.",
        ),
        Checked::Empty => invalid_fields(field("code", "Enter the 6-digit code.")),
        Checked::Wrong { left } => reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "error": "wrong_code",
                "message": steps::wrong_code_message(left),
                "attemptsLeft": left,
            }),
        ),
        Checked::Ended(end) => ended(end),
        Checked::Trouble(problem) => trouble(problem),
    }
}
