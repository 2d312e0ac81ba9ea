//! The session token's trip through query strings: read strictly on the way
//! in, written without disturbing anything else on the way out.

use std::borrow::Cow;

/// The parameter appears more than once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Duplicate;

/// The value has a `%` not followed by two hex digits, or decodes to bytes
/// that are not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadEncoding;

/// Finds the one raw (still percent-encoded) value of `name` in `query`.
///
/// Names are compared after decoding, as form decoders see them, so that
/// `session%5Ftoken` cannot smuggle in a second token. A repeated name is an
/// error: which of two tokens to trust is not ours to guess.
pub(crate) fn find_raw<'q>(query: &'q str, name: &str) -> Result<Option<&'q str>, Duplicate> {
    let mut found = None;
    // The query is mostly the token, one long run without `&`: memchr
    // crosses it with SIMD.
    let ends = memchr::memchr_iter(b'&', query.as_bytes()).chain([query.len()]);
    let mut start = 0;
    for end in ends {
        let pair = &query[start..end];
        start = end + 1;
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key_is(key, name) {
            if found.is_some() {
                return Err(Duplicate);
            }
            found = Some(value);
        }
    }
    Ok(found)
}

fn key_is(key: &str, name: &str) -> bool {
    if key == name {
        return true;
    }
    // Only an encoded key can decode to `name`; skip the decoding otherwise.
    (key.contains('%') || key.contains('+'))
        && form_urlencoded::parse(key.as_bytes())
            .next()
            .is_some_and(|(decoded, _)| decoded == name)
}

/// Decodes a raw query value strictly: `+` is a space, every `%` must start
/// a two-digit hex escape, and the result must be UTF-8. Values that need no
/// decoding (every real JWT) are borrowed, not copied.
pub(crate) fn decode_strict(raw: &str) -> Result<Cow<'_, str>, BadEncoding> {
    // This scan runs over every token; memchr does it with SIMD.
    if memchr::memchr2(b'%', b'+', raw.as_bytes()).is_none() {
        return Ok(Cow::Borrowed(raw));
    }
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => decoded.push(b' '),
            b'%' => {
                let high = bytes.get(i + 1).and_then(|b| hex_value(*b));
                let low = bytes.get(i + 2).and_then(|b| hex_value(*b));
                let (Some(high), Some(low)) = (high, low) else {
                    return Err(BadEncoding);
                };
                decoded.push(high << 4 | low);
                i += 2;
            }
            byte => decoded.push(byte),
        }
        i += 1;
    }
    String::from_utf8(decoded)
        .map(Cow::Owned)
        .map_err(|_| BadEncoding)
}

fn hex_value(byte: u8) -> Option<u8> {
    (byte as char).to_digit(16).map(|digit| digit as u8)
}

