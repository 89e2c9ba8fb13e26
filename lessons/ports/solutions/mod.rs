//! Reference solutions for the Ports exercises. Try the exercises first: the chapter's hints are
//! there to get you unstuck.

pub mod ex1_port_spec;
pub mod ex2_bounded_scan;
