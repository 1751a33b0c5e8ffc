//! eddy: an HTTP/1.1 server built around one hand-rolled event loop.
//!
//! (Crate tour written below once the pieces settle.)

pub mod config;
mod conn_table;
mod connection;
pub mod demo;
pub mod event_loop;
pub mod http;
pub mod loop_handle;
pub mod pool;
mod response_queue;
pub mod router;
mod signals;
mod timers;

pub use config::Config;
pub use event_loop::{EventLoop, Exit, ResponseSlot};
pub use http::{Request, Response, StatusCode};
pub use loop_handle::{LoopClosed, LoopHandle};
pub use pool::{CancelToken, Job};
pub use router::{inline, offload, LoopStatus, Route, Router};
