//! Exercise 4: Keep requests inside the folder (reference solution).

use std::path::{Path, PathBuf};

// ANCHOR: solution
pub fn safe_path(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split('?').next()?.strip_prefix('/')?;
    // Decode first, check after: `%2e%2e` is `..` to the file system.
    let decoded = String::from_utf8(percent_decode(path)?).ok()?;
    if decoded.contains(['\0', '\\']) || decoded.starts_with('/') {
        return None;
    }
    let mut joined = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            ".." => return None,
            "" | "." => {}
            s if s.as_bytes().get(1) == Some(&b':') => return None, // `C:`
            s => joined.push(s),
        }
    }
    // The file system has the last word: the real path must be inside the real root.
    let real_root = root.canonicalize().ok()?;
    let inside = |path: &Path| {
        let real = path.canonicalize().ok()?;
        real.starts_with(&real_root).then_some(real)
    };
    let real = inside(&joined)?;
    if real.is_dir() {
        return inside(&real.join("index.html"));
    }
    Some(real)
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
// ANCHOR_END: solution
