//! An application's own jsonwebtoken crypto provider: HS256 only, on the
//! RustCrypto crates, counting its HMACs. hook-layer brings no provider
//! and installs none, so an application that uses jsonwebtoken itself
//! installs one like this; the benchmarks install it to run
//! `jsonwebtoken::encode`/`decode` for comparison (a key setup per call,
//! as jsonwebtoken's own RustCrypto provider does).

use std::sync::atomic::{AtomicUsize, Ordering};

use hmac::{Hmac, KeyInit, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::Sha256;

/// The provider.
pub static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory,
    verifier_factory,
    key_utils: KeyUtils::new_unimplemented(),
};

/// HMACs computed through [`PROVIDER`] so far, in this process.
pub static HMACS: AtomicUsize = AtomicUsize::new(0);

struct AppHmac(Hmac<Sha256>);

impl AppHmac {
    fn new(algorithm: &Algorithm, key: &[u8]) -> Result<Self> {
        if *algorithm != Algorithm::HS256 {
            return Err(ErrorKind::InvalidAlgorithm.into());
        }
        Hmac::new_from_slice(key)
            .map(Self)
            .map_err(|_| ErrorKind::InvalidKeyFormat.into())
    }
}

fn signer_factory(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    Ok(Box::new(AppHmac::new(algorithm, key.as_bytes())?))
}

fn verifier_factory(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    Ok(Box::new(AppHmac::new(algorithm, key.try_get_as_bytes()?)?))
}

impl Signer<Vec<u8>> for AppHmac {
    fn try_sign(&self, message: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        HMACS.fetch_add(1, Ordering::Relaxed);
        let mut mac = self.0.clone();
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for AppHmac {
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        HMACS.fetch_add(1, Ordering::Relaxed);
        let mut mac = self.0.clone();
        mac.update(message);
        mac.verify_slice(tag).map_err(signature::Error::from_source)
    }
}

impl JwtSigner for AppHmac {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for AppHmac {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}
