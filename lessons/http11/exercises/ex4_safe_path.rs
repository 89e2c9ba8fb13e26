//! Exercise 4: Keep requests inside the folder.
//!
//! A static file server turns a request target such as `/docs/a%20b.html?x=1` into a file
//! under its root folder. `safe_path(root, target)` returns that file, or `None` when there
//! is no file we may serve. Whatever the target, the answer is never a file outside `root`.
//!
//! - Use the path part of the target, before any `?`; it must start with `/`.
//! - Percent-decode it (`%20` is a space; a `%` not followed by two hexadecimal digits is
//!   `None`), and require UTF-8.
//! - Then refuse (`None`): a NUL byte, a backslash, a `..` segment (however it was spelled
//!   before decoding: `%2e%2e` is `..` too), and an absolute path or a drive letter
//!   (`//etc/passwd`, `/%2Fetc/passwd`, `/C:/x`).
//! - Join the rest to `root`. The file must exist, and its real path (symlinks followed:
//!   `std::fs::canonicalize`) must be inside the real path of `root`: a symlink may lead out.
//! - A directory stands for its `index.html`, which must pass the same test.
//!
//! Check your work: `cargo exercise http11 ex4`.

use std::path::{Path, PathBuf};

pub fn safe_path(root: &Path, target: &str) -> Option<PathBuf> {
    todo!("the file under {} that {target:?} names", root.display())
}
