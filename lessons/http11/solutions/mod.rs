//! Reference solutions for the HTTP exercises. Try the exercises first: the chapter's hints are
//! there to get you unstuck.

pub mod ex1_request_head;
pub mod ex2_head;
pub mod ex3_keep_alive;
pub mod ex4_safe_path;
