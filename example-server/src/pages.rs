//! The HTML pages: plain, accessible markup and one local stylesheet.
//! Nothing loads from outside the server.

use std::fmt::Write;

use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use http::{HeaderValue, StatusCode};
use serde_json::Value;

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// An HTML response. The policy allows only this server's own resources
/// and forbids framing: a consent page must not be clickjacked.
pub fn html(status: StatusCode, body: String) -> Response {
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

/// The journey's steps, for the progress bar.
const STEPS: [&str; 4] = ["Welcome", "Terms", "Details", "Verify"];

/// The page frame. `step` (1-based) draws the progress bar.
pub fn layout(title: &str, step: Option<usize>, main: &str) -> String {
    let mut steps = String::new();
    if let Some(current) = step {
        steps.push_str(r#"<ol class="steps" aria-label="Progress">"#);
        for (index, name) in STEPS.iter().enumerate() {
            let number = index + 1;
            // The colour of the bar says it to the eye; the hidden text says
            // it to a screen reader.
            let (attributes, status) = match number.cmp(&current) {
                std::cmp::Ordering::Less => (r#" class="done""#, " (done)"),
                std::cmp::Ordering::Equal => (r#" aria-current="step""#, ""),
                std::cmp::Ordering::Greater => ("", ""),
            };
            let status = if status.is_empty() {
                String::new()
            } else {
                format!(r#"<span class="visually-hidden">{status}</span>"#)
            };
            let _ = write!(steps, "<li{attributes}>{name}{status}</li>");
        }
        steps.push_str("</ol>");
    }
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Acme Credentials</title>
<link rel="stylesheet" href="/assets/style.css">
</head>
<body>
<header class="site"><span class="brand">Acme Credentials</span><span class="tag">Credential issuance</span></header>
<main id="main"><div class="card">
{steps}{main}
</div></main>
<footer>An interaction hook for MATTR VII, built with hook-layer.</footer>
</body>
</html>
"#,
        title = escape(title),
    )
}

/// A JSON value as readable text: strings without quotes.
pub fn display_value(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A definition list of claims.
pub fn claims_list(claims: &serde_json::Map<String, Value>) -> String {
    let mut list = String::from(r#"<dl class="claims">"#);
    let mut empty = true;
    for (name, value) in claims {
        empty = false;
        let _ = write!(
            list,
            "<dt>{}</dt><dd>{}</dd>",
            escape(name),
            escape(&display_value(value))
        );
    }
    if empty {
        return "<p><em>None.</em></p>".to_owned();
    }
    list.push_str("</dl>");
    list
}

/// What most error pages advise.
const RESTART: &str = "Return to your wallet and start the credential issuance again.";

/// A short error page.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    html(
        status,
        layout(title, None, &error_main(title, message, RESTART)),
    )
}

fn error_main(title: &str, message: &str, advice: &str) -> String {
    format!(
        r#"<h1>{}</h1><div class="notice error" role="alert">{}</div>
<p>{}</p>"#,
        escape(title),
        escape(message),
        escape(advice),
    )
}

/// The page for a request the hook layer refused.
pub fn rejection(rejection: &hook_layer::Rejection) -> Response {
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
    let message = format!(
        "{}. ({})",
        capitalize(&rejection.to_string()),
        rejection.code()
    );
    // The layer's own response carries the status, the WWW-Authenticate
    // challenge and the rejection; only the body and its type change.
    let page = layout(title, None, &error_main(title, &message, advice));
    let mut response = rejection.to_response(axum::body::Body::from(page));
    set_html_headers(&mut response);
    response
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn layout_marks_the_current_step() {
        let page = layout("Terms", Some(2), "<p>x</p>");
        assert!(page.contains(
            r#"<li class="done">Welcome<span class="visually-hidden"> (done)</span></li><li aria-current="step">Terms</li><li>Details</li>"#
        ));
        assert!(!layout("T", None, "").contains("steps"));
    }
}
