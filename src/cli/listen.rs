//! Where `eddy serve` listens: a TCP address, a Unix socket, or a socket
//! systemd passed in (socket activation).
//!
//! `--addr HOST:PORT` is resolved when the server starts, so a name that
//! does not resolve is reported with the resolver's own error (and exit
//! code 3, which the shipped systemd units restart on: DNS comes back).
//! `--addr unix:/run/eddy.sock` binds a Unix socket, removing a stale one
//! left by an earlier run. Without `--addr`, and with `LISTEN_FDS` set for
//! this process (systemd's `eddy.socket`), the server takes file descriptor
//! 3: the socket systemd listens on while eddy restarts, so a restart
//! refuses nobody.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;

use eddy::{Config, Router, Server};

/// The first descriptor systemd passes (`SD_LISTEN_FDS_START`).
const SD_LISTEN_FDS_START: RawFd = 3;

/// Where to listen, as the command line (and the environment) said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Listen {
    /// `HOST:PORT`, as written (resolved at start).
    Tcp(String),
    /// `unix:PATH`.
    Unix(PathBuf),
    /// The socket systemd passed in.
    Systemd,
}

/// Why the server could not start listening.
pub(crate) enum ListenError {
    /// The name did not resolve (exit 3).
    Resolve(String),
    /// Binding or taking the socket failed (exit 1).
    Bind(String),
}

impl Listen {
    /// Reads `--addr`'s value: `unix:PATH`, or `HOST:PORT` (a port is
    /// required; the host is resolved later).
    pub(crate) fn parse(text: &str) -> Result<Listen, String> {
        if let Some(path) = text.strip_prefix("unix:") {
            if path.is_empty() {
                return Err("--addr: unix: needs a path (unix:/run/eddy.sock)".into());
            }
            return Ok(Listen::Unix(path.into()));
        }
        let port_ok = text
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if port_ok {
            Ok(Listen::Tcp(text.to_string()))
        } else {
            Err(format!("--addr: {text:?} is not HOST:PORT or unix:PATH"))
        }
    }

    /// `Systemd` when this process was given sockets (`LISTEN_PID` is ours
    /// and `LISTEN_FDS` at least 1), else `fallback`.
    pub(crate) fn or_systemd(fallback: Listen) -> Listen {
        let ours = std::env::var("LISTEN_PID").ok() == Some(std::process::id().to_string());
        let fds = std::env::var("LISTEN_FDS")
            .ok()
            .and_then(|n| n.parse::<u32>().ok());
        if ours && fds.is_some_and(|n| n >= 1) {
            Listen::Systemd
        } else {
            fallback
        }
    }

    /// Starts a server listening here.
    pub(crate) fn bind(&self, mut config: Config, router: Router) -> Result<Server, ListenError> {
        let bind_error = |e: io::Error| ListenError::Bind(format!("cannot listen on {self}: {e}"));
        match self {
            Listen::Tcp(text) => {
                config.addr = resolve(text)?;
                Server::bind(config, router).map_err(bind_error)
            }
            Listen::Unix(path) => {
                remove_stale_socket(path).map_err(bind_error)?;
                let listener = std::os::unix::net::UnixListener::bind(path).map_err(bind_error)?;
                Server::from_unix_listener(listener, config, router).map_err(bind_error)
            }
            Listen::Systemd => systemd_socket(config, router).map_err(bind_error),
        }
    }
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Listen::Tcp(text) => f.write_str(text),
            Listen::Unix(path) => write!(f, "unix:{}", path.display()),
            Listen::Systemd => f.write_str("the socket systemd passed (LISTEN_FDS)"),
        }
    }
}

/// The first address `text` resolves to; the resolver's own error if none.
pub(crate) fn resolve(text: &str) -> Result<SocketAddr, ListenError> {
    let resolved = text.to_socket_addrs().map(|mut addrs| addrs.next());
    match resolved {
        Ok(Some(addr)) => Ok(addr),
        Ok(None) => Err(ListenError::Resolve(format!(
            "{text} resolves to no address"
        ))),
        Err(e) => Err(ListenError::Resolve(format!("cannot resolve {text}: {e}"))),
    }
}

/// Removes `path` if it is a socket (one an earlier run left behind: binding
/// over it would fail), and nothing else.
fn remove_stale_socket(path: &std::path::Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path),
        _ => Ok(()),
    }
}

/// Serves on descriptor 3, whichever kind of listening socket it is.
fn systemd_socket(config: Config, router: Router) -> io::Result<Server> {
    // SAFETY: getsockname on a descriptor number, into a zeroed buffer
    // whose size is passed with it; a bad descriptor is an error, not UB.
    let family = unsafe {
        let mut storage: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        let named = libc::getsockname(
            SD_LISTEN_FDS_START,
            (&mut storage as *mut libc::sockaddr_storage).cast(),
            &mut len,
        );
        if named < 0 {
            return Err(io::Error::last_os_error());
        }
        libc::c_int::from(storage.ss_family)
    };
    // Whatever else the environment says is for this process only: children
    // (there are none) must not think the socket is theirs.
    std::env::remove_var("LISTEN_FDS");
    std::env::remove_var("LISTEN_PID");
    std::env::remove_var("LISTEN_FDNAMES");
    // SAFETY: systemd passed descriptor 3 to this process to own, and it is
    // taken exactly once, here.
    if family == libc::AF_UNIX {
        let listener =
            unsafe { std::os::unix::net::UnixListener::from_raw_fd(SD_LISTEN_FDS_START) };
        Server::from_unix_listener(listener, config, router)
    } else {
        let listener = unsafe { std::net::TcpListener::from_raw_fd(SD_LISTEN_FDS_START) };
        Server::from_listener(listener, config, router)
    }
}
