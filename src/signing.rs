//! Signed model artifacts: training with `--sign-key FILE` stores an
//! HMAC-SHA-256 of the artifact's canonical bytes (its JSON with the
//! checksum and the signature left empty); scoring and the service with
//! `--verify-key FILE` refuse a model that is unsigned or signed with
//! another key — so only models that passed review (and were signed by
//! whoever holds the key) are served. The checksum still covers everything,
//! the signature included.
//!
//! HMAC (RFC 2104) is built here on the SHA-256 the artifacts already use:
//! a few lines, checked against RFC 4231's test vectors, instead of a crate
//! whose digest version would differ from ours. The key never appears in a
//! message.

use crate::error::{Error, Result};
use crate::io::hex;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Shortest key accepted, in bytes.
const MIN_KEY: usize = 32;

/// Read a key file (its bytes, surrounding whitespace trimmed).
pub fn read_key(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let key = bytes.trim_ascii().to_vec();
    if key.len() < MIN_KEY {
        return Err(Error::data(
            path.display().to_string(),
            format!(
                "a signing key of at least {MIN_KEY} bytes (e.g. `openssl rand -hex 32 > FILE`)"
            ),
        ));
    }
    Ok(key)
}

/// HMAC-SHA-256 of `message` under `key`.
pub fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| k.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// The signature of `message` as hex.
pub fn sign(key: &[u8], message: &[u8]) -> String {
    hex(&hmac(key, message))
}

/// Does `signature` (hex) sign `message` under `key`? Compared in
/// constant time.
pub fn verify(key: &[u8], message: &[u8], signature: &str) -> bool {
    let want = sign(key, message);
    want.len() == signature.len()
        && want
            .bytes()
            .zip(signature.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_test_vectors() {
        let hex = |b: [u8; 32]| hex(&b);
        assert_eq!(
            hex(hmac(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // A key longer than the block is hashed first (test case 6).
        assert_eq!(
            hex(hmac(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        let s = sign(b"k", b"m");
        assert!(verify(b"k", b"m", &s) && !verify(b"k2", b"m", &s) && !verify(b"k", b"m2", &s));
        assert!(!verify(b"k", b"m", &s[..10]));
    }
}
