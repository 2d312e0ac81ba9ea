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
    response
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
            let attributes = match number.cmp(&current) {
                std::cmp::Ordering::Less => r#" class="done""#,
                std::cmp::Ordering::Equal => r#" aria-current="step""#,
                std::cmp::Ordering::Greater => "",
            };
            let _ = write!(steps, "<li{attributes}>{name}</li>");
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

/// A short error page.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let main = format!(
        r#"<h1>{}</h1><div class="notice error" role="alert">{}</div>
<p>Return to your wallet and start the credential issuance again.</p>"#,
        escape(title),
        escape(message),
    );
    html(status, layout(title, None, &main))
}

/// The page for a request the hook layer refused.
pub fn rejection(rejection: &hook_layer::Rejection) -> Response {
    let title = match rejection {
        hook_layer::Rejection::Expired => "This session has expired",
        hook_layer::Rejection::MissingToken => "Start from your wallet",
        _ => "This link is not valid",
    };
    let message = format!(
        "{}. ({})",
        capitalize(&rejection.to_string()),
        rejection.code()
    );
    let mut response = error_page(rejection.status(), title, &message);
    response.extensions_mut().insert(rejection.clone());
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
            r#"<li class="done">Welcome</li><li aria-current="step">Terms</li><li>Details</li>"#
        ));
        assert!(!layout("T", None, "").contains("steps"));
    }
}
