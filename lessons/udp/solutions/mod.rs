//! Reference solutions for the UDP exercises. Try the exercises first: the chapter's hints are
//! there to get you unstuck.

pub mod ex1_ask_again;
pub mod ex2_dns_name;
