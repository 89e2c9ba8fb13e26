//! Reference solutions for the Concurrency exercises. Try the exercises first: the chapter's
//! hints are there to get you unstuck.

pub mod ex1_upper_echo;
pub mod ex2_pool;
pub mod ex3_room;
