//! Your exercises for the Concurrency lesson. Edit the files below, then check them with:
//!
//!     cargo exercise concurrency
//!
//! The exercises are described, with hints, at the end of the Concurrency chapter.

pub mod ex1_upper_echo;
pub mod ex2_pool;
pub mod ex3_room;
