//! Encrypted transport for the service (`--tls-cert FILE --tls-key FILE`,
//! optionally `--tls-client-ca FILE` for mutual TLS).
//!
//! rustls on the ring provider: TLS 1.3 and 1.2 only (rustls has nothing
//! older), no system OpenSSL whose version the binary would depend on. With
//! a client CA every client must present a certificate that chains to it
//! (checked in the handshake; a client without one never reaches HTTP), and
//! the certificate's subject names the client in the access log. The files
//! are read at start and again on SIGHUP; a broken set is refused and the
//! certificates before stay in use, as with models and tokens.

pub use crate::config::TlsFiles;
use crate::error::{Error, Result};
use crate::tls::{provider, read_certs, read_roots};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::ServerConfig;
use std::sync::{Arc, RwLock};
use tokio_rustls::TlsAcceptor;

/// The server's TLS settings from the files (checked: the key must
/// belong to the certificate).
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>> {
    let key_err = |why: String| Error::Config(format!("--tls-key {}: {why}", files.key.display()));
    let certs = read_certs(&files.cert, "--tls-cert")?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| key_err(format!("not a PEM private key ({e})")))?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Error::Internal(format!("TLS versions: {e}")))?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let roots = read_roots(ca, "--tls-client-ca")?;
            let verifier = WebPkiClientVerifier::builder_with_provider(roots.into(), provider())
                .build()
                .map_err(|e| Error::Config(format!("--tls-client-ca {}: {e}", ca.display())))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut cfg = builder
        .with_single_cert(certs, key)
        .map_err(|e| key_err(format!("does not fit --tls-cert ({e})")))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// A warning when the private key can be read by others than its owner.
pub fn key_warning(files: &TlsFiles) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&files.key).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "WARNING: --tls-key {} can be read by other users (mode {:o}); chmod 600 it",
            files.key.display(),
            mode & 0o777
        )
    })
}

/// The acceptor new connections use, swapped whole on SIGHUP.
pub struct Tls {
    files: TlsFiles,
    current: RwLock<TlsAcceptor>,
}

impl Tls {
    pub fn new(files: &TlsFiles) -> Result<Tls> {
        Ok(Tls {
            current: RwLock::new(TlsAcceptor::from(server_config(files)?)),
            files: files.clone(),
        })
    }

    pub fn acceptor(&self) -> TlsAcceptor {
        match self.current.read() {
            Ok(a) => a.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Re-read the files; connections from now on use them.
    pub fn reload(&self) -> Result<()> {
        let fresh = TlsAcceptor::from(server_config(&self.files)?);
        match self.current.write() {
            Ok(mut a) => *a = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }

    pub fn mutual(&self) -> bool {
        self.files.client_ca.is_some()
    }
}

/// A certificate's subject as RFC 4514 text (`CN=crm,O=Bank`), cut to 200
/// characters and without control characters (the log quotes it).
pub fn subject(cert: &CertificateDer<'_>) -> Option<String> {
    use x509_cert::der::Decode;
    let c = x509_cert::Certificate::from_der(cert.as_ref()).ok()?;
    let text = c.tbs_certificate.subject.to_string();
    Some(
        text.chars()
            .filter(|ch| !ch.is_control())
            .take(200)
            .collect(),
    )
}
