//! Your exercises for the Sockets lesson. Edit the files below, then check them with:
//!
//!     cargo exercise sockets
//!
//! The exercises are described, with hints, at the end of the Sockets chapter.

pub mod ex1_wire_address;
pub mod ex2_connect_first;
pub mod ex3_whoami;
