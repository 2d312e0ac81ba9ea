//! The signature base (RFC 9421 section 2.5) rebuilt from the components a
//! `Signature-Input` lists.
//!
//! The derived components are those MATTR's signing library
//! (`@mattrglobal/http-signatures`) produces with the values RFC 9421
//! gives them: `@method`, `@authority`, `@target-uri`, `@path`, `@query`
//! and `@request-target` (the path and query, as that library and draft 13
//! define it). Two it can produce are refused: `@scheme`, which it signs as
//! `https:` where RFC 9421 has `https`, and `@query-param`. A covered header
//! that the request lacks is refused; the library would have signed the
//! text `undefined`.

use http::HeaderMap;

use super::signature_fields::SignatureInput;
use super::structured::BareItem;

/// The request as the signer addressed it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignedTarget<'a> {
    pub(crate) method: &'a str,
    /// `https`, or the configured public URL's scheme.
    pub(crate) scheme: &'a str,
    /// Host and port, lowercase, if known.
    pub(crate) authority: Option<&'a str>,
    pub(crate) path: &'a str,
    /// The query without its `?`, if the request has one.
    pub(crate) query: Option<&'a str>,
    pub(crate) headers: &'a HeaderMap,
}

/// Why no signature base can be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BaseError {
    /// A component this verifier does not derive, or one with parameters.
    Unsupported,
    /// A covered component the request does not have: a header, the query,
    /// the authority.
    Missing,
    /// A component listed twice, or a name that is not lowercase.
    Malformed,
}

/// The signature base for `input` over `target`, byte for byte.
pub(crate) fn signature_base(
    input: &SignatureInput,
    target: &SignedTarget<'_>,
) -> Result<Vec<u8>, BaseError> {
    let mut base = Vec::with_capacity(256);
    let mut seen: Vec<&str> = Vec::with_capacity(input.components.len());
    for component in &input.components {
        let BareItem::String(name) = &component.bare else {
            return Err(BaseError::Malformed);
        };
        if !component.params.is_empty() {
            return Err(BaseError::Unsupported);
        }
        if seen.contains(&name.as_str()) {
            return Err(BaseError::Malformed);
        }
        seen.push(name);
        base.push(b'"');
        base.extend_from_slice(name.as_bytes());
        base.extend_from_slice(b"\": ");
        component_value(name, target, &mut base)?;
        base.push(b'\n');
    }
    base.extend_from_slice(b"\"@signature-params\": ");
    base.extend_from_slice(input.signature_params().as_bytes());
    Ok(base)
}

fn component_value(
    name: &str,
    target: &SignedTarget<'_>,
    out: &mut Vec<u8>,
) -> Result<(), BaseError> {
    match name {
        "@method" => out.extend_from_slice(target.method.as_bytes()),
        "@authority" => {
            out.extend_from_slice(target.authority.ok_or(BaseError::Missing)?.as_bytes())
        }
        "@target-uri" => {
            let authority = target.authority.ok_or(BaseError::Missing)?;
            out.extend_from_slice(target.scheme.as_bytes());
            out.extend_from_slice(b"://");
            out.extend_from_slice(authority.as_bytes());
            request_target(target, out);
        }
        "@path" => out.extend_from_slice(target.path.as_bytes()),
        "@query" => {
            out.push(b'?');
            out.extend_from_slice(target.query.ok_or(BaseError::Missing)?.as_bytes());
        }
        "@request-target" => request_target(target, out),
        _ if name.starts_with('@') => return Err(BaseError::Unsupported),
        // The signature fields themselves, covered by a later signature,
        // are rebuilt by MATTR's library in a way of its own.
        "signature" | "signature-input" => return Err(BaseError::Unsupported),
        _ => header_value(name, target.headers, out)?,
    }
    Ok(())
}

fn request_target(target: &SignedTarget<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(target.path.as_bytes());
    if let Some(query) = target.query {
        out.push(b'?');
        out.extend_from_slice(query.as_bytes());
    }
}

/// RFC 9421 section 2.1: every line of the field, trimmed, joined by `, `.
fn header_value(name: &str, headers: &HeaderMap, out: &mut Vec<u8>) -> Result<(), BaseError> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(BaseError::Malformed);
    }
    let name = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| BaseError::Malformed)?;
    let mut values = headers.get_all(&name).iter().peekable();
    if values.peek().is_none() {
        return Err(BaseError::Missing);
    }
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(value.as_bytes().trim_ascii());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::signature_fields::parse_signature_input;

    fn input(components: &str) -> SignatureInput {
        parse_signature_input(&format!("sig1=({components});created=1;keyid=\"k\""))
            .unwrap()
            .remove(0)
    }

    fn target(headers: &HeaderMap) -> SignedTarget<'_> {
        SignedTarget {
            method: "POST",
            scheme: "https",
            authority: Some("hook.example.com"),
            path: "/webhooks/mattr",
            query: Some("a=1"),
            headers,
        }
    }

    #[test]
    fn builds_each_derived_component() {
        let mut headers = HeaderMap::new();
        headers.append("x-two", " a ".parse().unwrap());
        headers.append("x-two", "b".parse().unwrap());
        let base = signature_base(
            &input(r#""@method" "@authority" "@target-uri" "@path" "@query" "@request-target" "x-two""#),
            &target(&headers),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(base).unwrap(),
            "\"@method\": POST\n\
             \"@authority\": hook.example.com\n\
             \"@target-uri\": https://hook.example.com/webhooks/mattr?a=1\n\
             \"@path\": /webhooks/mattr\n\
             \"@query\": ?a=1\n\
             \"@request-target\": /webhooks/mattr?a=1\n\
             \"x-two\": a, b\n\
             \"@signature-params\": (\"@method\" \"@authority\" \"@target-uri\" \"@path\" \"@query\" \"@request-target\" \"x-two\");created=1;keyid=\"k\""
        );
    }

    #[test]
    fn refuses_absent_unsupported_and_repeated_components() {
        let headers = HeaderMap::new();
        let t = target(&headers);
        assert_eq!(
            signature_base(&input(r#""content-digest""#), &t),
            Err(BaseError::Missing)
        );
        let no_query = SignedTarget { query: None, ..t };
        assert_eq!(
            signature_base(&input(r#""@query""#), &no_query),
            Err(BaseError::Missing)
        );
        let no_host = SignedTarget {
            authority: None,
            ..t
        };
        assert_eq!(
            signature_base(&input(r#""@authority""#), &no_host),
            Err(BaseError::Missing)
        );
        for unsupported in [
            r#""@scheme""#,
            r#""@query-param";name="a""#,
            r#""@status""#,
            r#""signature""#,
        ] {
            assert_eq!(
                signature_base(&input(unsupported), &t),
                Err(BaseError::Unsupported),
                "{unsupported}"
            );
        }
        assert_eq!(
            signature_base(&input(r#""@method" "@method""#), &t),
            Err(BaseError::Malformed)
        );
        assert_eq!(
            signature_base(&input(r#""Content-Type""#), &t),
            Err(BaseError::Malformed)
        );
        assert_eq!(
            signature_base(&input(r#""bad header""#), &t),
            Err(BaseError::Malformed)
        );
    }
}
