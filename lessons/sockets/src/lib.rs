//! Lesson 1: Sockets.
//!
//! Each module is one idea of the chapter, in the order the chapter explains them:
//!
//! - [`address`]: socket addresses, and resolving a name into several of them.
//! - [`byte_order`]: how numbers travel on the wire (network byte order).
//! - [`lifecycle`]: socket, bind, listen, accept / connect, read/write, shutdown, close.
//! - [`options`]: what `std::net` sets for you, and what needs `socket2`.
//! - [`errors`]: the errors you will meet, provoked on purpose, and how to tell them
//!   apart.

pub mod address;
pub mod byte_order;
pub mod errors;
pub mod lifecycle;
pub mod options;
