//! Test tooling shared by every lesson. Nothing here is lesson content: a learner never needs to
//! read it to follow a chapter.
//!
//! - [`transcript`]: checks that the terminal sessions shown in the book match real runs.
//! - [`exercise`]: the exercise harness: runs the checks and words every failure for a learner.
//! - [`net`]: small loopback helpers with timeouts for black-box checks.
//! - [`process`]: a server binary run as a child process, killed when the test ends.
//! - [`cli`]: the course's convention for command-line errors, as one assertion.

pub mod cli;
pub mod exercise;
pub mod net;
pub mod process;
pub mod transcript;

use std::path::{Path, PathBuf};

/// The workspace root (the folder holding `book/` and `lessons/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit lives one folder below the workspace root")
        .to_path_buf()
}

/// Finds where the book shows `needle` (a path such as `lessons/sockets/transcripts/pair.txt`):
/// every `book/src/...md:line` whose line contains it.
pub fn book_mentions(needle: &str) -> Vec<String> {
    let root = workspace_root();
    let mut found = Vec::new();
    let mut stack = vec![root.join("book/src")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for (i, line) in text.lines().enumerate() {
                    if line.contains(needle) {
                        let shown = path.strip_prefix(&root).unwrap_or(&path);
                        found.push(format!("{}:{}", shown.display(), i + 1));
                    }
                }
            }
        }
    }
    found.sort();
    found
}

/// True when running under CI (`CI=true`), where a missing tool or an unprovable check must fail
/// instead of being skipped.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// This process's effective user id, from `/proc/self/status` (Linux); `None` where that
/// cannot be read.
pub fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    // `Uid:` is followed by the real, effective, saved and filesystem ids.
    let ids = status.lines().find_map(|l| l.strip_prefix("Uid:"))?;
    ids.split_whitespace().nth(1)?.parse().ok()
}

/// True when this process runs as root (effective uid 0); false where that cannot be told.
pub fn is_root() -> bool {
    effective_uid() == Some(0)
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn the_effective_uid_is_read_on_linux() {
        assert!(super::effective_uid().is_some());
    }
}
