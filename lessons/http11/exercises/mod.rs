//! Your exercises for the HTTP lesson. Edit the files below, then check them with:
//!
//!     cargo exercise http11
//!
//! The exercises are described, with hints, at the end of the HTTP chapter.

pub mod ex1_request_head;
pub mod ex2_head;
pub mod ex3_keep_alive;
pub mod ex4_safe_path;
