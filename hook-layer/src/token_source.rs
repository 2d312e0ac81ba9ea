//! Where a request carries its session token: the query parameter MATTR VII
//! redirects the browser with, or an `Authorization: Bearer` header (RFC
//! 6750), as a native app's calls to its backend carry it.

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// Where the layer reads the session token from. Set with
/// [`InteractionHookLayer::token_source`](crate::InteractionHookLayer::token_source).
///
/// [`Query`](Self::Query) ignores `Authorization` entirely (a web hook
/// behind a proxy may see headers of its own there). [`Bearer`](Self::Bearer)
/// never reads the query: a request that carries the token parameter there
/// at all, even the header's own token, is refused as
/// [`Rejection::TokenInQuery`](crate::Rejection::TokenInQuery).
/// [`QueryOrBearer`](Self::QueryOrBearer) refuses a request that carries
/// different tokens in the two places as
/// [`Rejection::ConflictingTokens`](crate::Rejection::ConflictingTokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenSource {
    /// The query parameter (`session_token` unless changed): the browser's
    /// pages, as MATTR VII sends the holder. The default.
    #[default]
    Query,
    /// `Authorization: Bearer <token>` only: a JSON API for a native app,
    /// which read the token from the link that opened it. A token
    /// parameter in the query is refused (`400`, `token_in_query`), so that
    /// no client comes to rely on a form that puts the token in logs.
    Bearer,
    /// Either: the header if present, otherwise the query parameter.
    QueryOrBearer,
}

/// What an `Authorization` header holds for this layer.
pub(crate) enum Bearer<'h> {
    /// No `Authorization` header, or one with another scheme.
    Absent,
    /// `Bearer` and a token (not yet checked).
    Token(&'h str),
    /// More than one `Authorization` header.
    Duplicate,
    /// `Bearer` with an empty token, or a header that is not visible ASCII.
    Malformed,
}

/// Reads the bearer token of RFC 6750 section 2.1: the scheme is
/// case-insensitive, then one or more spaces, then the token.
pub(crate) fn bearer(headers: &HeaderMap) -> Bearer<'_> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Bearer::Absent;
    };
    if values.next().is_some() {
        return Bearer::Duplicate;
    }
    let Ok(value) = value.to_str() else {
        return Bearer::Malformed;
    };
    let Some((scheme, rest)) = value.split_once(' ') else {
        // `Bearer` alone has no token; any other lone word is another scheme.
        return if value.eq_ignore_ascii_case("bearer") {
            Bearer::Malformed
        } else {
            Bearer::Absent
        };
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Bearer::Absent;
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() || token.contains(' ') {
        return Bearer::Malformed;
    }
    Bearer::Token(token)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn read(values: &[&[u8]]) -> String {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
        }
        match bearer(&headers) {
            Bearer::Absent => "absent".into(),
            Bearer::Token(token) => format!("token {token}"),
            Bearer::Duplicate => "duplicate".into(),
            Bearer::Malformed => "malformed".into(),
        }
    }

    #[test]
    fn reads_rfc_6750_bearer_tokens() {
        assert_eq!(read(&[]), "absent");
        assert_eq!(read(&[b"Bearer a.b.c"]), "token a.b.c");
        assert_eq!(read(&[b"bearer   a.b.c"]), "token a.b.c");
        assert_eq!(read(&[b"BEARER a.b.c"]), "token a.b.c");
        assert_eq!(read(&[b"Basic dXNlcjpwYXNz"]), "absent");
        assert_eq!(read(&[b"Negotiate"]), "absent");
        assert_eq!(read(&[b"Bearer"]), "malformed");
        assert_eq!(read(&[b"Bearer "]), "malformed");
        assert_eq!(read(&[b"Bearer a b"]), "malformed");
        assert_eq!(read(&[b"Bearer \xff"]), "malformed");
        assert_eq!(read(&[b"Bearer a", b"Bearer b"]), "duplicate");
    }
}
