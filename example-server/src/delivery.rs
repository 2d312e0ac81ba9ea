//! Getting the one-time code to the holder: the [`CodeSender`] trait, and
//! the two senders this example has.
//!
//! - [`ShowOnScreen`] (dev mode only): the code page shows the code.
//! - [`LogOnly`] (otherwise): a log line says that a code was sent, to whom
//!   (masked), never the code; the holder sees no code anywhere.
//!
//! **SMS or email plugs in here.** Write a sender that calls your provider
//! and return it from [`for_config`]:
//!
//! ```
//! use example_server::delivery::{Channel, CodeSender, DeliveryError, Recipient, Sending};
//! # struct MyMailClient;
//! # impl MyMailClient {
//! #     async fn send(&self, _to: &str, _subject: &str, _body: &str) -> Result<(), std::io::Error> {
//! #         Ok(())
//! #     }
//! # }
//!
//! struct Email {
//!     client: MyMailClient,
//! }
//!
//! impl CodeSender for Email {
//!     fn channel(&self) -> Channel {
//!         Channel::Email
//!     }
//!
//!     fn send<'a>(&'a self, to: &'a Recipient, code: &'a str) -> Sending<'a> {
//!         Box::pin(async move {
//!             let address = to.email.as_deref().ok_or(DeliveryError::NoAddress)?;
//!             self.client
//!                 .send(address, "Your Acme code", &format!("Your code is {code}."))
//!                 .await
//!                 .map_err(|error| DeliveryError::Failed(error.to_string()))
//!         })
//!     }
//! }
//! ```
//!
//! The code page's wording for each [`Channel`] is in `templates/code.html`.
//! A sender is called once per code, after the send was counted against the
//! session's limit; if it fails, the page asks the holder to try again.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::Value;

use crate::claims::UserClaims;
use crate::config::Config;

/// What [`CodeSender::send`] returns: a boxed future, so that senders can
/// call a provider asynchronously and still be shared as `dyn CodeSender`.
pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>>;

/// Sends a one-time code to the holder.
pub trait CodeSender: Send + Sync {
    /// How the code reaches the holder, for the code page's wording.
    fn channel(&self) -> Channel;

    /// Sends `code` to `to`. Never log `code`.
    fn send<'a>(&'a self, to: &'a Recipient, code: &'a str) -> Sending<'a>;
}

/// How a code reaches the holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// On the code page itself: dev mode only.
    Screen,
    /// Nowhere: nothing is configured to send codes (see [`LogOnly`]).
    Nowhere,
    /// By email, to [`Recipient::email`].
    Email,
    /// By text message, to [`Recipient::phone_number`].
    Sms,
}

/// Where a code can go, from the session's claims.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipient {
    /// The `email` claim.
    pub email: Option<String>,
    /// The `phone_number` claim.
    pub phone_number: Option<String>,
}

impl Recipient {
    /// The recipient of the session with `claims`.
    pub fn from_claims(claims: &UserClaims) -> Self {
        Self {
            email: claims.email.clone(),
            phone_number: claims
                .other
                .get("phone_number")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    }

    /// The address for `channel`, masked for the page and the logs, e.g.
    /// `a***@example.com` or `***21 34`.
    pub fn masked(&self, channel: Channel) -> String {
        match channel {
            Channel::Sms => self
                .phone_number
                .as_deref()
                .map_or_else(|| "no phone number".to_owned(), mask_phone),
            _ => self
                .email
                .as_deref()
                .map_or_else(|| "no email address".to_owned(), mask_email),
        }
    }
}

/// `ada@example.com` -> `a***@example.com`: enough to tell, not to harvest.
fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".to_owned(),
    }
}

/// `+64 21 555 0134` -> `***0134`: the last four digits.
fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    let last: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("***{last}")
}

/// Why a code could not be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// The session's claims have no address for this channel.
    NoAddress,
    /// The provider refused or could not be reached; the reason, for logs
    /// (never the code).
    Failed(String),
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoAddress => f.write_str("the session has no address to send a code to"),
            Self::Failed(why) => write!(f, "the code could not be sent: {why}"),
        }
    }
}

impl std::error::Error for DeliveryError {}

/// Dev mode: the code page shows the code, so the journey runs without a
/// mail or SMS service. Compiled only with the `dev` feature.
#[cfg(feature = "dev")]
#[derive(Debug, Clone, Copy, Default)]
pub struct ShowOnScreen;

#[cfg(feature = "dev")]
impl CodeSender for ShowOnScreen {
    fn channel(&self) -> Channel {
        Channel::Screen
    }

    fn send<'a>(&'a self, _to: &'a Recipient, _code: &'a str) -> Sending<'a> {
        tracing::debug!("one-time code shown on screen (dev mode)");
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A stand-in until a real sender is plugged in: logs that a code was sent
/// and to whom (masked), never the code. The holder cannot finish the
/// journey with it; replace it with an email or SMS sender.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogOnly;

impl CodeSender for LogOnly {
    fn channel(&self) -> Channel {
        Channel::Nowhere
    }

    fn send<'a>(&'a self, to: &'a Recipient, _code: &'a str) -> Sending<'a> {
        tracing::info!(
            to = %to.masked(Channel::Email),
            "one-time code sent (log only: no email or SMS sender is configured; the code is never logged)"
        );
        Box::pin(std::future::ready(Ok(())))
    }
}

/// The sender for `config`: [`ShowOnScreen`] in dev mode, [`LogOnly`]
/// otherwise. Return your own sender here.
pub fn for_config(config: &Config) -> Arc<dyn CodeSender> {
    #[cfg(feature = "dev")]
    if config.dev_issuer {
        return Arc::new(ShowOnScreen);
    }
    let _ = config;
    Arc::new(LogOnly)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_masked() {
        assert_eq!(mask_email("ada@example.com"), "a***@example.com");
        assert_eq!(mask_email("not an email"), "***");
        assert_eq!(mask_phone("+64 21 555 0134"), "***0134");
        assert_eq!(mask_phone("12"), "***12");
        let nobody = Recipient::default();
        assert_eq!(nobody.masked(Channel::Email), "no email address");
        assert_eq!(nobody.masked(Channel::Sms), "no phone number");
    }

    #[test]
    fn the_recipient_comes_from_the_claims() {
        let claims: UserClaims = serde_json::from_value(serde_json::json!({
            "given_name": "Ada",
            "email": "ada@example.com",
            "phone_number": "+64 21 555 0134",
        }))
        .unwrap();
        let to = Recipient::from_claims(&claims);
        assert_eq!(to.masked(Channel::Email), "a***@example.com");
        assert_eq!(to.masked(Channel::Sms), "***0134");
    }

    #[tokio::test]
    async fn log_only_sends_nothing_and_succeeds() {
        let to = Recipient::default();
        assert_eq!(LogOnly.channel(), Channel::Nowhere);
        assert_eq!(LogOnly.send(&to, "123456").await, Ok(()));
    }
}
