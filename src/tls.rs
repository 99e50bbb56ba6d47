//! What the service's TLS and the PostgreSQL sink's TLS share: one crypto
//! provider (rustls on ring: no system OpenSSL whose version the binary
//! would depend on, no cmake for aws-lc) and PEM files read with errors
//! that name the flag and the file.

use crate::error::{Error, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;
use std::path::Path;
use std::sync::Arc;

/// The crypto provider of every TLS connection churn makes or takes.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Every certificate of a PEM file (at least one).
pub fn read_certs(path: &Path, flag: &str) -> Result<Vec<CertificateDer<'static>>> {
    let bad = |why: String| Error::Config(format!("{flag} {}: {why}", path.display()));
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not a PEM certificate ({e})")))?;
    match certs.is_empty() {
        true => Err(bad("holds no PEM certificate".into())),
        false => Ok(certs),
    }
}

/// The roots of a CA file, for checking a peer's chain.
pub fn read_roots(path: &Path, flag: &str) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    for c in read_certs(path, flag)? {
        roots
            .add(c)
            .map_err(|e| Error::Config(format!("{flag} {}: {e}", path.display())))?;
    }
    Ok(roots)
}
