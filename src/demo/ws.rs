//! `GET /ws`: the seed's experiment over one WebSocket (with the
//! `websocket` feature).
//!
//! Every text and binary message is echoed at once, on the loop — except
//! the text `heavy N`, whose answer, `heavy N = <the first digits of N!>`,
//! takes the seed's heavy lifting (every factorial below `N`, then `N!`)
//! and so runs on the worker pool. The messages sent after it keep being
//! echoed while it runs: a slow message holds up neither the other sockets
//! (the loop never computes it) nor its own socket's later messages
//! (Tornado's coroutine `on_message` reads nothing more until it returns).

use crate::cancel::CancelToken;
use crate::websocket::{Handler, Message, SendError, Socket};

use super::{factorial, heavy_lifting, MAX_N};

/// Digits of `N!` a `heavy N` answer shows.
const DIGITS: usize = 20;

/// The demo socket: an echo, with `heavy N` on the pool.
pub(crate) struct Echo;

impl Handler for Echo {
    fn message(&mut self, message: Message, socket: &mut Socket<'_>) {
        let asked = match &message {
            Message::Text(text) => heavy_n(text),
            Message::Binary(_) => None,
        };
        let sent = match asked {
            Some(Ok(n)) => {
                // `gone` is tripped when the socket closes: the heavy
                // lifting stops between factorials (nobody will read it).
                let offloaded = socket.offload(move |gone| heavy(n, gone).map(Message::Text));
                match offloaded {
                    // Said, not dropped: a client waiting for the answer
                    // would wait for ever. (`Full`: it is behind, and this
                    // is said only if there is room.)
                    Err(SendError::Busy | SendError::Full) => {
                        socket.send(format!("heavy {n}: busy, try again"))
                    }
                    other => other,
                }
            }
            Some(Err(why)) => socket.send(why),
            None => socket.send(message),
        };
        // A client that is not reading gets no more echoes: the bound is
        // its own, and nothing else waits on it.
        let _ = sent;
    }
}

/// `heavy N` → `Some(Ok(N))`; `heavy` with a bad `N` → `Some(Err(why))`;
/// anything else → `None` (echoed).
fn heavy_n(text: &str) -> Option<Result<u32, String>> {
    let n = text.strip_prefix("heavy ")?;
    Some(match n.trim().parse::<u32>() {
        Ok(n) if n <= MAX_N => Ok(n),
        _ => Err(format!(
            "heavy N: N must be a whole number from 0 to {MAX_N}"
        )),
    })
}

/// The answer to `heavy N`, computed on a worker; `None` if the socket
/// closed meanwhile.
fn heavy(n: u32, gone: &CancelToken) -> Option<String> {
    heavy_lifting(n, gone)?;
    let digits = factorial(n).to_string();
    let shown = &digits[..digits.len().min(DIGITS)];
    Some(format!("heavy {n} = {shown}"))
}

#[cfg(test)]
mod tests {
    use super::{heavy, heavy_n};
    use crate::cancel::CancelToken;

    #[test]
    fn heavy_answers_with_the_first_digits_of_n_factorial() {
        let open = CancelToken::new();
        assert_eq!(heavy(5, &open).unwrap(), "heavy 5 = 120");
        assert_eq!(heavy(25, &open).unwrap(), "heavy 25 = 15511210043330985984");
        let closed = CancelToken::new();
        closed.cancel();
        assert_eq!(heavy(20_000, &closed), None);
        assert_eq!(heavy_n("heavy 7"), Some(Ok(7)));
        assert!(matches!(heavy_n("heavy x"), Some(Err(_))));
        assert_eq!(heavy_n("hello"), None);
    }
}
