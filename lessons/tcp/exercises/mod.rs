//! Your exercises for the TCP lesson. Edit the files below, then check them with:
//!
//!     cargo exercise tcp
//!
//! The exercises are described, with hints, at the end of the TCP chapter.

pub mod ex1_netstring;
pub mod ex2_line_echo;
