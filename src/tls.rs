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
use std::thread;

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
pub struct TlsConfig {
    config: Arc<ServerConfig>,
    /// The files it was read from, for a reload; `None` when the embedder
    /// built it.
    files: Option<(PathBuf, PathBuf)>,
    /// The serving certificate's expiry (Unix time), when it could be read.
    not_after: Option<u64>,
    /// Threads that process handshakes off the loop; 0: on the loop.
    handshake_threads: usize,
}

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
        let (config, not_after) = read(cert, key)?;
        let mut tls = TlsConfig::from_rustls(Arc::new(config));
        tls.files = Some((cert.to_path_buf(), key.to_path_buf()));
        tls.not_after = not_after;
        Ok(tls)
    }

    /// The same files read again (a certificate rotated on disk), into a
    /// configuration that keeps this one's session-resumption state — its
    /// ticketer and its session cache — so clients resume across the
    /// reload. `None` for a configuration the embedder built (there is no
    /// file to read). Reading and checking files is slow work: not for the
    /// loop thread.
    pub(crate) fn reloaded(&self) -> Option<Result<TlsConfig, TlsError>> {
        let (cert, key) = self.files.as_ref()?;
        Some(read(cert, key).map(|(mut config, not_after)| {
            config.session_storage = Arc::clone(&self.config.session_storage);
            config.ticketer = Arc::clone(&self.config.ticketer);
            let mut tls = TlsConfig::from_rustls(Arc::new(config));
            tls.files = self.files.clone();
            tls.not_after = not_after;
            tls.handshake_threads = self.handshake_threads;
            tls
        }))
    }

    /// True if it was read from files (and so can be read again).
    pub(crate) fn has_files(&self) -> bool {
        self.files.is_some()
    }

    /// The serving certificate's expiry, in seconds since the Unix epoch,
    /// if it was read from a file that says it.
    pub(crate) fn not_after(&self) -> Option<u64> {
        self.not_after
    }

    /// A configuration the embedder built. Its ALPN list becomes
    /// `http/1.1` alone (a copy is made if the `Arc` is shared).
    pub fn from_rustls(mut config: Arc<ServerConfig>) -> TlsConfig {
        if config.alpn_protocols != [ALPN_HTTP_1_1] {
            Arc::make_mut(&mut config).alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
        }
        TlsConfig {
            config,
            files: None,
            not_after: None,
            handshake_threads: thread::available_parallelism().map_or(1, usize::from),
        }
    }

    /// Process handshakes on `threads` threads of their own (by default, as
    /// many as the machine has cores), or, with 0, on the loop thread.
    ///
    /// A handshake's key exchange and signature are CPU work — about 1 ms
    /// with RSA 2048, more with a hardware key — and on the loop every
    /// request of every connection waits while it runs (docs/performance.md,
    /// "HTTPS"). 0 starts no thread, for a host that wants none and whose
    /// handshakes are few.
    pub fn with_handshake_threads(mut self, threads: usize) -> TlsConfig {
        self.handshake_threads = threads;
        self
    }

    /// Threads to process handshakes on; 0: the loop.
    pub(crate) fn handshake_threads(&self) -> usize {
        self.handshake_threads
    }

    /// The rustls configuration, for each new session.
    pub(crate) fn rustls(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.config)
    }
}

/// Reads a certificate chain and its key into a fresh configuration; also
/// the chain's first certificate's expiry.
fn read(cert: &Path, key: &Path) -> Result<(ServerConfig, Option<u64>), TlsError> {
    {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| TlsError::new(cert, e.to_string()))?
            .collect::<Result<_, _>>()
            .map_err(|e| TlsError::new(cert, e.to_string()))?;
        if chain.is_empty() {
            return Err(TlsError::new(cert, "no CERTIFICATE block in it".into()));
        }
        let not_after = not_after(&chain[0]);
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
        // The server's preference among the cipher suites both sides offer,
        // not the client's: rustls's list is ordered strongest first, and
        // testssl.sh flags a server that follows the client ("Has server
        // cipher order? no (NOT ok)", run against eddy on 2026-12-07).
        let mut config = config;
        config.ignore_client_order = true;
        Ok((config, not_after))
    }
}

/// The `notAfter` of an X.509 certificate (DER), as Unix time: the
/// certificate's sequence → its to-be-signed sequence → past the optional
/// version, the serial number, the signature algorithm and the issuer → the
/// validity sequence's second time (RFC 5280 §4.1). Written out rather than
/// adding an X.509 crate for one field; `None` if the bytes are not that
/// shape.
fn not_after(der: &[u8]) -> Option<u64> {
    let (_, certificate, _) = tlv(der)?;
    let (_, mut tbs, _) = tlv(certificate)?;
    if tbs.first() == Some(&0xa0) {
        tbs = tlv(tbs)?.2; // [0] version
    }
    for _ in 0..3 {
        tbs = tlv(tbs)?.2; // serial number, signature algorithm, issuer
    }
    let (_, validity, _) = tlv(tbs)?;
    let (_, _, rest) = tlv(validity)?; // notBefore
    let (tag, time, _) = tlv(rest)?;
    let text = std::str::from_utf8(time).ok()?;
    // UTCTime (YYMMDDHHMMSSZ, 1950–2049) or GeneralizedTime (YYYY…).
    let (year, rest) = match tag {
        0x17 => {
            let yy: i64 = text.get(..2)?.parse().ok()?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, text.get(2..)?)
        }
        0x18 => (text.get(..4)?.parse().ok()?, text.get(4..)?),
        _ => return None,
    };
    let field = |at: usize| -> Option<i64> { rest.get(at..at + 2)?.parse().ok() };
    let (month, day) = (field(0)?, field(2)?);
    let (hour, minute, second) = (field(4)?, field(6)?, field(8)?);
    // Days since the epoch for a civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hour * 3600 + minute * 60 + second).ok()
}

/// One DER tag-length-value: the tag, the value, and what follows.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, after) = rest.split_at(count);
        rest = after;
        bytes.iter().fold(0usize, |n, &b| n << 8 | usize::from(b))
    };
    if rest.len() < length {
        return None;
    }
    let (value, after) = rest.split_at(length);
    Some((tag, value, after))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/tls")
            .join(name)
    }

    /// `notAfter=Nov 13 03:02:27 2126 GMT`, as `openssl x509 -enddate`
    /// reads tests/data/tls/cert.pem (a GeneralizedTime: past 2049), is
    /// 4950212547 by `date -d … +%s`.
    #[test]
    fn the_certificates_expiry_is_read_as_openssl_reads_it() {
        let tls = TlsConfig::from_pem_files(data("cert.pem"), data("key.pem")).unwrap();
        assert_eq!(tls.not_after(), Some(4_950_212_547));
        assert_eq!(
            not_after(b"\x30\x03\x02\x01\x00"),
            None,
            "not a certificate"
        );
    }

    /// A reload keeps the session-resumption state: the same ticketer and
    /// session cache, so a client resumes across it.
    #[test]
    fn a_reload_keeps_the_resumption_state() {
        let tls = TlsConfig::from_pem_files(data("cert.pem"), data("key.pem")).unwrap();
        let again = tls.reloaded().unwrap().unwrap();
        assert!(Arc::ptr_eq(&tls.config.ticketer, &again.config.ticketer));
        assert!(Arc::ptr_eq(
            &tls.config.session_storage,
            &again.config.session_storage
        ));
        assert!(!Arc::ptr_eq(&tls.config, &again.config), "not read again");
        assert!(TlsConfig::from_rustls(tls.rustls()).reloaded().is_none());
    }
}