/// `url` with `name=value` as the last parameter of its query: any earlier
/// `name` parameters are dropped, and every other parameter and the
/// fragment are kept as `url` serializes them, never decoded and encoded
/// again (which could break a URL the issuer signed or parses byte for
/// byte). That serialization is the text of the `redirectUrl` claim except
/// where the URL standard requires an escape, as a browser would write it:
/// non-ASCII characters, `"`, `'`, `<` and `>` in the query are
/// percent-encoded; existing escapes, `+`, and everything else stay as
/// written. (Whitespace and control characters never get this far: the
/// redirect policy refuses them.)
///
/// `value` must already be query-safe; a JWT (base64url and dots) is. The
/// result is assembled from `url`'s own serialization rather than set
/// through `Url::set_query`, which would re-scan and re-encode the token.
pub(crate) fn with_param(url: &url::Url, name: &str, value: &str) -> String {
    use url::Position;
    let before_query = &url[..Position::AfterPath];
    let fragment = &url[Position::AfterQuery..];
    let old_query = url.query().unwrap_or("");
    let mut out = String::with_capacity(url.as_str().len() + name.len() + value.len() + 2);
    out.push_str(before_query);
    out.push('?');
    for pair in old_query.split('&') {
        let key = pair.split_once('=').map_or(pair, |(key, _)| key);
        if pair.is_empty() || key_is(key, name) {
            continue;
        }
        out.push_str(pair);
        out.push('&');
    }
    out.push_str(name);
    out.push('=');
    out.push_str(value);
    out.push_str(fragment);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_parameter_among_others() {
        assert_eq!(
            find_raw("a=1&session_token=abc&b=2", "session_token"),
            Ok(Some("abc"))
        );
        assert_eq!(
            find_raw("session_token=abc", "session_token"),
            Ok(Some("abc"))
        );
        assert_eq!(find_raw("a=1&b=2", "session_token"), Ok(None));
        assert_eq!(find_raw("", "session_token"), Ok(None));
        assert_eq!(find_raw("session_token", "session_token"), Ok(Some("")));
        assert_eq!(find_raw("xsession_token=abc", "session_token"), Ok(None));
    }

    proptest::proptest! {
        /// Pairs are what splitting at every `&` gives, empty ones included.
        #[test]
        fn finds_what_splitting_finds(query in "[a&=%5F_]{0,24}") {
            let by_split = || {
                let mut found = None;
                for pair in query.split('&') {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    if key_is(key, "a_") {
                        if found.is_some() {
                            return Err(Duplicate);
                        }
                        found = Some(value);
                    }
                }
                Ok(found)
            };
            proptest::prop_assert_eq!(find_raw(&query, "a_"), by_split());
        }
    }

    #[test]
    fn refuses_a_repeated_parameter_however_spelled() {
        for query in [
            "session_token=a&session_token=b",
            "session_token=a&session_token=a",
            "session_token=a&session%5Ftoken=b",
            "session%5ftoken=a&session_token",
        ] {
            assert_eq!(find_raw(query, "session_token"), Err(Duplicate), "{query}");
        }
        assert_eq!(
            find_raw("session%5Ftoken=a", "session_token"),
            Ok(Some("a"))
        );
    }

    #[test]
    fn decodes_strictly() {
        assert_eq!(decode_strict("a.b.c").unwrap(), "a.b.c");
        assert!(matches!(decode_strict("a.b.c").unwrap(), Cow::Borrowed(_)));
        assert_eq!(decode_strict("a%2Eb%2ec").unwrap(), "a.b.c");
        assert_eq!(decode_strict("a+b").unwrap(), "a b");
        assert_eq!(decode_strict("%C3%A9").unwrap(), "é");
        for bad in ["%", "%2", "%zz", "a%G1", "%ff", "%C3", "%80abc"] {
            assert_eq!(decode_strict(bad), Err(BadEncoding), "{bad}");
        }
    }

    fn replaced(url: &str) -> String {
        let url = url::Url::parse(url).unwrap();
        let result = with_param(&url, "session_token", "x.y.z");
        // What was assembled by hand parses back to itself.
        assert_eq!(url::Url::parse(&result).unwrap().as_str(), result);
        result
    }

    #[test]
    fn appends_keeping_query_and_fragment() {
        assert_eq!(
            replaced("https://t.example/cb"),
            "https://t.example/cb?session_token=x.y.z"
        );
        assert_eq!(
            replaced("https://t.example/cb?"),
            "https://t.example/cb?session_token=x.y.z"
        );
        assert_eq!(
            replaced("https://t.example/cb?a=1&b=%20+2"),
            "https://t.example/cb?a=1&b=%20+2&session_token=x.y.z"
        );
        assert_eq!(
            replaced("https://t.example/cb?a=1#frag"),
            "https://t.example/cb?a=1&session_token=x.y.z#frag"
        );
        assert_eq!(
            replaced("https://t.example/cb?session_token=old&a=1&session%5Ftoken=older"),
            "https://t.example/cb?a=1&session_token=x.y.z"
        );
        assert_eq!(
            replaced("https://t.example/cb?&&a=1&"),
            "https://t.example/cb?a=1&session_token=x.y.z"
        );
    }

    /// What the documentation promises about the other parameters.
    #[test]
    fn other_parameters_keep_their_spelling_but_for_required_escapes() {
        assert_eq!(
            replaced("https://t.example/cb?a=%2f%2F&b=x+y&c=;:@!$*(),/?&d=~-._#f%20g"),
            "https://t.example/cb?a=%2f%2F&b=x+y&c=;:@!$*(),/?&d=~-._&session_token=x.y.z#f%20g"
        );
        assert_eq!(
            replaced("https://t.example/cb?q=\"'<>&n=café"),
            "https://t.example/cb?q=%22%27%3C%3E&n=caf%C3%A9&session_token=x.y.z"
        );
    }
}
