//! Who may call the service (`--auth-tokens FILE`): a bearer token per
//! client, every endpoint but `/healthz` refused without one.
//!
//! The file holds one client per line, `name:token` or `name:sha256:HEX`
//! (the SHA-256 of the token, so the file need not hold the secret); blank
//! lines and `#` comments are skipped. Only the digests are kept in memory.
//! A presented token is hashed and compared with *every* client's digest in
//! constant time, so neither the answer nor its timing tells an unknown
//! token from a malformed header or a near miss: all get the same 401 with
//! `WWW-Authenticate: Bearer` and no detail. The access log and `/metrics`
//! name the client, never the token. SIGHUP re-reads the file.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The clients of a token file.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    clients: Vec<(String, [u8; 32])>,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Equal in time independent of where two digests differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex_digest(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

impl Tokens {
    /// Read a token file; errors name the file and line, never a token.
    pub fn load(path: &Path) -> Result<Tokens> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut clients: Vec<(String, [u8; 32])> = Vec::new();
        for (k, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| {
                Error::data(path.display().to_string(), format!("line {}: {why}", k + 1))
            };
            let (name, secret) = line
                .split_once(':')
                .ok_or_else(|| bad("expected name:token or name:sha256:HEX"))?;
            let name = name.trim();
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(bad("a client name is letters, digits, '-', '_' or '.'"));
            }
            let digest = match secret.strip_prefix("sha256:") {
                Some(hex) => {
                    hex_digest(hex.trim()).ok_or_else(|| bad("sha256: needs 64 hex digits"))?
                }
                None if secret.trim().len() >= 16 => sha256(secret.trim().as_bytes()),
                None => return Err(bad("a token of at least 16 characters")),
            };
            if clients.iter().any(|(n, _)| n == name) {
                return Err(bad(&format!("client {name} appears twice")));
            }
            clients.push((name.to_string(), digest));
        }
        if clients.is_empty() {
            return Err(Error::data(
                path.display().to_string(),
                "no client: the service would refuse every request",
            ));
        }
        Ok(Tokens { clients })
    }

    pub fn len(&self) -> usize {
        self.clients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    /// The client an `Authorization` header value names, if any. Every
    /// client is compared, whatever matches, in constant time each.
    pub fn client(&self, header: Option<&[u8]>) -> Option<&str> {
        let token = header
            .and_then(|h| h.strip_prefix(b"Bearer "))
            .map(<[u8]>::trim_ascii)
            .unwrap_or_default();
        let digest = sha256(token);
        let mut found = None;
        for (name, d) in &self.clients {
            if same(d, &digest) && !token.is_empty() {
                found = Some(name.as_str());
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_digests_name_their_client() {
        let dir = crate::io::TempDir::new().unwrap();
        let f = dir.path().join("tokens");
        let hashed = crate::io::hex(&sha256(b"crm-secret-0123456789"));
        std::fs::write(
            &f,
            format!("# clients\ncallcentre:token-abcdefghijklmnop\ncrm:sha256:{hashed}\n"),
        )
        .unwrap();
        let t = Tokens::load(&f).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(
            t.client(Some(b"Bearer token-abcdefghijklmnop")),
            Some("callcentre")
        );
        assert_eq!(t.client(Some(b"Bearer crm-secret-0123456789")), Some("crm"));
        for bad in [
            &b"Bearer nope"[..],
            b"token-abcdefghijklmnop",
            b"Basic x",
            b"Bearer ",
            b"",
        ] {
            assert_eq!(t.client(Some(bad)), None);
        }
        assert_eq!(t.client(None), None);
        for (text, why) in [
            ("x\n", "expected name:token"),
            ("a b:0123456789abcdef\n", "client name"),
            ("a:short\n", "16 characters"),
            ("a:sha256:zz\n", "64 hex"),
            ("# only\n", "no client"),
        ] {
            std::fs::write(&f, text).unwrap();
            let e = Tokens::load(&f).unwrap_err().to_string();
            assert!(e.contains(why) && !e.contains("0123456789abcdef"), "{e}");
        }
    }
}
