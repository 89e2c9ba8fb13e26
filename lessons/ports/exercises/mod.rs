//! Your exercises for the Ports lesson. Edit the files below, then check them with:
//!
//!     cargo exercise ports
//!
//! The exercises are described, with hints, at the end of the Ports chapter.
