//! The HTML pages: askama templates in `example-server/templates/`, plain,
//! accessible markup and one local stylesheet. Nothing loads from outside
//! the server.
//!
//! Each page is a struct deriving [`Template`] that names its template
//! file; a handler fills one in and passes it to [`render`]. Askama escapes
//! every value for HTML, attribute values and URLs included, so no handler
//! writes markup. To restyle or reword the pages, edit the templates and
//! `src/assets/style.css`: the handlers need no change.
//!
//! | template | page |
//! |---|---|
//! | `base.html` | the frame: head, header, main, footer |
//! | `macros.html` | the progress bar and the list of claims |
//! | `welcome.html`, `terms.html`, `details.html`, `code.html` | the journey's steps |
//! | `error.html`, `rejection.html`, `answered.html`, `not_found.html`, `landing.html` | the hook's other pages |
//! | `dev/*.html` | the simulated MATTR VII (dev mode) |

use askama::Template;
use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use http::{HeaderValue, StatusCode};
use serde_json::Value;

/// `page` rendered as an HTML response with `status`. A page that cannot
/// be rendered is logged and answered with the 500 page instead.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => html(status, body),
        Err(error) => render_failed(&error),
    }
}

fn render_failed(error: &askama::Error) -> Response {
    tracing::error!(%error, "could not render a page");
    let page = ErrorPage {
        title: "Something went wrong on our side",
        message: "This page could not be shown.",
        advice: "The problem has been logged. Please try again later.",
    };
    match page.render() {
        Ok(body) => html(StatusCode::INTERNAL_SERVER_ERROR, body),
        // Even the error page failed: a plain-text answer, never a panic.
        Err(_) => {
            let mut response = (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side. Please try again later.",
            )
                .into_response();
            response
                .headers_mut()
                .insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            response
        }
    }
}

/// An HTML response. The policy allows only this server's own resources
/// and forbids framing: a consent page must not be clickjacked.
fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    set_html_headers(&mut response);
    response
}

fn set_html_headers(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
}

/// One row of a list of claims: what to call it and its value as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The claim's name as shown.
    pub label: String,
    /// The value as shown: strings without quotes.
    pub value: String,
}

impl Claim {
    /// A claim shown under a readable label, e.g. `given_name` as "Given
    /// name": for the holder.
    pub fn labelled(name: &str, value: &Value) -> Self {
        Self {
            label: label(name),
            value: display_value(value),
        }
    }

    /// A claim shown under its own name, e.g. `preferredName`: for
    /// developers.
    pub fn named(name: &str, value: &Value) -> Self {
        Self {
            label: name.to_owned(),
            value: display_value(value),
        }
    }
}

/// A JSON value as readable text: strings without quotes.
pub fn display_value(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A readable label for a claim name: the OpenID Connect standard claims
/// by their usual names, anything else split into words
/// (`preferredName` and `preferred_name` both read "Preferred name").
pub fn label(name: &str) -> String {
    let known = match name {
        "sub" => Some("User ID"),
        "birthdate" => Some("Date of birth"),
        "zoneinfo" => Some("Time zone"),
        "locale" => Some("Language"),
        "updated_at" => Some("Last updated"),
        _ => None,
    };
    if let Some(known) = known {
        return known.to_owned();
    }
    let mut words = String::with_capacity(name.len() + 4);
    let mut previous: Option<char> = None;
    for c in name.chars() {
        if matches!(c, '_' | '-' | '.' | ' ') {
            if !words.is_empty() && !words.ends_with(' ') {
                words.push(' ');
            }
        } else if c.is_uppercase() && previous.is_some_and(char::is_lowercase) {
            words.push(' ');
            words.extend(c.to_lowercase());
        } else if words.is_empty() {
            words.extend(c.to_uppercase());
        } else {
            words.extend(c.to_lowercase());
        }
        previous = Some(c);
    }
    let words = words.trim_end();
    if words.is_empty() {
        name.to_owned()
    } else {
        words.to_owned()
    }
}

/// What most error pages advise.
pub(crate) const RESTART: &str = "Return to your wallet and start the credential issuance again.";

/// A short error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    advice: &'a str,
}

/// A short error page that advises starting again from the wallet.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    render(
        status,
        &ErrorPage {
            title,
            message,
            advice: RESTART,
        },
    )
}

/// The page for a request the hook layer refused.
#[derive(Template)]
#[template(path = "rejection.html")]
struct RejectionPage<'a> {
    title: &'a str,
    /// The rejection's own message, e.g. "the session token has expired".
    reason: String,
    /// Its stable code, e.g. `expired`.
    code: &'a str,
    advice: &'a str,
    /// In dev mode, the simulated MATTR VII's start page: a way on from a
    /// dead end.
    dev_start: Option<&'a str>,
}

