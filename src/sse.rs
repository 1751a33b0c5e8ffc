//! Server-sent events: a long-lived `text/event-stream` answer that any
//! thread feeds, one event at a time.
//!
//! [`event_stream`] makes the answer and its [`EventSender`]. A handler
//! returns the answer (an inline handler can: nothing here blocks the loop)
//! and hands the sender to whichever thread has the news — a ticker, a
//! queue's consumer, a job. Underneath it is a streamed body (`stream.rs`):
//! chunked to an HTTP/1.1 client, to the close for HTTP/1.0, with the same
//! backpressure, so a browser tab that stops reading holds its producer
//! back instead of growing the server.
//!
//! What bounds it, since it is meant to last:
//!
//! - the client leaving: the next `send` fails with [`Gone`];
//! - a client that stops reading: the write-stall deadline (the idle
//!   timeout without a byte written) closes it;
//! - a drain: [`EventSender::wait_drain`] and `is_draining` tell the
//!   producer at once, so it can send a last event and [`close`]; one that
//!   does not is cut at `shutdown_timeout`.
//!
//! The idle timeout does not cut it: events come when something happens.
//! The wire format is the WHATWG HTML standard's, §9.2 "Server-sent
//! events": `event:`, `id:`, `retry:` and one `data:` line per line of
//! data, and a blank line to end the event.
//!
//! [`close`]: EventSender::close

use std::time::Duration;

use crate::http::{Response, StatusCode};
use crate::stream::{BodySender, Gone};

/// One event: its data, and optionally its type, id and the reconnection
/// delay the client should use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    name: Option<String>,
    id: Option<String>,
    retry: Option<Duration>,
    data: String,
}

impl Event {
    /// An event carrying `data` (several lines are fine: each becomes a
    /// `data:` line, and the client joins them with `\n` again).
    pub fn new(data: impl Into<String>) -> Event {
        Event {
            data: data.into(),
            ..Event::default()
        }
    }

    /// Sets its type (`event:`; a browser dispatches it to listeners of
    /// that name instead of `message`).
    pub fn named(mut self, name: impl Into<String>) -> Event {
        self.name = Some(name.into());
        self
    }

    /// Sets its id (`id:`): a client that reconnects sends it back as
    /// `Last-Event-ID`.
    pub fn id(mut self, id: impl Into<String>) -> Event {
        self.id = Some(id.into());
        self
    }

    /// Tells the client how long to wait before reconnecting (`retry:`).
    pub fn retry(mut self, delay: Duration) -> Event {
        self.retry = Some(delay);
        self
    }

    /// The event as it goes on the wire, blank line included. A line break
    /// in the type or id would start a field of the client's choosing, so
    /// each is cut at its first one.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let one_line = |text: &str| -> String {
            text.split(['\r', '\n', '\0'])
                .next()
                .unwrap_or("")
                .to_owned()
        };
        if let Some(name) = &self.name {
            field(out, "event", &one_line(name));
        }
        if let Some(id) = &self.id {
            field(out, "id", &one_line(id));
        }
        if let Some(retry) = self.retry {
            field(out, "retry", &retry.as_millis().to_string());
        }
        // CRLF, CR and LF all end a line in the stream format; split on
        // each so none can end the event early.
        for line in self.data.split("\r\n").flat_map(|l| l.split(['\r', '\n'])) {
            field(out, "data", line);
        }
        out.push(b'\n');
    }
}

fn field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.push(b'\n');
}

/// An answer of type `text/event-stream`, and the sender its events go
/// through.
pub fn event_stream() -> (Response, EventSender) {
    let head = Response::new(StatusCode::OK)
        .with_content_type("text/event-stream")
        // Every event is news: nothing may be cached or held back. nginx
        // buffers a proxied answer unless told not to (deploy/ runs eddy
        // behind it), which would hold events until a buffer fills.
        .with_header("Cache-Control", "no-store")
        .with_header("X-Accel-Buffering", "no");
    let (response, mut body) = head.streamed(None);
    body.long_lived();
    (response, EventSender { body })
}

/// Where events go: `send` them from any thread, `close` when done.
/// Dropped without `close`, the stream ends as a failed body would — the
/// client sees the connection close mid-stream, and reconnects.
#[derive(Debug)]
pub struct EventSender {
    body: BodySender,
}

impl EventSender {
    /// Sends one event; blocks while the client is slow to read (see
    /// `stream.rs`). Fails once the client is gone.
    pub fn send(&mut self, event: &Event) -> Result<(), Gone> {
        let mut bytes = Vec::with_capacity(event.data.len() + 16);
        event.encode(&mut bytes);
        self.body.send_vec(bytes)
    }

    /// Sends a comment line (`: text`), which clients ignore: a heartbeat
    /// for proxies that cut quiet connections.
    pub fn comment(&mut self, text: &str) -> Result<(), Gone> {
        let line = text.split(['\r', '\n']).next().unwrap_or("");
        self.body.send_vec(format!(": {line}\n\n").into_bytes())
    }

    /// Waits up to `timeout`: `Ok(true)` as soon as the server begins
    /// draining (time for a last event, then `close`), `Ok(false)` when the
    /// time is up, `Err(Gone)` if the client leaves meanwhile.
    pub fn wait_drain(&self, timeout: Duration) -> Result<bool, Gone> {
        self.body.wait_drain(timeout)
    }

    /// True once the server has begun draining.
    pub fn is_draining(&self) -> bool {
        self.body.is_draining()
    }

    /// True once nobody reads the stream any more.
    pub fn is_gone(&self) -> bool {
        self.body.is_gone()
    }

    /// Ends the stream well (the last chunk goes out; an HTTP/1.1
    /// connection stays open for the next request).
    pub fn close(self) -> Result<(), Gone> {
        self.body.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(event: &Event) -> String {
        let mut out = Vec::new();
        event.encode(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn an_event_is_its_fields_then_a_blank_line() {
        assert_eq!(wire(&Event::new("tick 1")), "data: tick 1\n\n");
        let full = Event::new("a\nb\r\nc\rd")
            .named("tick")
            .id("7")
            .retry(Duration::from_secs(3));
        assert_eq!(
            wire(&full),
            "event: tick\nid: 7\nretry: 3000\ndata: a\ndata: b\ndata: c\ndata: d\n\n"
        );
    }

    #[test]
    fn a_line_break_cannot_smuggle_a_field() {
        let sneaky = Event::new("x")
            .named("tick\ndata: forged")
            .id("1\r\nretry: 1");
        assert_eq!(wire(&sneaky), "event: tick\nid: 1\ndata: x\n\n");
    }
}
