//! HTTPS settings: a rustls server configuration, from PEM files or built
//! by the embedder (with the `tls` feature).
//!
//! [`TlsConfig::from_pem_files`] reads a certificate chain and its private
//! key (PEM, with rustls's own reader, `PemObject`), checks that the key
//! matches the certificate, and builds a configuration that speaks TLS 1.2
//! and 1.3 only, with the `ring` provider, and offers ALPN `http/1.1` (never
//! `h2`: eddy does not speak it). Every failure names the file and the
//! reason, before anything is bound. [`TlsConfig::from_rustls`] takes a
//! configuration the embedder built (client certificates, a custom
//! certificate resolver); its ALPN list is set to `http/1.1` the same way.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

/// The ALPN protocol eddy offers: HTTP/1.1, and nothing else.
const ALPN_HTTP_1_1: &[u8] = b"http/1.1";

/// A server's TLS configuration, shared by every connection.
///
/// ```no_run
/// use eddy::{Config, TlsConfig};
///
/// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
/// let config = Config { tls: Some(tls), ..Config::default() };
/// # Ok::<(), eddy::TlsError>(())
/// ```
#[derive(Clone)]
pub struct TlsConfig(Arc<ServerConfig>);

impl TlsConfig {
    /// Reads the certificate chain at `cert` and the private key at `key`
    /// (PEM) and builds the configuration: TLS 1.3 and 1.2, ALPN
    /// `http/1.1`. Fails, naming the file, if either cannot be read or
    /// parsed, or if the key does not match the certificate.
    pub fn from_pem_files(
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<TlsConfig, TlsError> {
        let (cert, key) = (cert.as_ref(), key.as_ref());
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| TlsError::new(cert, e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| TlsError::new(cert, e.to_string()))?;
        if chain.is_empty() {
            return Err(TlsError::new(cert, "no CERTIFICATE block in it".into()));
        }
        let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
            let why = match e {
                rustls::pki_types::pem::Error::NoItemsFound => "no PRIVATE KEY block in it".into(),
                other => other.to_string(),
            };
            TlsError::new(key, why)
        })?;
        let config = ServerConfig::builder_with_provider(Arc::new(ring_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsError::new(cert, e.to_string()))?
            .with_no_client_auth()
            // `with_single_cert` checks that the key matches the chain's
            // first certificate.
            .with_single_cert(chain, private)
            .map_err(|e| TlsError::new(key, format!("does not go with {}: {e}", cert.display())))?;
        Ok(TlsConfig::from_rustls(Arc::new(config)))
    }

    /// A configuration the embedder built. Its ALPN list becomes
    /// `http/1.1` alone (a copy is made if the `Arc` is shared).
    pub fn from_rustls(mut config: Arc<ServerConfig>) -> TlsConfig {
        if config.alpn_protocols != [ALPN_HTTP_1_1] {
            Arc::make_mut(&mut config).alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
        }
        TlsConfig(config)
    }

    /// The rustls configuration, for each new session.
    pub(crate) fn rustls(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.0)
    }
}

/// The `ring` crypto provider. rustls 0.23.48 deprecated it ("no support
/// for post-quantum algorithms": ML-KEM key exchange is aws-lc-rs's only).
/// eddy keeps it on purpose: aws-lc-rs builds its C with cmake (and
/// sometimes clang and nasm), which a plain build machine does not have,
/// while ring builds with the gcc every Rust machine has. The trade is no
/// post-quantum key exchange; X25519, P-256 and P-384 remain.
#[allow(deprecated)]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsConfig")
    }
}

/// A certificate or key that could not be used: which file, and why.
#[derive(Debug, Clone)]
pub struct TlsError {
    /// The file at fault.
    pub path: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

impl TlsError {
    fn new(path: &Path, reason: String) -> TlsError {
        TlsError {
            path: path.to_path_buf(),
            reason,
        }
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for TlsError {}
