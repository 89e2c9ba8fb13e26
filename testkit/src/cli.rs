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

/// The widest line a program may print: a terminal's 80 columns, and so the book's column.
pub const WIDTH: usize = 80;

/// Reads `bin --help` and the help of every subcommand it lists, recursively; returns each
/// line wider than [`WIDTH`] columns, named by its command. Empty when all fit.
pub fn help_lines_too_wide(bin: &std::path::Path) -> Vec<String> {
    let mut too_wide = Vec::new();
    let mut pending: Vec<Vec<String>> = vec![Vec::new()];
    while let Some(path) = pending.pop() {
        let out = std::process::Command::new(bin)
            .args(&path)
            .arg("--help")
            .output()
            .unwrap_or_else(|e| panic!("run {} {path:?} --help: {e}", bin.display()));
        let text = String::from_utf8_lossy(&out.stdout);
        let shown = format!("{} --help", path.join(" ")).trim().to_string();
        for line in text.lines() {
            if line.chars().count() > WIDTH {
                too_wide.push(format!("`{shown}`: {line}"));
            }
        }
        // Subcommands are listed under `Commands:`, one per line, until a blank line.
        let commands = text
            .lines()
            .skip_while(|l| l.trim() != "Commands:")
            .skip(1)
            .take_while(|l| !l.trim().is_empty());
        for line in commands {
            let Some(name) = line.split_whitespace().next() else {
                continue;
            };
            // Only names at the list's own indent: a wrapped description is indented deeper.
            if name != "help" && line.starts_with("  ") && !line.starts_with("     ") {
                let mut sub = path.clone();
                sub.push(name.to_string());
                pending.push(sub);
            }
        }
    }
    too_wide
}
