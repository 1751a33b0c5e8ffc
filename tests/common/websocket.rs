//! A WebSocket client written byte by byte, for the tests that speak to
//! eddy's sockets (`tests/websocket.rs`, `tests/chat.rs`): frames built by
//! hand so that every rule of RFC 6455 §5 can be broken on purpose, and the
//! server's frames read as they come — over plain TCP or TLS ([`Wire`]),
//! the same bytes either way.

use std::io::{self, BufRead, Read};
use std::net::SocketAddr;

use super::{is_reset, Client, Wire};

/// RFC 6455 §1.3's example key, and the accept it must give.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;

/// The upgrade request for `/ws`, with `extra` header lines.
pub fn upgrade(extra: &str) -> String {
    upgrade_to("/ws", extra)
}

/// The upgrade request for `path`, with `extra` header lines.
pub fn upgrade_to(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

/// One frame as a client sends it: masked (unless `masked` is false),
/// `fin` and `rsv` as given.
pub fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | (rsv << 4) | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n < 65536 => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// A final, masked frame.
pub fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(true, 0, opcode, payload, true)
}

/// A close frame's payload: the code, then the reason.
pub fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    payload
}

/// A frame as the server sent it.
#[derive(Debug)]
pub struct Frame {
    pub fin: bool,
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl Frame {
    /// A close frame's code.
    pub fn code(&self) -> Option<u16> {
        (self.opcode == CLOSE && self.payload.len() >= 2)
            .then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.payload).into_owned()
    }
}

/// A client: the connection, and what it read of the server's answer.
///
/// It speaks either [`Wire`]: the connection is a [`Client`], so over TLS
/// every byte written and read goes through its rustls session (the
/// handshake, verifying the test certificate, done before the upgrade is
/// sent), and the frames are still built and read byte by byte, above it.
pub struct Ws {
    /// The connection. `client.stream` is the socket, for what is done to
    /// a socket (and for raw bytes on a plain test only: over TLS they
    /// would bypass the session); reads go through `client.reader`,
    /// writes through [`Ws::send`] or `client.try_send`.
    pub client: Client,
    /// The handshake's answer: the status line and the header lines.
    pub head: Vec<String>,
}

impl Ws {
    /// Connects over `wire` and sends `request` (and `then`, in the same
    /// write: over TLS, the same record), and reads the answer's head.
    pub fn connect_with(wire: Wire, addr: SocketAddr, request: &str, then: &[u8]) -> Ws {
        let mut client = Client::connect_over(wire, addr);
        let mut bytes = request.as_bytes().to_vec();
        bytes.extend_from_slice(then);
        client.send(&bytes);
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            client.reader.read_line(&mut line).unwrap();
            let line = line.trim_end().to_string();
            if line.is_empty() {
                break;
            }
            head.push(line);
        }
        Ws { client, head }
    }

    /// An accepted socket on `/ws`, over `wire`.
    pub fn open(wire: Wire, addr: SocketAddr) -> Ws {
        let ws = Ws::connect_with(wire, addr, &upgrade(""), b"");
        assert!(ws.status() == 101, "{:?}", ws.head);
        ws
    }

    pub fn status(&self) -> u16 {
        self.head[0].split(' ').nth(1).unwrap().parse().unwrap()
    }

    /// The value of header `name` in the answer's head.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head[1..].iter().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.client.send(bytes);
    }

    /// The next frame the server sent, or the error that ended the wait
    /// (`IO_TIMEOUT` at most).
    pub fn try_frame(&mut self) -> io::Result<Frame> {
        let reader = &mut self.client.reader;
        let mut two = [0u8; 2];
        reader.read_exact(&mut two)?;
        assert_eq!(two[1] & 0x80, 0, "a server's frames are never masked");
        let len = match two[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                reader.read_exact(&mut b)?;
                u16::from_be_bytes(b) as usize
            }
            127 => {
                let mut b = [0u8; 8];
                reader.read_exact(&mut b)?;
                u64::from_be_bytes(b) as usize
            }
            n => n as usize,
        };
        let mut payload = vec![0; len];
        reader.read_exact(&mut payload)?;
        Ok(Frame {
            fin: two[0] & 0x80 != 0,
            opcode: two[0] & 0x0f,
            payload,
        })
    }

    /// The next frame the server sent.
    pub fn frame(&mut self) -> Frame {
        self.try_frame().expect("a frame from the server")
    }

    /// Reads until the server's close frame; its code.
    pub fn close_code(&mut self) -> Option<u16> {
        loop {
            let frame = self.frame();
            if frame.opcode == CLOSE {
                return frame.code();
            }
        }
    }

    /// After the close frames: the server ends the connection (EOF, or a
    /// reset), within the bound. Over TLS the EOF must follow
    /// `close_notify`, as [`Client::assert_closed`] wants: rustls reports
    /// a bare TCP EOF as `UnexpectedEof` (a truncation), which fails here.
    pub fn assert_eof(&mut self) {
        let mut rest = Vec::new();
        match self.client.reader.read_to_end(&mut rest) {
            Ok(_) => assert!(rest.is_empty(), "bytes after the close: {rest:?}"),
            Err(e) => assert!(is_reset(&e), "{e}"),
        }
    }
}
