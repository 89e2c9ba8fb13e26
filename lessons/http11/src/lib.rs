//! Lesson 5: HTTP/1.1, from raw TCP.
//!
//! In the order the chapter meets them:
//! - [`request`]: a sans-IO request parser: bytes in, requests or a precise error out, with
//!   explicit limits.
//! - [`response`]: building a response: status line, header fields, body.
//! - [`path`]: turning a request target into a file path that cannot leave the served folder.
//! - [`server`]: a static file server with a few teaching routes, keep-alive and timeouts.
//! - [`client`]: a client on raw TCP: a request out, a response read by Content-Length,
//!   chunked decoding, or end of stream.
//! - [`shutdown`]: stopping a blocking server cleanly.

pub mod client;
pub mod path;
pub mod request;
pub mod response;
pub mod server;
pub mod shutdown;
