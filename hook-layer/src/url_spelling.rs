//! Whether a URL's text reads as it parses: parsers quietly rewrite some
//! spellings, and a redirect URL, issuer or audience spelled that way
//! could name another address than a reader sees.

/// Why `raw` would be read as another URL than it says, if it would. URL
/// parsers silently strip, drop or rewrite these: whitespace and control
/// characters, a backslash (read as a slash), `https:host` (read as
/// `https://host`), and `https:///host` (read as having a host after all).
pub(crate) fn misleading_spelling(raw: &str) -> Option<&'static str> {
    let suspicious = |c: char| c.is_whitespace() || c.is_control() || c == '\\';
    // Bytes first (ASCII whitespace and controls are all <= 0x20 or 0x7f),
    // in a fold without early exit, which the compiler vectorises; the
    // slower char scan only for text that is not ASCII.
    let (ascii_suspicious, ascii) = raw.bytes().fold((false, true), |(found, ascii), b| {
        (
            found | (b <= b' ') | (b == 0x7f) | (b == b'\\'),
            ascii & b.is_ascii(),
        )
    });
    if ascii_suspicious || (!ascii && raw.chars().any(suspicious)) {
        return Some("it contains whitespace, control characters or backslashes");
    }
    // The scheme ends at the first colon, and `//` must follow it.
    let absolute = raw.split_once(':').and_then(|(scheme, rest)| {
        let alphabetic = !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphabetic());
        rest.strip_prefix("//").filter(|_| alphabetic)
    });
    let Some(rest) = absolute else {
        return Some("it is not an absolute URL");
    };
    if rest.starts_with('/') {
        return Some("its host is not introduced by exactly two slashes");
    }
    None
}

/// Whether `text` may be compared with a configured issuer or audience as
/// a URL: written plainly, so that the parser's normalisation can only
/// touch what the documentation names (the case of the scheme and host, a
/// default port, an empty path). No escapes, dot segments or non-ASCII
/// text, which the parser would decode, resolve or map.
pub(crate) fn plain_url(text: &str) -> bool {
    misleading_spelling(text).is_none()
        && text.is_ascii()
        && !text.contains('%')
        && !text.contains("/.")
}
