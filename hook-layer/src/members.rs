//! Reading a JSON object's members once each.
//!
//! RFC 7515 section 4 and RFC 7519 section 4 require unique names in a JWS
//! header and a JWT claims set. serde's derived structs notice a repeated
//! name only among the fields they read and skip the others unseen, so the
//! header and payload are read through this visitor instead: it refuses any
//! repeated name, known or not, without copying the names it compares.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Error as _, IgnoredAny, MapAccess, Visitor};

/// A struct read from a JSON object by [`ObjectVisitor`].
pub(crate) trait Members<'de>: Default {
    /// Reads the value of the member `name` from `map` when the struct keeps
    /// it, and returns the member's index (below 32), or `None` to skip it.
    fn member<A: MapAccess<'de>>(
        &mut self,
        name: &str,
        map: &mut A,
    ) -> Result<Option<u32>, A::Error>;
}

/// Deserializes a [`Members`] struct from a JSON object (never an array),
/// refusing a repeated member name.
pub(crate) struct ObjectVisitor<T>(PhantomData<T>);

impl<T> ObjectVisitor<T> {
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

impl<'de, T: Members<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut value = T::default();
        // Members the struct keeps are tracked by index; the others (usually
        // none) by name, checked all at once at the end.
        let mut kept = 0u32;
        let mut skipped: Vec<Cow<'de, str>> = Vec::new();
        while let Some(Name(name)) = map.next_key()? {
            match value.member(&name, &mut map)? {
                Some(index) => {
                    let bit = 1 << index;
                    if kept & bit != 0 {
                        return Err(A::Error::custom("a member name is repeated"));
                    }
                    kept |= bit;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                    skipped.push(name);
                }
            }
        }
        skipped.sort_unstable();
        if skipped.windows(2).any(|pair| pair[0] == pair[1]) {
            return Err(A::Error::custom("a member name is repeated"));
        }
        Ok(value)
    }
}

/// A member name, borrowed from the input unless it has escapes.
struct Name<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }

            fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(name)))
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(name.to_owned())))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::value::RawValue;

    use super::*;

    #[derive(Default)]
    struct Pair<'a> {
        a: Option<&'a RawValue>,
        b: bool,
    }

    impl<'de> Members<'de> for Pair<'de> {
        fn member<A: MapAccess<'de>>(
            &mut self,
            name: &str,
            map: &mut A,
        ) -> Result<Option<u32>, A::Error> {
            match name {
                "a" => self.a = map.next_value()?,
                "b" => {
                    map.next_value::<IgnoredAny>()?;
                    self.b = true;
                    return Ok(Some(1));
                }
                _ => return Ok(None),
            }
            Ok(Some(0))
        }
    }

    fn read(json: &str) -> Result<Pair<'_>, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        de::Deserializer::deserialize_map(&mut deserializer, ObjectVisitor::<Pair<'_>>::new())
    }

    #[test]
    fn reads_kept_members_and_skips_others() {
        let pair = read(r#"{"x":[1,{"y":2}],"a":"one","b":null,"z":3}"#).unwrap();
        assert_eq!(pair.a.unwrap().get(), r#""one""#);
        assert!(pair.b);
        let empty = read("{}").unwrap();
        assert!(empty.a.is_none() && !empty.b);
    }

    #[test]
    fn refuses_any_repeated_name() {
        for json in [
            r#"{"a":1,"a":2}"#,
            r#"{"a":null,"a":null}"#,
            r#"{"b":1,"x":0,"b":2}"#,
            r#"{"x":1,"y":2,"x":3}"#,
            r#"{"x":1,"\u0078":2}"#,
            r#"{"a":1,"\u0061":2}"#,
        ] {
            assert!(read(json).is_err(), "{json}");
        }
        // The same name nested inside a value is another object's member.
        assert!(read(r#"{"x":{"x":1},"a":{"a":1}}"#).is_ok());
    }

    #[test]
    fn refuses_arrays_and_scalars() {
        for json in [r#"["one",null]"#, "1", r#""a""#, "null"] {
            assert!(read(json).is_err(), "{json}");
        }
    }
}
