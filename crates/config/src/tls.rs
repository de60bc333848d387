//! TLS to PostgreSQL and Redis, through rustls with the `ring` provider (docs/deploy.md,
//! "TLS to PostgreSQL and Redis").
//!
//! PostgreSQL: the URL's libpq-style parameters decide, as libpq reads them:
//!
//! | `sslmode` | TLS | what is checked |
//! |---|---|---|
//! | absent, `disable` | no | — (today's behaviour) |
//! | `prefer` | if the server offers it | nothing (or the chain, with `sslrootcert`) |
//! | `require` | yes | nothing (or the chain, with `sslrootcert`): weak, a man in the middle passes |
//! | `verify-ca` | yes | the chain up to a trusted CA |
//! | `verify-full` | yes | the chain and the host name (the one to use) |
//!
//! `sslrootcert=/path/ca.crt` (PEM, one or several certificates) is the only CA trusted;
//! without it, the platform's roots (`rustls-native-certs`: the system store, or
//! `SSL_CERT_FILE`). tokio-postgres itself knows neither `verify-*` nor `sslrootcert`, so
//! [`PgTarget`] takes them out of the URL and hands the rest to it.
//!
//! Redis: `rediss://` URLs, with `REDIS_CA_FILE` as the only CA when set (see
//! [`crate::cache::client`]).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use diesel::ConnectionResult;
use diesel_async::AsyncPgConnection;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

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
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl FromStr for SslMode {
    type Err = TlsError;
    fn from_str(s: &str) -> Result<Self, TlsError> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => return Err(TlsError::UnknownSslMode(other.to_owned())),
        })
    }
}

/// Why TLS could not be set up (start-up only: every case is a configuration mistake).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("unknown sslmode `{0}` (one of disable, prefer, require, verify-ca, verify-full)")]
    UnknownSslMode(String),
    #[error(
        "sslrootcert is set without sslmode: add sslmode=verify-full (or verify-ca), or the CA would be ignored"
    )]
    RootCertWithoutMode,
    #[error("CA file {}: {reason}", path.display())]
    CaFile { path: PathBuf, reason: String },
    #[error(
        "no platform root certificate could be loaded ({0}): name the server's CA (sslrootcert=… for PostgreSQL, REDIS_CA_FILE for Redis)"
    )]
    NoPlatformRoots(String),
    #[error("TLS set-up: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("{0}")]
    Url(String),
}

/// The provider every TLS configuration here is built with.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Makes `ring` rustls' process-wide default, for libraries that build their TLS
/// configuration with `ClientConfig::builder()` (the redis crate). Harmless when a default
/// is already installed.
pub(crate) fn install_default_provider() {
    // an `Err` only says a default was installed first; it is kept
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The certificates of a PEM file (one or several), read and checked.
pub fn read_pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let fail = |reason: String| TlsError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| fail(format!("cannot be read: {e}")))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("is not PEM: {e}")))?;
    if certs.is_empty() {
        return Err(fail(
            "holds no certificate (-----BEGIN CERTIFICATE-----)".to_owned(),
        ));
    }
    Ok(certs)
}

/// A trust store holding exactly the certificates of a PEM file.
pub fn load_ca_file(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    for cert in read_pem_certificates(path)? {
        store.add(cert).map_err(|e| TlsError::CaFile {
            path: path.to_owned(),
            reason: format!("holds an unusable certificate: {e}"),
        })?;
    }
    Ok(store)
}

/// The platform's roots: the system store, or what `SSL_CERT_FILE` / `SSL_CERT_DIR` name
/// (`rustls-native-certs`, the same roots the redis crate uses for `rediss://`).
pub fn platform_roots() -> Result<RootCertStore, TlsError> {
    let found = rustls_native_certs::load_native_certs();
    let mut store = RootCertStore::empty();
    let (added, _unparsable) = store.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = if found.errors.is_empty() {
            "none found".to_owned()
        } else {
            found
                .errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        };
        return Err(TlsError::NoPlatformRoots(why));
    }
    Ok(store)
}

/// Where a PostgreSQL URL leads, and how: [`PgTarget::connect`] opens one connection.
#[derive(Clone)]
pub struct PgTarget {
    url: String,
    mode: Option<SslMode>,
    tls: Option<PgTls>,
}

