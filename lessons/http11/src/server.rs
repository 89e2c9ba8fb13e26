//! The server: being written.
