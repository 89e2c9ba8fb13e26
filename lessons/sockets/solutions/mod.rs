//! Reference solutions for the Sockets exercises. Try the exercises first: the chapter's hints
//! are there to get you unstuck.

pub mod ex1_wire_address;
pub mod ex2_connect_first;
pub mod ex3_whoami;