#[derive(Clone)]
struct PgTls {
    config: tokio_postgres::Config,
    connector: MakeRustlsConnect,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTarget")
            .field("url", &crate::settings::redact_url(&self.url))
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl PgTarget {
    /// Reads `sslmode` and `sslrootcert` from the URL and builds the TLS configuration
    /// (reading the CA file now, so a bad one stops start-up, not the first request).
    pub fn from_url(url: &str) -> Result<Self, TlsError> {
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (base, query),
            None => (url, ""),
        };
        let mut mode = None;
        let mut root_cert = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned();
            match key {
                "sslmode" => mode = Some(value.parse::<SslMode>()?),
                "sslrootcert" => root_cert = Some(PathBuf::from(value)),
                _ => kept.push(pair),
            }
        }
        let plain = |url: String| PgTarget {
            url,
            mode,
            tls: None,
        };
        match (mode, &root_cert) {
            // today's behaviour, untouched
            (None, None) => return Ok(plain(url.to_owned())),
            (None, Some(_)) => return Err(TlsError::RootCertWithoutMode),
            _ => {}
        }
        let stripped = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let Some(mode) = mode.filter(|m| *m != SslMode::Disable) else {
            return Ok(plain(stripped));
        };
        let mut config = tokio_postgres::Config::from_str(&stripped)
            .map_err(|e| TlsError::Url(format!("not a PostgreSQL URL: {e}")))?;
        config.ssl_mode(if mode == SslMode::Prefer {
            tokio_postgres::config::SslMode::Prefer
        } else {
            tokio_postgres::config::SslMode::Require
        });
        let tls = client_config(mode, root_cert.as_deref())?;
        Ok(PgTarget {
            url: stripped,
            mode: Some(mode),
            tls: Some(PgTls {
                config,
                connector: MakeRustlsConnect::new(tls),
            }),
        })
    }

    /// The URL's `sslmode` (`None`: not given, no TLS).
    pub fn ssl_mode(&self) -> Option<SslMode> {
        self.mode
    }

    /// Whether connections go through TLS (or try to, for `prefer`).
    pub fn uses_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Opens one connection.
    pub async fn connect(&self) -> ConnectionResult<AsyncPgConnection> {
        match &self.tls {
            None => {
                <AsyncPgConnection as diesel_async::AsyncConnection>::establish(&self.url).await
            }
            Some(tls) => {
                let (client, connection) = tls
                    .config
                    .connect(tls.connector.clone())
                    .await
                    .map_err(|e| {
                        diesel::ConnectionError::BadConnection(format!(
                            "PostgreSQL over TLS (sslmode={}): {}",
                            self.mode.map_or("?", SslMode::as_str),
                            with_causes(&e)
                        ))
                    })?;
                AsyncPgConnection::try_from_client_and_connection(client, connection).await
            }
        }
    }
}

/// An error and its causes: tokio-postgres shows only "error performing TLS handshake",
/// the cause (an unknown issuer, a name the certificate does not hold) is what helps.
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// The rustls configuration for one `sslmode` (not `disable`). As libpq does, `require`
/// and `prefer` check the chain when a CA file is named, and nothing otherwise.
fn client_config(mode: SslMode, root_cert: Option<&Path>) -> Result<ClientConfig, TlsError> {
    let builder =
        ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions()?;
    let roots = |root_cert: Option<&Path>| match root_cert {
        Some(path) => load_ca_file(path),
        None => platform_roots(),
    };
    let config = match (mode, root_cert) {
        (SslMode::VerifyFull, _) => builder
            .with_root_certificates(roots(root_cert)?)
            .with_no_client_auth(),
        (SslMode::VerifyCa, _) | (SslMode::Require | SslMode::Prefer, Some(_)) => {
            let inner = WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(root_cert)?),
                provider(),
            )
            .build()
            .map_err(|e| TlsError::Url(format!("certificate verifier: {e}")))?;
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(ChainOnly(inner)))
                .with_no_client_auth()
        }
        // `disable` never gets here (no TLS at all)
        (SslMode::Require | SslMode::Prefer | SslMode::Disable, _) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(EncryptOnly(
                provider().signature_verification_algorithms,
            )))
            .with_no_client_auth(),
    };
    Ok(config)
}

/// `verify-ca`: the chain must lead to a trusted CA; the name in the certificate is not
/// compared with the host (webpki checks the name last, once the chain is verified, so
/// ignoring only that answer keeps every other check).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `require` / `prefer` without a CA: encrypted, but any certificate is accepted (libpq's
/// meaning; weak: it stops passive listening, not a man in the middle). The handshake
/// signatures are still checked, so the server holds the key of the certificate it shows.
#[derive(Debug)]
struct EncryptOnly(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_sslmode_the_url_is_untouched() {
        let url = "postgres://u:p@127.0.0.1:5432/db?application_name=x";
        let target = PgTarget::from_url(url).unwrap();
        assert_eq!(target.url, url);
        assert!(!target.uses_tls());
        let target =
            PgTarget::from_url("postgres://u@h/db?sslmode=disable&sslrootcert=/x").unwrap();
        assert_eq!(target.url, "postgres://u@h/db");
        assert!(!target.uses_tls());
    }

    #[test]
    fn mistakes_are_refused_with_their_reason() {
        let err = PgTarget::from_url("postgres://u@h/db?sslmode=verify_full").unwrap_err();
        assert!(
            err.to_string().contains("unknown sslmode `verify_full`"),
            "{err}"
        );
        let err = PgTarget::from_url("postgres://u@h/db?sslrootcert=/ca.crt").unwrap_err();
        assert!(matches!(err, TlsError::RootCertWithoutMode), "{err}");
        let err =
            PgTarget::from_url("postgres://u@h/db?sslmode=verify-full&sslrootcert=/nowhere/ca.crt")
                .unwrap_err();
        assert!(
            err.to_string().contains("/nowhere/ca.crt: cannot be read"),
            "{err}"
        );
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        let path =
            std::env::temp_dir().join(format!("bakery-not-a-ca-{}.pem", uuid::Uuid::new_v4()));
        std::fs::write(&path, "hello\n").unwrap();
        let err = load_ca_file(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(err.to_string().contains("holds no certificate"), "{err}");
    }

    #[test]
    fn require_encrypts_with_other_parameters_kept() {
        let target =
            PgTarget::from_url("postgres://u@h:1/db?application_name=a%20b&sslmode=require")
                .unwrap();
        assert!(target.uses_tls());
        assert_eq!(target.ssl_mode(), Some(SslMode::Require));
        assert_eq!(target.url, "postgres://u@h:1/db?application_name=a%20b");
    }
}
