//! Lesson 6: Concurrency: one HTTP responder, served five ways, measured.
//!
//! In the order the chapter meets them:
//! - [`responder`]: the HTTP/1.1 keep-alive responder every model runs. It is sans-IO (bytes
//!   in, bytes out), so the models differ only in how they wait for sockets.
//! - [`models`]: the five server models: [`models::iterative`] (one client at a time),
//!   [`models::threads`] (a thread per connection), [`models::pool`] (a bounded pool with a
//!   queue), [`models::readiness`] (one thread, non-blocking sockets, `mio`), and
//!   [`models::tasks`] (async tasks on Tokio).
//! - [`state`]: sharing state between connections: a lock, or a channel to one owner.
//! - [`chat`]: a broadcast chat room on Tokio, where a slow reader cannot stall the others.
//! - [`load`]: a load generator: N keep-alive connections, requests per second and latency
//!   percentiles.

pub mod chat;
pub mod load;
pub mod models;
pub mod responder;
pub mod state;

pub use http11::shutdown::Shutdown;
pub use models::{Config, Model, serve};
