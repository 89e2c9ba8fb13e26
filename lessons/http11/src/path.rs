//! Request targets to file paths that cannot leave the served folder.
//! API contract: `percent_decode(&str) -> Result<Vec<u8>, PathError>`,
//! `resolve(root: &Path, target: &str) -> Result<PathBuf, PathError>` (refuses `..`, `%2e%2e`,
//! backslashes, absolute paths, NUL, non-UTF-8, and symlinks leading out), `mime_type(&Path)`.
