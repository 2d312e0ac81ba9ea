//! Bad usage: what the user got wrong, said so that they can fix it. Exit
//! status 2. No message holds the secret or a whole token.

use std::fmt;

/// Bad usage: a message naming the setting and what it expects.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl UsageError {
    /// A message for `setting`.
    pub fn new(setting: &str, message: impl fmt::Display) -> Self {
        Self(format!("{setting}: {message}"))
    }
}

/// `text` as an absolute URL, spelled as given (the hook compares the
/// claims as strings).
pub fn absolute_url(setting: &str, text: &str) -> Result<String, UsageError> {
    match url::Url::parse(text) {
        Ok(url) if url.has_host() => Ok(text.to_owned()),
        Ok(_) => Err(UsageError::new(setting, "the URL has no host")),
        Err(error) => Err(UsageError::new(
            setting,
            format!("not an absolute URL ({error})"),
        )),
    }
}
