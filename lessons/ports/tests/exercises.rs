//! Checks for the Ports exercises.
//!
//! - `cargo exercise ports` runs every check against your code in `exercises/`.
//! - `cargo test` runs them against the reference solutions in `solutions/`.

#[allow(unused_imports)]
use course_testkit::checks;
#[allow(unused_imports)]
use course_testkit::exercise::{self, CheckResult, Exercise, Subject, given, got, step};

// The code under test: your exercises with `--features learner`, the reference solutions otherwise.
#[cfg(feature = "learner")]
#[allow(unused)] // an unfinished exercise is not a reason for compiler warnings
#[path = "../exercises/mod.rs"]
mod code;
#[cfg(not(feature = "learner"))]
#[path = "../solutions/mod.rs"]
mod code;

fn main() {
    exercise::main(
        Subject::from_learner_feature(cfg!(feature = "learner")),
        &[],
    )
}
