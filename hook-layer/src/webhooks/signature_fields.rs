//! The `Signature-Input` and `Signature` fields (RFC 9421 section 4), read
//! into what verification needs.

use super::structured::{self, BareItem, Item, Member, Params};

/// The most signatures one request may carry.
pub(crate) const MAX_SIGNATURES: usize = 4;

/// One labelled member of `Signature-Input`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignatureInput {
    /// The label, e.g. `sig1`.
    pub(crate) label: String,
    /// The covered components, as sent (with their parameters, if any).
    pub(crate) components: Vec<Item>,
    /// The signature parameters, as sent.
    pub(crate) params: Params,
    /// `created`, required.
    pub(crate) created: i64,
    /// `expires`, if sent.
    pub(crate) expires: Option<i64>,
    /// `keyid`, required.
    pub(crate) keyid: String,
    /// `alg`, if sent.
    pub(crate) alg: Option<String>,
}

impl SignatureInput {
    /// The `@signature-params` value: the inner list serialized again, as
    /// MATTR's library and RFC 9421 section 2.3 build it.
    pub(crate) fn signature_params(&self) -> String {
        structured::serialize_inner_list(&self.components, &self.params)
    }
}

/// Why a signature field cannot be read; the message names the rule only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldError {
    /// Not a structured dictionary of the expected shape.
    Malformed(&'static str),
    /// Well-formed, but a required parameter is missing or has a wrong type.
    MissingParameter(&'static str),
}

/// Parses `Signature-Input`: a dictionary of inner lists of strings, with
/// `created` (integer) and `keyid` (string) required, `expires` (integer)
/// and `alg` (string) optional, other parameters (`nonce`, `tag`) kept for
/// the signature base.
pub(crate) fn parse_signature_input(value: &str) -> Result<Vec<SignatureInput>, FieldError> {
    let dict = structured::parse_dictionary(value).map_err(FieldError::Malformed)?;
    if dict.len() > MAX_SIGNATURES {
        return Err(FieldError::Malformed("too many signatures"));
    }
    dict.into_iter()
        .map(|(label, member)| {
            let Member::InnerList(components, params) = member else {
                return Err(FieldError::Malformed("a signature input is an inner list"));
            };
            if components
                .iter()
                .any(|c| !matches!(c.bare, BareItem::String(_)))
            {
                return Err(FieldError::Malformed("a component identifier is a string"));
            }
            let mut created = None;
            let mut expires = None;
            let mut keyid = None;
            let mut alg = None;
            for (key, value) in &params {
                match (key.as_str(), value) {
                    ("created", BareItem::Integer(n)) => created = Some(*n),
                    ("expires", BareItem::Integer(n)) => expires = Some(*n),
                    ("keyid", BareItem::String(s)) => keyid = Some(s.clone()),
                    ("alg", BareItem::String(s)) => alg = Some(s.clone()),
                    ("created" | "expires" | "keyid" | "alg", _) => {
                        return Err(FieldError::Malformed(
                            "a signature parameter has the wrong type",
                        ));
                    }
                    _ => {}
                }
            }
            Ok(SignatureInput {
                label,
                components,
                created: created.ok_or(FieldError::MissingParameter("created"))?,
                expires,
                keyid: keyid.ok_or(FieldError::MissingParameter("keyid"))?,
                alg,
                params,
            })
        })
        .collect()
}

/// Parses `Signature`: a dictionary of byte sequences without parameters.
pub(crate) fn parse_signature(value: &str) -> Result<Vec<(String, Vec<u8>)>, FieldError> {
    let dict = structured::parse_dictionary(value).map_err(FieldError::Malformed)?;
    if dict.len() > MAX_SIGNATURES {
        return Err(FieldError::Malformed("too many signatures"));
    }
    dict.into_iter()
        .map(|(label, member)| match member {
            Member::Item(Item {
                bare: BareItem::Bytes(bytes),
                params,
            }) if params.is_empty() => Ok((label, bytes)),
            _ => Err(FieldError::Malformed("a signature is a byte sequence")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_mattrs_library_sends() {
        let inputs = parse_signature_input(
            r#"sig1=("@request-target" "@method" "content-digest");created=1700000000;keyid="k-1""#,
        )
        .unwrap();
        assert_eq!(inputs.len(), 1);
        let input = &inputs[0];
        assert_eq!(input.label, "sig1");
        assert_eq!(input.created, 1_700_000_000);
        assert_eq!(input.keyid, "k-1");
        assert_eq!(input.expires, None);
        assert_eq!(
            input.signature_params(),
            r#"("@request-target" "@method" "content-digest");created=1700000000;keyid="k-1""#
        );
        let sigs = parse_signature("sig1=:aGk=:").unwrap();
        assert_eq!(sigs, vec![("sig1".to_string(), b"hi".to_vec())]);
    }

    #[test]
    fn requires_created_and_keyid_with_their_types() {
        assert_eq!(
            parse_signature_input(r#"sig1=("@method");keyid="k""#),
            Err(FieldError::MissingParameter("created"))
        );
        assert_eq!(
            parse_signature_input(r#"sig1=("@method");created=1"#),
            Err(FieldError::MissingParameter("keyid"))
        );
        assert!(matches!(
            parse_signature_input(r#"sig1=("@method");created="1";keyid="k""#),
            Err(FieldError::Malformed(_))
        ));
        assert!(matches!(
            parse_signature_input(r#"sig1=("@method");created=1;keyid=k"#),
            Err(FieldError::Malformed(_))
        ));
    }

    #[test]
    fn refuses_other_shapes() {
        for bad in [
            r#"sig1="@method";created=1;keyid="k""#,
            r#"sig1=(@method);created=1;keyid="k""#,
            r#"a=();created=1;keyid="k", b=();created=1;keyid="k", c=();created=1;keyid="k", d=();created=1;keyid="k", e=();created=1;keyid="k""#,
        ] {
            assert!(parse_signature_input(bad).is_err(), "{bad}");
        }
        for bad in ["sig1=\"aGk=\"", "sig1=:aGk=:;p=1", "sig1=(:aGk=:)"] {
            assert!(parse_signature(bad).is_err(), "{bad}");
        }
    }
}
