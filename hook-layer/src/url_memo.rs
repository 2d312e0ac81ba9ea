//! `Url::parse`, remembered per thread for the last URL it parsed.
//!
//! Every token names a `redirectUrl`, and parsing it is the largest cost of
//! a verification after the HMAC and the payload's JSON: about a third of
//! the work beyond the HMAC for a small token. When a token names the URL
//! that the last token verified on the same thread named, as a tenant's
//! sessions would if MATTR VII names one callback address and tells its
//! sessions apart by `state` (not confirmed), it costs one comparison
//! instead, and the sessions share the parse. Any other URL costs the
//! parse and one allocation to share it: a URL named before but not last,
//! as with several tenants taking turns, and a URL not written in the
//! parser's own canonical form (capitals in the host, a default port, no
//! path), which is never remembered.
//!
//! What is remembered is the parse alone, a pure function of the text: the
//! redirect policy runs on every token, hit or miss. Only text that is its
//! own serialization is remembered, so the comparison with the remembered
//! URL's text is the whole key.

use std::cell::RefCell;
use std::sync::Arc;

use url::{ParseError, Url};

thread_local! {
    static LAST: RefCell<Option<Arc<Url>>> = const { RefCell::new(None) };
}

/// `Url::parse(text)`, from this thread's memory when `text` is the last URL
/// it parsed. The parse is shared, not copied: a `Url` is never changed
/// once parsed here.
pub(crate) fn parse(text: &str) -> Result<Arc<Url>, ParseError> {
    let remembered = LAST.try_with(|last| match &*last.borrow() {
        Some(url) if url.as_str() == text => Some(Arc::clone(url)),
        _ => None,
    });
    if let Ok(Some(url)) = remembered {
        return Ok(url);
    }
    let url = Arc::new(Url::parse(text)?);
    if url.as_str() == text {
        // Fails only while the thread is exiting; nothing to remember then.
        let _ = LAST.try_with(|last| *last.borrow_mut() = Some(Arc::clone(&url)));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeat_gives_what_parsing_gives() {
        for text in [
            "https://tenant.example/callback?x=1#f",
            "https://tenant.example/callback?x=1#f",
            "HTTPS://Tenant.Example:443/a/../b",
            "HTTPS://Tenant.Example:443/a/../b",
            "https://other.example/",
            "https://tenant.example/callback?x=1#f",
            "not a url",
            "not a url",
        ] {
            assert_eq!(
                parse(text).map(|url| (*url).clone()),
                Url::parse(text),
                "{text}"
            );
        }
    }

    #[test]
    fn only_text_that_is_its_own_serialization_is_remembered() {
        let text = "HTTPS://Tenant.Example/x";
        parse(text).unwrap();
        let remembered = LAST.with(|last| last.borrow().as_ref().map(|url| url.to_string()));
        assert_ne!(remembered.as_deref(), Some("https://tenant.example/x"));
        parse("https://tenant.example/y").unwrap();
        let remembered = LAST.with(|last| last.borrow().as_ref().map(|url| url.to_string()));
        assert_eq!(remembered.as_deref(), Some("https://tenant.example/y"));
    }
}
