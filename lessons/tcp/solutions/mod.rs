//! Reference solutions for the TCP exercises. Try the exercises first: the chapter's hints are
//! there to get you unstuck.

pub mod ex1_netstring;
pub mod ex2_line_echo;
