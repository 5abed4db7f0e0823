//! Randomness from the operating system, for the seeds and keys the core leaves to its caller.
//!
//! gamewire-core has no randomness of its own: an endpoint takes a 32-byte seed for its ChaCha20
//! generator (ephemeral keys, salts, session tokens), and a root key is generated from a generator
//! the caller passes. This module is the one place the bindings reach the operating system's
//! generator (`getrandom`: the `getrandom` syscall on Linux, `crypto.getRandomValues` in
//! WebAssembly). If it fails, the error goes up to the caller: there is no fallback seed, because a
//! fixed or guessable one would give every server the same keys, salts and tokens.

use gamewire_core::crypto::RootKey;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// The operating system's generator failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random generator failed: {0}")]
pub struct EntropyError(pub String);

/// Where random bytes come from: the operating system in production, a stub in tests.
pub trait Entropy {
    /// Fills `out` with random bytes.
    fn fill(&mut self, out: &mut [u8]) -> Result<(), EntropyError>;
}

/// The operating system's generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&mut self, out: &mut [u8]) -> Result<(), EntropyError> {
        getrandom::getrandom(out).map_err(|e| EntropyError(e.to_string()))
    }
}

/// A fresh 32-byte seed.
pub fn seed(src: &mut impl Entropy) -> Result<[u8; 32], EntropyError> {
    let mut s = [0u8; 32];
    src.fill(&mut s)?;
    Ok(s)
}

/// A fresh root key, drawn from a generator seeded by `src`.
pub fn generate_root_key(src: &mut impl Entropy) -> Result<RootKey, EntropyError> {
    let mut rng = ChaCha20Rng::from_seed(seed(src)?);
    Ok(RootKey::generate(&mut rng))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A generator that always fails, as the OS one might (no /dev/urandom, a seccomp filter).
    pub(crate) struct Broken;

    impl Entropy for Broken {
        fn fill(&mut self, _out: &mut [u8]) -> Result<(), EntropyError> {
            Err(EntropyError("unavailable".into()))
        }
    }

    #[test]
    fn a_failing_generator_is_an_error_not_a_fixed_seed() {
        assert_eq!(seed(&mut Broken), Err(EntropyError("unavailable".into())));
        assert!(generate_root_key(&mut Broken).is_err());
    }

    #[test]
    fn the_os_generator_gives_distinct_seeds() {
        let a = seed(&mut OsEntropy).unwrap();
        let b = seed(&mut OsEntropy).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, [0; 32]);
    }
}
