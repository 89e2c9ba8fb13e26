//! Wrong on purpose, exercise 4: looks for `..` and backslashes before percent-decoding,
//! then trusts the decoded path, so `%2e%2e` walks out of the folder.
//!
//! Must fail: refuses_an_encoded_dot_dot, refuses_encoded_slashes_that_lead_out

use std::path::{Path, PathBuf};

pub fn safe_path(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split('?').next()?.strip_prefix('/')?;
    if path.split('/').any(|segment| segment == "..") || path.contains(['\\', '\0']) {
        return None;
    }
    let decoded = String::from_utf8(percent_decode(path)?).ok()?;
    if decoded.contains(['\0', '\\']) || decoded.starts_with('/') || decoded.contains(':') {
        return None;
    }
    let mut file = root.join(&decoded);
    if file.is_dir() {
        file = file.join("index.html");
    }
    file.is_file().then_some(file)
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::new();
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let high = hex(bytes.next()?)?;
            out.push(high << 4 | hex(bytes.next()?)?);
        } else {
            out.push(b);
        }
    }
    Some(out)
}
