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

use crate::job::CancelToken;
use crate::websocket::{Handler, Message, Socket};

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
        // A client that is not reading gets no more echoes: the bound is
        // its own, and nothing else waits on it.
        let _ = match asked {
            Some(Ok(n)) => socket.offload(move || Some(Message::Text(heavy(n)))),
            Some(Err(why)) => socket.send(why),
            None => socket.send(message),
        };
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

/// The answer to `heavy N`, computed on a worker.
fn heavy(n: u32) -> String {
    heavy_lifting(n, &CancelToken::new());
    let digits = factorial(n).to_string();
    let shown = &digits[..digits.len().min(DIGITS)];
    format!("heavy {n} = {shown}")
}

#[cfg(test)]
mod tests {
    use super::{heavy, heavy_n};

    #[test]
    fn heavy_answers_with_the_first_digits_of_n_factorial() {
        assert_eq!(heavy(5), "heavy 5 = 120");
        assert_eq!(heavy(25), "heavy 25 = 15511210043330985984");
        assert_eq!(heavy_n("heavy 7"), Some(Ok(7)));
        assert!(matches!(heavy_n("heavy x"), Some(Err(_))));
        assert_eq!(heavy_n("hello"), None);
    }
}
