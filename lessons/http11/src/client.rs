//! The client: being written.
