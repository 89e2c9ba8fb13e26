//! Your exercises for the Ports lesson. Edit the files below, then check them with:
//!
//!     cargo exercise ports
//!
//! The exercises are described, with hints, at the end of the Ports chapter.

pub mod ex1_port_spec;
pub mod ex2_bounded_scan;
