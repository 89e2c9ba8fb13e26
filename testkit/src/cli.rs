//! The course's command-line convention, as one assertion: a runtime error is one `error: ...`
//! line, then a `hint: ...` line, exit code 1, and never a panic.

use assert_cmd::Command;
use assert_cmd::assert::Assert;
use predicates::prelude::*;

/// Runs `command` with `args`; expects exit code 1, stderr starting with `error: `, containing
/// `error` and the line `hint: <hint...>`, and no panic. Returns the assertion, for more checks.
pub fn expect_failure(mut command: Command, args: &[&str], error: &str, hint: &str) -> Assert {
    command
        .args(args)
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: "))
        .stderr(predicate::str::contains(error))
        .stderr(predicate::str::contains(format!("\nhint: {hint}")))
        .stderr(predicate::str::contains("panicked").not())
}