/// The page for a request the hook layer refused, with a link to the
/// simulated MATTR VII's start page `dev_start` in dev mode.
pub fn rejection(rejection: &hook_layer::Rejection, dev_start: Option<&str>) -> Response {
    use hook_layer::Rejection;
    let (title, advice) = match rejection {
        Rejection::Expired => ("This session has expired", RESTART),
        Rejection::MissingToken => ("Start from your wallet", RESTART),
        Rejection::ClaimsMismatch | Rejection::CryptoFailure => (
            "Something went wrong on our side",
            "The problem has been logged. Please try again later.",
        ),
        _ => ("This link is not valid", RESTART),
    };
    let page = RejectionPage {
        title,
        reason: capitalize(&rejection.to_string()),
        code: rejection.code(),
        advice,
        dev_start,
    };
    let body = match page.render() {
        Ok(body) => body,
        Err(error) => return render_failed(&error),
    };
    // The layer's own response carries the status, the WWW-Authenticate
    // challenge and the rejection; only the body and its type change.
    let mut response = rejection.to_response(axum::body::Body::from(body));
    set_html_headers(&mut response);
    response
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The page for an address that leads nowhere.
#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage<'a> {
    dev_start: Option<&'a str>,
}

/// A 404 page, with a link to the simulated MATTR VII's start page
/// `dev_start` in dev mode.
pub fn not_found(dev_start: Option<&str>) -> Response {
    render(StatusCode::NOT_FOUND, &NotFoundPage { dev_start })
}

/// What `/` shows when the journey lives elsewhere and there is no
/// simulated MATTR VII.
#[derive(Template)]
#[template(path = "landing.html")]
struct LandingPage;

/// The landing page.
pub fn landing() -> Response {
    render(StatusCode::OK, &LandingPage)
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;

    #[test]
    fn values_are_escaped_in_text_and_attributes() {
        let page = RejectionPage {
            title: "<script>alert(1)</script>",
            reason: "a \"quoted\" & <b>bold</b> reason".to_owned(),
            code: "x'y",
            advice: RESTART,
            dev_start: Some("/dev\" onclick=\"alert(1)"),
        }
        .render()
        .unwrap();
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(!page.contains("<b>bold"), "{page}");
        assert!(!page.contains("\" onclick"), "{page}");
        assert!(page.contains("&#60;script&#62;"), "{page}");
    }

    #[test]
    fn the_progress_bar_marks_the_current_step() {
        #[derive(Template)]
        #[template(
            source = r#"{% import "macros.html" as ui %}{{ ui::progress(2) }}"#,
            ext = "html"
        )]
        struct Progress;
        let bar = Progress.render().unwrap();
        let squeezed: String = bar.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            squeezed.contains(
                r#"<li class="done">Welcome<span class="visually-hidden"> (done)</span></li>"#
            ),
            "{squeezed}"
        );
        assert!(
            squeezed.contains(r#"<li aria-current="step">Terms</li>"#),
            "{squeezed}"
        );
        assert!(squeezed.contains(r#"<li>Details</li>"#), "{squeezed}");
        let error = ErrorPage {
            title: "T",
            message: "M",
            advice: "A",
        }
        .render()
        .unwrap();
        assert!(!error.contains("steps"), "no progress bar off the journey");
    }

    #[test]
    fn labels_are_readable() {
        assert_eq!(label("given_name"), "Given name");
        assert_eq!(label("email"), "Email");
        assert_eq!(label("preferredName"), "Preferred name");
        assert_eq!(label("phone_number_verified"), "Phone number verified");
        assert_eq!(label("birthdate"), "Date of birth");
        assert_eq!(label("__"), "__");
        assert_eq!(label("ÉCOLE_id"), "École id");
    }

    /// A value whose `Display` fails, as a broken template helper would.
    struct Broken;

    impl fmt::Display for Broken {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            Err(fmt::Error)
        }
    }

    #[test]
    fn a_page_that_cannot_render_is_a_500_page() {
        #[derive(Template)]
        #[template(source = "<p>{{ broken }}</p>", ext = "html")]
        struct BrokenPage {
            broken: Broken,
        }
        let response = render(StatusCode::OK, &BrokenPage { broken: Broken });
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
        assert!(response.headers().contains_key(CONTENT_SECURITY_POLICY));
    }

    #[test]
    fn rejections_keep_the_layer_status_and_challenge() {
        let response = rejection(&hook_layer::Rejection::MissingToken, Some("/dev"));
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert_eq!(response.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(response.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    }
}
