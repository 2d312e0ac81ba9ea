//! What a token's `iss` and `aud` are checked against: a value as
//! configured, compared as a URL when it is one.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde_json::value::RawValue;
use url::Url;

use crate::url_spelling::plain_url;

/// A configured `iss` or `aud`.
///
/// Claims are compared as URLs when the configured value is one: the
/// spelling of the scheme and host, a default port and an empty path versus
/// `/` do not matter (`https://Tenant.example:443` equals
/// `https://tenant.example/`), while everything else must match exactly,
/// including a trailing slash after a path. A value that is not an absolute
/// URL must match exactly. The JSON spelling is kept so that the usual
/// claim, written exactly as configured, is compared without decoding.
#[derive(Clone)]
pub(crate) struct Expected {
    value: Arc<str>,
    json: Box<str>,
    url: Option<Url>,
}

/// The claim is not a JSON string.
pub(crate) struct NotAString;

impl Expected {
    /// The value as configured.
    pub(crate) fn value(&self) -> &str {
        &self.value
    }

    pub(crate) fn new(value: String) -> Self {
        let json = serde_json::Value::String(value.clone()).to_string().into();
        Self {
            url: Url::parse(&value).ok(),
            value: value.into(),
            json,
        }
    }

    /// Whether the raw claim names this value; when it does, the claim's
    /// own spelling of it, which is what a response must echo.
    pub(crate) fn find(&self, raw: &RawValue) -> Result<Option<Arc<str>>, NotAString> {
        if raw.get() == &*self.json {
            return Ok(Some(Arc::clone(&self.value)));
        }
        let text = serde_json::from_str::<Cow<'_, str>>(raw.get()).map_err(|_| NotAString)?;
        Ok(self.find_text(&text))
    }

    /// As [`Expected::find`], for a decoded claim.
    pub(crate) fn find_text(&self, text: &str) -> Option<Arc<str>> {
        if text == &*self.value {
            return Some(Arc::clone(&self.value));
        }
        let same_url = self.url.as_ref().is_some_and(|url| {
            plain_url(text) && Url::parse(text).is_ok_and(|other| other == *url)
        });
        same_url.then(|| text.into())
    }
}

impl fmt::Debug for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.value, f)
    }
}
