//! Your exercises for the UDP lesson. Edit the files below, then check them with:
//!
//!     cargo exercise udp
//!
//! The exercises are described, with hints, at the end of the UDP chapter.

pub mod ex1_ask_again;
pub mod ex2_dns_name;
