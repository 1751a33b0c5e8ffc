//! The access record: what the access log learns about each answer, and
//! its two formats — nginx's *combined* line (the record's `Display`) and
//! one JSON object per line (`Json`, which `AccessRecord::json` returns).
//!
//! Both are written so a log reader cannot be fooled by what a client
//! sends: the request line, `Referer` and `User-Agent` come from the client,
//! and a quote or a line break in them would end a field or forge a whole
//! line. The combined format escapes `"`, `\` and every byte outside
//! printable ASCII as `\xHH`, as nginx does; JSON escapes what JSON
//! requires and writes bytes that are not UTF-8 as U+FFFD.

use std::fmt::{self, Write};
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use crate::http::UtcTime;

/// One answer, as the access log sees it.
///
/// Made when the socket has taken the answer's last byte (or the
/// connection closed first), so a pipelined connection's records come in
/// request order.
#[derive(Debug, Clone, Copy)]
pub struct AccessRecord<'a> {
    /// When the answer's last byte was written (the moment nginx's
    /// `$time_local` records).
    pub time: SystemTime,
    /// The client's address (`None` over a Unix socket).
    pub peer: Option<SocketAddr>,
    /// `GET /fast?id=1 HTTP/1.1`, as received; `None` for bytes with no
    /// request line that parsed (a `400` to `asdf`, a `408`).
    pub request_line: Option<&'a str>,
    /// The status answered; `499` (nginx's number, not an HTTP status) when
    /// the connection closed before this answer went out: the client left,
    /// mid-job say, or the drain's time ran out.
    pub status: u16,
    /// Body bytes of the answer the socket took (nginx's
    /// `$body_bytes_sent`): 0 for HEAD, 1xx, 204, 304 and 499; fewer than
    /// the body's length when the client left mid-answer.
    pub body_bytes: usize,
    /// The answer did not go out whole: the connection closed before the
    /// socket took all of it, or its streamed body failed. The JSON format
    /// says so; the combined format, nginx's, has no field for it.
    pub cut_short: bool,
    /// The request's `Referer`, if it sent one.
    pub referer: Option<&'a [u8]>,
    /// The request's `User-Agent`, if it sent one.
    pub user_agent: Option<&'a [u8]>,
    /// From the request being decoded to its answer being encoded (for a
    /// job, its time in the queue and on a worker included).
    pub duration: Duration,
    /// Why the server refused the bytes, for a refusal at the protocol
    /// level (`missing Host header`, `invalid Content-Length`): the line
    /// its answer's body carries. JSON only: the combined line keeps
    /// nginx's fields.
    pub reason: Option<&'a str>,
    /// The TLS version the connection spoke (`TLSv1.3`, `TLSv1.2`); `None`
    /// over plain HTTP. JSON only.
    pub tls: Option<&'a str>,
}

impl fmt::Display for AccessRecord<'_> {
    /// nginx's combined format, with the duration in seconds after it (as
    /// nginx's `$request_time` would be appended):
    ///
    /// `127.0.0.1 - - [02/Dec/2026:03:23:39 +0000] "GET /fast?id=1 HTTP/1.1"
    /// 200 13 "-" "curl/8.5.0" 0.000084`
    ///
    /// The address without its port, so that log tools that expect an IP
    /// read it; `-` over a Unix socket.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.peer {
            Some(peer) => write!(f, "{}", peer.ip())?,
            None => f.write_str("-")?,
        }
        let t = UtcTime::of(self.time);
        write!(
            f,
            " - - [{:02}/{}/{}:{:02}:{:02}:{:02} +0000] \"",
            t.day,
            t.month_name(),
            t.year,
            t.hour,
            t.minute,
            t.second
        )?;
        escaped(f, self.request_line.map(str::as_bytes))?;
        write!(f, "\" {} {} \"", self.status, self.body_bytes)?;
        escaped(f, self.referer)?;
        f.write_str("\" \"")?;
        escaped(f, self.user_agent)?;
        f.write_str("\" ")?;
        seconds(f, self.duration)
    }
}

/// An [`AccessRecord`] as one JSON object (`record.json()`), the fields
/// named as in the record:
///
/// `{"time":"2026-12-02T03:23:39Z","peer":"127.0.0.1:50412","request_line":
/// "GET /fast?id=1 HTTP/1.1","status":200,"reason":null,"body_bytes":13,"cut_short":false,
/// "referer":null,"user_agent":"curl/8.5.0","duration":0.000084,"tls":null}`
///
/// Private: `record.json()` hands it out as an `impl Display`, which is all
/// a caller does with it.
#[derive(Debug, Clone, Copy)]
struct Json<'r>(&'r AccessRecord<'r>);

impl AccessRecord<'_> {
    /// The record as one JSON object, for `{}`: `record.json().to_string()`.
    pub fn json(&self) -> impl fmt::Display + '_ {
        Json(self)
    }
}

