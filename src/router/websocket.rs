//! A WebSocket route (with the `websocket` feature): how a `GET` becomes a
//! socket — the handshake's checks, the `101`, and the route's settings.
//!
//! The route answers an upgrade request (RFC 6455 §4.2) the way
//! `crate::websocket::handshake` rules: `101` and a new [`Handler`] from
//! the route's factory; `426` with `Sec-WebSocket-Version: 13` for another
//! version; `400` for a missing or malformed key; `403` for an `Origin`
//! other than the request's own host that the route does not allow
//! (Tornado's `check_origin`). A plain `GET` (no `Upgrade: websocket`) gets
//! `426 Upgrade Required` with `Upgrade: websocket` (RFC 9110 §15.5.22
//! requires the field), since the route has nothing else to serve.

use std::sync::Arc;
use std::time::Duration;

use crate::http::{Request, Response, StatusCode};
use crate::websocket::{
    check, response_head, Accepted, Handler, Refused, MAX_MESSAGE, PING_INTERVAL, PING_TIMEOUT,
    SUPPORTED_VERSION,
};

/// Makes a socket's handler from its upgrade request, or refuses it with a
/// response (an authorisation check, say).
type Factory = Box<dyn Fn(&Request) -> Result<Box<dyn Handler>, Response> + Send>;

/// Says whether a page from another origin may open a socket.
type OriginCheck = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Picks one of the subprotocols a client offers, or none.
type ProtocolChoice = Arc<dyn Fn(&[&str]) -> Option<String> + Send + Sync>;

/// A route that upgrades to WebSocket; built by [`websocket`], registered
/// with `Router::get`.
pub struct WebSocketRoute {
    factory: Factory,
    origin_allowed: OriginCheck,
    choose_protocol: ProtocolChoice,
    max_message: usize,
    ping_interval: Duration,
    ping_timeout: Duration,
}

/// A WebSocket route: `factory` makes each accepted socket's [`Handler`]
/// from its upgrade request (or refuses it with a response).
pub fn websocket<H, F>(factory: F) -> WebSocketRoute
where
    H: Handler,
    F: Fn(&Request) -> Result<H, Response> + Send + 'static,
{
    WebSocketRoute {
        factory: Box::new(move |request| {
            factory(request).map(|handler| Box::new(handler) as Box<dyn Handler>)
        }),
        origin_allowed: Arc::new(|_| false),
        choose_protocol: Arc::new(|_| None),
        max_message: MAX_MESSAGE,
        ping_interval: PING_INTERVAL,
        ping_timeout: PING_TIMEOUT,
    }
}

impl WebSocketRoute {
    /// Accepts upgrades whose `Origin` is not the request's own host when
    /// `allowed(origin)` says so (Tornado's `check_origin`). Without it,
    /// only same-host origins (and clients that send none) are accepted: a
    /// page elsewhere must not speak to this socket with its visitor's
    /// cookies.
    pub fn allow_origin(mut self, allowed: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.origin_allowed = Arc::new(allowed);
        self
    }

    /// Chooses one of the subprotocols a client offers
    /// (`Sec-WebSocket-Protocol`), or none; a choice not offered is
    /// ignored.
    pub fn protocols(
        mut self,
        choose: impl Fn(&[&str]) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.choose_protocol = Arc::new(choose);
        self
    }

    /// Closes a socket with 1009 when a message would exceed `bytes`
    /// ([`MAX_MESSAGE`] by default).
    pub fn max_message(mut self, bytes: usize) -> Self {
        self.max_message = bytes;
        self
    }

    /// Pings a socket quiet for `interval`, and ends it when nothing comes
    /// back within `timeout` ([`PING_INTERVAL`], [`PING_TIMEOUT`]).
    pub fn ping(mut self, interval: Duration, timeout: Duration) -> Self {
        self.ping_interval = interval;
        self.ping_timeout = timeout;
        self
    }

    /// The answer to `request`: an upgrade, or the refusal.
    pub(crate) fn answer(&self, request: &Request) -> Result<Upgrade, Response> {
        let accepted =
            check(request, &*self.origin_allowed, &*self.choose_protocol).map_err(refusal)?;
        let handler = (self.factory)(request)?;
        Ok(Upgrade {
            response: switching(&accepted),
            handler,
            max_message: self.max_message,
            ping_interval: self.ping_interval,
            ping_timeout: self.ping_timeout,
        })
    }
}

/// An accepted upgrade: the `101`, the socket's handler, its settings.
pub(crate) struct Upgrade {
    pub(crate) response: Response,
    pub(crate) handler: Box<dyn Handler>,
    pub(crate) max_message: usize,
    pub(crate) ping_interval: Duration,
    pub(crate) ping_timeout: Duration,
}

/// The `101 Switching Protocols` for an accepted handshake, its fields
/// as the codec says (RFC 6455 §4.2.2).
fn switching(accepted: &Accepted) -> Response {
    response_head(accepted).into_iter().fold(
        Response::new(StatusCode::SWITCHING_PROTOCOLS),
        |response, (name, value)| response.with_header(name, value),
    )
}

/// The answer to a refused handshake.
fn refusal(refused: Refused) -> Response {
    let (status, why) = match refused {
        Refused::NotAnUpgrade => (
            StatusCode::UPGRADE_REQUIRED,
            "this is a WebSocket endpoint: ask with Upgrade: websocket",
        ),
        Refused::Version => (
            StatusCode::UPGRADE_REQUIRED,
            "unsupported WebSocket version: 13 is spoken here",
        ),
        Refused::BadKey => (
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Key must be 16 bytes in base64",
        ),
        Refused::Origin => (
            StatusCode::FORBIDDEN,
            "this origin may not open a WebSocket here",
        ),
        Refused::BadRequest(why) => (StatusCode::BAD_REQUEST, why),
    };
    let response = Response::text(
        status,
        format!("{} {}: {why}\n", status.as_u16(), status.reason()),
    );
    match refused {
        Refused::NotAnUpgrade => response.with_header("Upgrade", "websocket"),
        Refused::Version => response.with_header("Sec-WebSocket-Version", SUPPORTED_VERSION),
        _ => response,
    }
}
