//! The listening socket: bound plainly, or with SO_REUSEPORT.
//!
//! One eddy process uses one core for its loop. To use more, run several
//! processes on the same port with `--reuse-port`: each binds with
//! SO_REUSEPORT, and the kernel spreads incoming connections among their
//! listeners (by a hash of the connection's addresses), with no shared
//! accept queue and no thundering herd. A process that drains for a restart
//! closes its listener, and the kernel stops sending it new connections while
//! the others carry on — a rolling restart with nothing in front.
//!
//! The option must be set after `socket()` and before `bind()`, and neither
//! std nor mio offers a hook there, so binding is written out with libc.
//! That also sets the accept backlog: std and mio both `listen(128)`, and a
//! burst of more than 128 connects would then see SYNs dropped and retried
//! a second later or more (found by `tests/loop_rules.rs`, which connects
//! 300 at once).

use std::io;
use std::mem;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use mio::net::TcpListener;

/// Pending connections the kernel may queue before we accept them (capped
/// by `net.core.somaxconn`, 4096 on current Linux).
const BACKLOG: libc::c_int = 1024;

/// Binds a non-blocking listener on `addr`, with SO_REUSEPORT if asked.
pub(crate) fn bind(addr: SocketAddr, reuse_port: bool) -> io::Result<TcpListener> {
    let domain = match addr {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    // SAFETY: socket() has no memory arguments; the descriptor it returns is
    // owned by `socket` from here on, so every error path below closes it.
    let socket = unsafe {
        let fd = libc::socket(
            domain,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        );
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        OwnedFd::from_raw_fd(fd)
    };
    // A restarted server can bind a port whose old connections are in
    // TIME_WAIT.
    set_flag(&socket, libc::SO_REUSEADDR)?;
    if reuse_port {
        set_flag(&socket, libc::SO_REUSEPORT)?;
    }
    let (storage, len) = socket_address(addr);
    // SAFETY: `storage` holds a valid sockaddr of `len` bytes for `addr`'s
    // family, and lives across the call.
    let bound = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&storage as *const libc::sockaddr_storage).cast(),
            len,
        )
    };
    if bound < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a plain call on a descriptor we own.
    if unsafe { libc::listen(socket.as_raw_fd(), BACKLOG) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(TcpListener::from_std(std::net::TcpListener::from(socket)))
}

/// Sets a boolean SOL_SOCKET option to 1.
fn set_flag(socket: &OwnedFd, option: libc::c_int) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: the option value is a c_int that outlives the call, and its
    // size is passed with it.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            option,
            (&on as *const libc::c_int).cast(),
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `addr` as the C `sockaddr` the kernel expects, and its length.
fn socket_address(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all zeroes is a valid
    // (unspecified-family) value, filled in below.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let len = match addr {
        SocketAddr::V4(v4) => {
            // SAFETY: sockaddr_storage is large enough and suitably aligned
            // for any sockaddr type, which is what it exists for.
            let sin = unsafe {
                &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>()
            };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = v4.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from_ne_bytes(v4.ip().octets()),
            };
            mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v6) => {
            // SAFETY: as above.
            let sin6 = unsafe {
                &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = v6.port().to_be();
            sin6.sin6_flowinfo = v6.flowinfo();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: v6.ip().octets(),
            };
            sin6.sin6_scope_id = v6.scope_id();
            mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_listeners_share_a_port_only_with_reuse_port() {
        let first = bind("127.0.0.1:0".parse().unwrap(), true).unwrap();
        let addr = first.local_addr().unwrap();
        let second = bind(addr, true).expect("a second SO_REUSEPORT listener");
        assert_eq!(second.local_addr().unwrap(), addr);
        assert!(bind(addr, false).is_err(), "a plain bind must still fail");
    }

    #[test]
    fn ipv6_loopback_binds_too() {
        // Some sandboxes have no IPv6; only a successful bind is checked.
        if let Ok(listener) = bind("[::1]:0".parse().unwrap(), true) {
            assert!(listener.local_addr().unwrap().is_ipv6());
        }
    }
}
