//! base64url without padding (RFC 7515, section 2): the encoding of every
//! part of a compact JWS and of sealed values.
//!
//! The `base64` crate's SIMD engine picks AVX2 (x86-64) or NEON (aarch64)
//! at runtime and falls back to its scalar engine on CPUs without them; on
//! other targets the scalar engine is used directly. Decoding the payload
//! was the largest cost of a verification after the HMAC itself, and the
//! SIMD engine does it in about a fifth of the instructions (see
//! BENCHMARKS.md). It decodes whole blocks with SIMD and hands any block
//! with a character outside the alphabet, and the final group, to the
//! scalar engine under the same configuration, so both accept exactly the
//! same text: no padding, and no spare bits set in the last character. The
//! tests below hold it to that.

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod engine {
    use std::sync::LazyLock;

    use base64::engine::Simd;
    use base64::engine::general_purpose::NO_PAD;

    /// base64url without padding, through the fastest engine this CPU has.
    pub(crate) static BASE64URL: LazyLock<Simd> = LazyLock::new(|| Simd::url_safe(NO_PAD));
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod engine {
    use base64::engine::GeneralPurpose;

    /// base64url without padding.
    pub(crate) static BASE64URL: GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
}

pub(crate) use engine::BASE64URL;

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

    use super::BASE64URL;

    proptest! {
        /// The engine in use agrees with the scalar reference on every
        /// input, valid or not, and at every length around the SIMD
        /// engine's block sizes.
        #[test]
        fn agrees_with_the_scalar_engine(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let encoded = BASE64URL.encode(&bytes);
            prop_assert_eq!(&encoded, &URL_SAFE_NO_PAD.encode(&bytes));
            prop_assert_eq!(BASE64URL.decode(&encoded).ok(), Some(bytes.clone()));
            // Arbitrary text, mostly not base64url: the same verdict.
            let text = String::from_utf8_lossy(&bytes);
            prop_assert_eq!(BASE64URL.decode(text.as_bytes()).ok(), URL_SAFE_NO_PAD.decode(text.as_bytes()).ok());
        }

        /// One wrong character anywhere in long, otherwise valid text is
        /// refused, as the scalar engine refuses it.
        #[test]
        fn one_bad_character_anywhere_is_refused(
            bytes in proptest::collection::vec(any::<u8>(), 48..160),
            at in any::<prop::sample::Index>(),
            bad in prop::sample::select(vec![b'+', b'/', b'=', b'.', b' ', b'\0', 0xc3]),
        ) {
            let mut encoded = BASE64URL.encode(&bytes).into_bytes();
            let at = at.index(encoded.len());
            encoded[at] = bad;
            prop_assert!(BASE64URL.decode(&encoded).is_err());
            prop_assert!(URL_SAFE_NO_PAD.decode(&encoded).is_err());
        }
    }

    #[test]
    fn spare_bits_and_padding_are_refused() {
        // "QR" would decode to "A" if the spare bits of 'R' were ignored.
        assert!(BASE64URL.decode("QR").is_err());
        assert_eq!(BASE64URL.decode("QQ").unwrap(), b"A");
        assert!(BASE64URL.decode("QQ==").is_err());
        let long = "QUFB".repeat(20) + "QR";
        assert!(BASE64URL.decode(&long).is_err());
    }
}
