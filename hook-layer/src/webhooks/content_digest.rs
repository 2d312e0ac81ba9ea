//! The `Content-Digest` field (RFC 9530): SHA-256 and SHA-512 of the raw
//! body.

use sha2::{Digest as _, Sha256, Sha512};

use super::structured::{self, BareItem, Item, Member};

/// A digest this crate can check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyDigest {
    Sha256(Vec<u8>),
    Sha512(Vec<u8>),
}

/// What reading `Content-Digest` found wrong; the message names the rule.
pub(crate) type DigestError = &'static str;

/// Parses `Content-Digest`: a dictionary of byte sequences. Members of
/// other algorithms are skipped (RFC 9530 section 2); at least one of
/// `sha-256` or `sha-512` must be there, with a digest of the right length.
pub(crate) fn parse_content_digest(value: &str) -> Result<Vec<BodyDigest>, DigestError> {
    let dict = structured::parse_dictionary(value)?;
    let mut digests = Vec::new();
    for (algorithm, member) in dict {
        let bytes = match member {
            Member::Item(Item {
                bare: BareItem::Bytes(bytes),
                ..
            }) => bytes,
            _ => return Err("a digest is a byte sequence"),
        };
        match (algorithm.as_str(), bytes.len()) {
            ("sha-256", 32) => digests.push(BodyDigest::Sha256(bytes)),
            ("sha-512", 64) => digests.push(BodyDigest::Sha512(bytes)),
            ("sha-256" | "sha-512", _) => return Err("a digest of the wrong length"),
            _ => {}
        }
    }
    if digests.is_empty() {
        return Err("no sha-256 or sha-512 digest");
    }
    Ok(digests)
}

/// Whether every digest given matches `body`.
pub(crate) fn matches(digests: &[BodyDigest], body: &[u8]) -> bool {
    digests.iter().all(|digest| match digest {
        BodyDigest::Sha256(expected) => Sha256::digest(body).as_slice() == expected.as_slice(),
        BodyDigest::Sha512(expected) => Sha512::digest(body).as_slice() == expected.as_slice(),
    })
}

/// `sha-256=:<base64>:` for `body`, as a signer sends it.
#[cfg(any(test, feature = "test-util"))]
pub(crate) fn sha256_field(body: &[u8]) -> String {
    let mut out = String::from("sha-256=");
    structured::serialize_bare(&BareItem::Bytes(Sha256::digest(body).to_vec()), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 9530 appendix B.1: `{"hello": "world"}` with a trailing newline.
    const BODY: &[u8] = b"{\"hello\": \"world\"}\n";

    #[test]
    fn checks_the_rfc_9530_examples() {
        let sha256 = "sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:";
        let sha512 = "sha-512=:YMAam51Jz/jOATT6/zvHrLVgOYTGFy1d6GJiOHTohq4yP+pgk4vf2aCsyRZOtw8MjkM7iw7yZ/WkppmM44T3qg==:";
        for field in [sha256, sha512, &format!("{sha256}, {sha512}")] {
            let digests = parse_content_digest(field).unwrap();
            assert!(matches(&digests, BODY), "{field}");
            assert!(!matches(&digests, b"{\"hello\": \"world!\"}\n"), "{field}");
        }
        assert_eq!(sha256_field(BODY), sha256);
    }

    #[test]
    fn skips_unknown_algorithms_but_needs_a_known_one() {
        let digests = parse_content_digest(&format!("md5=:AAAA:, {}", sha256_field(BODY))).unwrap();
        assert!(matches(&digests, BODY));
        assert_eq!(
            parse_content_digest("md5=:AAAA:"),
            Err("no sha-256 or sha-512 digest")
        );
        assert_eq!(
            parse_content_digest("sha-256=:AAAA:"),
            Err("a digest of the wrong length")
        );
        assert_eq!(
            parse_content_digest("sha-256=\"abc\""),
            Err("a digest is a byte sequence")
        );
        assert!(parse_content_digest("sha-256=:=:").is_err());
    }
}