impl fmt::Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        let t = UtcTime::of(r.time);
        write!(
            f,
            "{{\"time\":\"{}-{:02}-{:02}T{:02}:{:02}:{:02}Z\",\"peer\":",
            t.year, t.month, t.day, t.hour, t.minute, t.second
        )?;
        match r.peer {
            Some(peer) => write!(f, "\"{peer}\"")?,
            None => f.write_str("null")?,
        }
        f.write_str(",\"request_line\":")?;
        json_string(f, r.request_line.map(str::as_bytes))?;
        write!(f, ",\"status\":{},\"reason\":", r.status)?;
        json_string(f, r.reason.map(str::as_bytes))?;
        write!(
            f,
            ",\"body_bytes\":{},\"cut_short\":{},\"referer\":",
            r.body_bytes, r.cut_short
        )?;
        json_string(f, r.referer)?;
        f.write_str(",\"user_agent\":")?;
        json_string(f, r.user_agent)?;
        f.write_str(",\"duration\":")?;
        seconds(f, r.duration)?;
        f.write_str(",\"tls\":")?;
        json_string(f, r.tls.map(str::as_bytes))?;
        f.write_char('}')
    }
}

/// `value` for a quoted combined-format field: `-` when absent; `"`, `\`
/// and bytes outside printable ASCII as `\xHH`.
fn escaped(f: &mut fmt::Formatter<'_>, value: Option<&[u8]>) -> fmt::Result {
    let Some(value) = value else {
        return f.write_char('-');
    };
    for &b in value {
        if b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b) {
            write!(f, "\\x{b:02X}")?;
        } else {
            f.write_char(char::from(b))?;
        }
    }
    Ok(())
}

/// `value` as a JSON string, `null` when absent.
fn json_string(f: &mut fmt::Formatter<'_>, value: Option<&[u8]>) -> fmt::Result {
    let Some(value) = value else {
        return f.write_str("null");
    };
    f.write_char('"')?;
    for c in String::from_utf8_lossy(value).chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            c if u32::from(c) < 0x20 || c == '\u{7f}' => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// `duration` in seconds with six decimals (`0.000084`), by integer
/// arithmetic: formatting an `f64` would link 12 KB of float printing into
/// every program that embeds eddy (see `reactor::Span`).
fn seconds(f: &mut fmt::Formatter<'_>, duration: Duration) -> fmt::Result {
    write!(f, "{}.{:06}", duration.as_secs(), duration.subsec_micros())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn record() -> AccessRecord<'static> {
        AccessRecord {
            time: UNIX_EPOCH + Duration::from_secs(784_111_777),
            peer: Some("127.0.0.1:50412".parse().unwrap()),
            request_line: Some("GET /fast?id=1 HTTP/1.1"),
            status: 200,
            body_bytes: 13,
            cut_short: false,
            referer: None,
            user_agent: Some(b"curl/8.5.0"),
            duration: Duration::from_micros(84),
            reason: None,
            tls: None,
        }
    }

    #[test]
    fn combined_line() {
        assert_eq!(
            record().to_string(),
            "127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] \"GET /fast?id=1 HTTP/1.1\" 200 13 \
             \"-\" \"curl/8.5.0\" 0.000084"
        );
    }

    #[test]
    fn json_line() {
        assert_eq!(
            record().json().to_string(),
            "{\"time\":\"1994-11-06T08:49:37Z\",\"peer\":\"127.0.0.1:50412\",\
             \"request_line\":\"GET /fast?id=1 HTTP/1.1\",\"status\":200,\"reason\":null,\
             \"body_bytes\":13,\"cut_short\":false,\"referer\":null,\"user_agent\":\"curl/8.5.0\",\"duration\":0.000084,\"tls\":null}"
        );
    }

    #[test]
    fn a_refusal_names_its_reason_in_json_only() {
        let r = AccessRecord {
            request_line: None,
            status: 400,
            body_bytes: 37,
            reason: Some("missing Host header"),
            tls: None,
            ..record()
        };
        assert_eq!(
            r.to_string(),
            "127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] \"-\" 400 37 \"-\" \"curl/8.5.0\" 0.000084"
        );
        assert!(r
            .json()
            .to_string()
            .contains(",\"status\":400,\"reason\":\"missing Host header\",\"body_bytes\":37,\"cut_short\":false,"));
    }

    #[test]
    fn what_a_client_sends_cannot_break_a_line() {
        let r = AccessRecord {
            peer: None,
            request_line: None,
            referer: Some(b"a\"b\\c"),
            user_agent: Some(b"x\r\n1.2.3.4 - - \t\xff\x7f"),
            duration: Duration::from_millis(1500),
            ..record()
        };
        assert_eq!(
            r.to_string(),
            "- - - [06/Nov/1994:08:49:37 +0000] \"-\" 200 13 \"a\\x22b\\x5Cc\" \
             \"x\\x0D\\x0A1.2.3.4 - - \\x09\\xFF\\x7F\" 1.500000"
        );
        assert_eq!(
            r.json().to_string(),
            "{\"time\":\"1994-11-06T08:49:37Z\",\"peer\":null,\"request_line\":null,\
             \"status\":200,\"reason\":null,\"body_bytes\":13,\"cut_short\":false,\"referer\":\"a\\\"b\\\\c\",\
             \"user_agent\":\"x\\u000d\\u000a1.2.3.4 - - \\u0009\u{fffd}\\u007f\",\
             \"duration\":1.500000,\"tls\":null}"
        );
    }
}
