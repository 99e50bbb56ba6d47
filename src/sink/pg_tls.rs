//! TLS to PostgreSQL, with `sslmode` and `sslrootcert` in the URL (or
//! `PGSSLMODE` / `PGSSLROOTCERT`) read as libpq reads them, so a URL that
//! works with `psql` works here:
//!
//! | sslmode | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (default) | if the server offers it, else clear text | not checked |
//! | `require` | always, else an error | not checked; with `sslrootcert`, as `verify-ca` |
//! | `verify-ca` | always | chains to `sslrootcert` |
//! | `verify-full` | always | chains to `sslrootcert` and names the host |
//!
//! `verify-ca`/`verify-full` without `sslrootcert` use `~/.postgresql/root.crt`
//! as libpq does. The connector is tokio-postgres-rustls on the same rustls
//! provider as the service. The postgres crate itself only knows
//! `disable|prefer|require` and no `sslrootcert`, so both are taken out of
//! the URL here and the certificate check is chosen by the verifier.

use crate::tls::{provider, read_roots};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::path::PathBuf;
use std::sync::Arc;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(s: &str) -> Result<SslMode, String> {
        Ok(match s {
            "disable" => SslMode::Disable,
            // libpq's `allow` tries clear text first; TLS when offered is safer.
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode={other}: one of disable, prefer, require, verify-ca, verify-full"
                ))
            }
        })
    }
}

/// The TLS settings of a connection URL.
#[derive(Debug, Clone, PartialEq)]
pub struct SslSettings {
    pub mode: SslMode,
    pub root: Option<PathBuf>,
}

/// `%2F` and the like in a query value.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The URL without `sslmode`/`sslrootcert` (the postgres crate gets the
/// mode it knows separately) and the TLS settings: the URL's, else the
/// environment's, else `prefer`.
pub fn split_url(
    url: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(String, SslSettings), String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let (mut mode, mut root) = (None, None);
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "sslmode" => mode = Some(percent_decode(v)),
            "sslrootcert" => root = Some(percent_decode(v)),
            "sslcert" | "sslkey" => {
                return Err(format!(
                    "{k}: client certificates for PostgreSQL are not supported; use a password (URL, PGPASSWORD or ~/.pgpass)"
                ))
            }
            _ => kept.push(pair),
        }
    }
    let mode = mode.or_else(|| env("PGSSLMODE"));
    let root = root.or_else(|| env("PGSSLROOTCERT"));
    let mode = match mode.as_deref() {
        None => SslMode::Prefer,
        Some(m) => SslMode::parse(m)?,
    };
    if root.as_deref() == Some("system") {
        return Err("sslrootcert=system: give the CA file's path".into());
    }
    let mut root = root.map(PathBuf::from);
    if root.is_none() && matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull) {
        let default = env("HOME").map(|h| PathBuf::from(h).join(".postgresql/root.crt"));
        root = default.filter(|p| p.exists());
        if root.is_none() {
            return Err(format!(
                "sslmode={}: give sslrootcert=FILE (the CA that signed the server's certificate) or put it in ~/.postgresql/root.crt",
                if mode == SslMode::VerifyCa { "verify-ca" } else { "verify-full" }
            ));
        }
    }
    let stripped = match kept.is_empty() {
        true => base.to_string(),
        false => format!("{base}?{}", kept.join("&")),
    };
    Ok((stripped, SslSettings { mode, root }))
}

/// The postgres crate's mode for a libpq mode.
pub fn crate_mode(mode: SslMode) -> postgres::config::SslMode {
    match mode {
        SslMode::Disable => postgres::config::SslMode::Disable,
        SslMode::Prefer => postgres::config::SslMode::Prefer,
        _ => postgres::config::SslMode::Require,
    }
}

/// The connector for the settings (`None`: `disable`).
pub fn connector(
    s: &SslSettings,
) -> Result<Option<tokio_postgres_rustls::MakeRustlsConnect>, String> {
    let verifier: Arc<dyn ServerCertVerifier> = match (s.mode, &s.root) {
        (SslMode::Disable, _) => return Ok(None),
        (SslMode::Prefer, _) | (SslMode::Require, None) => Arc::new(Lenient { chain: None }),
        (mode, Some(root)) => {
            let roots = read_roots(root, "sslrootcert").map_err(|e| e.to_string())?;
            let webpki = WebPkiServerVerifier::builder_with_provider(roots.into(), provider())
                .build()
                .map_err(|e| format!("sslrootcert {}: {e}", root.display()))?;
            match mode {
                SslMode::VerifyFull => webpki,
                _ => Arc::new(Lenient {
                    chain: Some(webpki),
                }),
            }
        }
        (_, None) => return Err("sslmode=verify-ca/verify-full: give sslrootcert=FILE".into()),
    };
    let cfg = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(Some(tokio_postgres_rustls::MakeRustlsConnect::new(cfg)))
}

/// How the server's certificate is checked under `prefer`/`require`
/// (`chain: None`: not at all, libpq's meaning — say `verify-full` to
/// check it) and `verify-ca` (the chain must reach the root; the host name
/// is not checked). The handshake's signatures are always checked.
#[derive(Debug)]
struct Lenient {
    chain: Option<Arc<WebPkiServerVerifier>>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end, intermediates, name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            m,
            c,
            d,
            &provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            m,
            c,
            d,
            &provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| vars.iter().find(|v| v.0 == k).map(|v| v.1.to_string())
    }

    #[test]
    fn sslmode_and_root_are_taken_out_of_the_url_as_libpq_reads_them() {
        let (url, s) = split_url(
            "postgres://u:p@db:5432/crm?application_name=churn&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
            env(&[]),
        )
        .unwrap();
        assert_eq!(url, "postgres://u:p@db:5432/crm?application_name=churn");
        assert_eq!(s.mode, SslMode::VerifyFull);
        assert_eq!(s.root, Some(PathBuf::from("/etc/ca.pem")));
        // Default prefer; the environment when the URL is silent.
        let (url, s) = split_url("postgres://db/crm", env(&[])).unwrap();
        assert_eq!(
            (url.as_str(), s.mode),
            ("postgres://db/crm", SslMode::Prefer)
        );
        let (_, s) = split_url("postgres://db/crm", env(&[("PGSSLMODE", "require")])).unwrap();
        assert_eq!(s.mode, SslMode::Require);
        let (_, s) = split_url(
            "postgres://db/crm?sslmode=disable",
            env(&[("PGSSLMODE", "require")]),
        )
        .unwrap();
        assert_eq!(s.mode, SslMode::Disable);
        // Mistakes are named.
        let e = split_url("postgres://db/crm?sslmode=verify", env(&[])).unwrap_err();
        assert!(e.contains("sslmode=verify:"), "{e}");
        let e = split_url(
            "postgres://db/crm?sslmode=verify-ca",
            env(&[("HOME", "/nonexistent")]),
        )
        .unwrap_err();
        assert!(e.contains("sslrootcert=FILE"), "{e}");
        let e = split_url("postgres://db/crm?sslcert=/c.pem", env(&[])).unwrap_err();
        assert!(e.starts_with("sslcert:"), "{e}");
    }
}
