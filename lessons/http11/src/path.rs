//! Request targets to file paths that cannot leave the served folder.
//! API contract: `percent_decode(&str) -> Result<Vec<u8>, PathError>`,
//! `resolve(root: &Path, target: &str) -> Result<PathBuf, PathError>` (refuses `..`, `%2e%2e`,
//! backslashes, absolute paths, NUL, non-UTF-8, and symlinks leading out), `mime_type(&Path)`.
//! Added: `etag(len, modified)`. A directory maps to its `index.html` when the target's path
//! ends in `/`; without the slash `resolve` returns the directory itself, so that the server
//! can redirect to the slash (relative links inside `index.html` need it).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Why a request target does not name a file we may serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// A `%` not followed by two hexadecimal digits (RFC 3986 §2.1).
    BadPercent,
    /// The decoded path is not UTF-8.
    NotUtf8,
    /// The target is not a path starting with `/` (origin form, RFC 9112 §3.2.1).
    NotAPath,
    /// A NUL byte: C APIs below us would end the path there.
    Nul,
    /// A backslash: a path separator on Windows.
    Backslash,
    /// A `..` segment, sent as is or percent-encoded.
    DotDot,
    /// An absolute path or a drive letter after decoding (`/%2Fetc`, `/C:/x`).
    Absolute,
    /// Nothing there (or it cannot be read).
    NotFound,
    /// The file exists, but its real path is outside the root: a symlink leads out.
    OutsideRoot,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathError::BadPercent => "a % not followed by two hexadecimal digits",
            PathError::NotUtf8 => "the decoded path is not UTF-8",
            PathError::NotAPath => "the target does not start with /",
            PathError::Nul => "a NUL byte in the path",
            PathError::Backslash => "a backslash in the path",
            PathError::DotDot => "a .. segment in the path",
            PathError::Absolute => "an absolute path or a drive letter after decoding",
            PathError::NotFound => "no such file",
            PathError::OutsideRoot => "the file's real path is outside the served folder",
        })
    }
}

impl std::error::Error for PathError {}

// ANCHOR: percent_decode
/// Decodes `%XX` escapes (RFC 3986 §2.1); every other byte stands for itself. (A `+` stays
/// a `+`: it means a space only in HTML form data, not in a path.)
pub fn percent_decode(text: &str) -> Result<Vec<u8>, PathError> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b != b'%' {
            out.push(b);
            continue;
        }
        let high = bytes.next().and_then(hex).ok_or(PathError::BadPercent)?;
        let low = bytes.next().and_then(hex).ok_or(PathError::BadPercent)?;
        out.push(high << 4 | low);
    }
    Ok(out)
}
// ANCHOR_END: percent_decode

// ANCHOR: resolve
/// The file under `root` that `target` names, or why there is none we may serve.
///
/// Two lines of defence. First the decoded path itself: no `..`, no backslash, no NUL, no
/// absolute path or drive letter, checked *after* percent-decoding, since `%2e%2e` is `..`
/// to the file system. Then the file system's answer: the real path (symlinks followed)
/// must lie inside the real root, which also catches a symlink leading out.
pub fn resolve(root: &Path, target: &str) -> Result<PathBuf, PathError> {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let Some(path) = path.strip_prefix('/') else {
        return Err(PathError::NotAPath);
    };
    let decoded = String::from_utf8(percent_decode(path)?).map_err(|_| PathError::NotUtf8)?;
    if decoded.contains('\0') {
        return Err(PathError::Nul);
    }
    if decoded.contains('\\') {
        return Err(PathError::Backslash);
    }
    if decoded.starts_with('/') {
        return Err(PathError::Absolute); // `/%2Fetc/passwd`
    }
    let mut joined = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            ".." => return Err(PathError::DotDot),
            "" | "." => {}
            s if s.as_bytes().get(1) == Some(&b':') => return Err(PathError::Absolute),
            s => joined.push(s),
        }
    }
    let real_root = root.canonicalize().map_err(|_| PathError::NotFound)?;
    let inside = |path: &Path| -> Result<PathBuf, PathError> {
        let real = path.canonicalize().map_err(|_| PathError::NotFound)?;
        match real.starts_with(&real_root) {
            true => Ok(real),
            false => Err(PathError::OutsideRoot),
        }
    };
    let real = inside(&joined)?;
    if real.is_dir() && (decoded.is_empty() || decoded.ends_with('/')) {
        // Checked again: `index.html` itself may be a symlink leading out.
        return inside(&real.join("index.html"));
    }
    Ok(real)
}
// ANCHOR_END: resolve

// ANCHOR: mime_type
/// The `Content-Type` for a file, by its extension; text types say their charset.
pub fn mime_type(path: &Path) -> &'static str {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match extension.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}
// ANCHOR_END: mime_type

// ANCHOR: etag
/// An entity tag for a file from its length and modification time (RFC 9110 §8.8.3). It is
/// weak (`W/`): two different contents of the same length written within the clock's
/// resolution would get the same tag, so it promises "equivalent", not "byte for byte".
/// Enough for `If-None-Match` → 304, which compares weakly.
pub fn etag(len: u64, modified: SystemTime) -> String {
    let since = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!(
        "W/\"{len:x}-{:x}.{:x}\"",
        since.as_secs(),
        since.subsec_nanos()
    )
}
// ANCHOR_END: etag

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::time::Duration;

    /// A folder of its own under the system's temporary folder, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let unique = format!(
                "http11-{name}-{}-{:?}",
                std::process::id(),
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default()
            );
            let path = std::env::temp_dir().join(unique);
            fs::create_dir_all(&path).expect("create a temporary folder");
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// `outside/secret.txt`, and `root/` with files, a folder and symlinks leading out.
    fn tree() -> (TempDir, PathBuf) {
        let tmp = TempDir::new("path");
        let root = tmp.0.join("root");
        fs::create_dir_all(root.join("docs/empty")).unwrap();
        fs::create_dir_all(tmp.0.join("outside")).unwrap();
        fs::write(tmp.0.join("outside/secret.txt"), "secret").unwrap();
        fs::write(tmp.0.join("outside/index.html"), "secret").unwrap();
        fs::write(root.join("index.html"), "home").unwrap();
        fs::write(root.join("a b.txt"), "space").unwrap();
        fs::write(root.join("docs/index.html"), "docs").unwrap();
        fs::write(root.join("docs/é.txt"), "accent").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::symlink;
            symlink(tmp.0.join("outside/secret.txt"), root.join("link.txt")).unwrap();
            symlink(tmp.0.join("outside"), root.join("out")).unwrap();
            symlink(
                tmp.0.join("outside/index.html"),
                root.join("docs/empty/index.html"),
            )
            .unwrap();
            symlink(root.join("docs/index.html"), root.join("inner.html")).unwrap();
        }
        (tmp, root)
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%2F%2e%2E+"), Ok(b"a b/..+".to_vec()));
        assert_eq!(percent_decode("%C3%A9"), Ok("é".as_bytes().to_vec()));
        assert_eq!(percent_decode("%00%ff"), Ok(vec![0, 255]));
        for bad in ["%", "%2", "%zz", "%2g", "a%", "%%20"] {
            assert_eq!(percent_decode(bad), Err(PathError::BadPercent), "{bad}");
        }
    }

    #[test]
    fn good_paths_resolve_inside_the_root() {
        let (_tmp, root) = tree();
        let real = root.canonicalize().unwrap();
        let ok = |target: &str| resolve(&root, target);
        assert_eq!(ok("/"), Ok(real.join("index.html")));
        assert_eq!(ok("/index.html?x=../..#y"), Ok(real.join("index.html")));
        assert_eq!(ok("/a%20b.txt"), Ok(real.join("a b.txt")));
        assert_eq!(ok("/docs/"), Ok(real.join("docs/index.html")));
        assert_eq!(ok("/docs"), Ok(real.join("docs"))); // the server redirects to /docs/
        assert_eq!(ok("/docs/%C3%A9.txt"), Ok(real.join("docs/é.txt")));
        assert_eq!(ok("/docs//./index.html"), Ok(real.join("docs/index.html")));
        assert_eq!(ok("/docs%2Findex.html"), Ok(real.join("docs/index.html")));
        #[cfg(unix)]
        assert_eq!(ok("/inner.html"), Ok(real.join("docs/index.html")));
    }

    #[test]
    fn traversal_is_refused_however_it_is_spelled() {
        let (_tmp, root) = tree();
        let cases = [
            ("/../outside/secret.txt", PathError::DotDot),
            ("/docs/../../outside/secret.txt", PathError::DotDot),
            ("/%2e%2e/outside/secret.txt", PathError::DotDot),
            ("/%2E%2e/outside/secret.txt", PathError::DotDot),
            ("/.%2e/outside/secret.txt", PathError::DotDot),
            ("/docs/..%2F..%2Foutside/secret.txt", PathError::DotDot),
            ("/..", PathError::DotDot),
            ("/..\\outside\\secret.txt", PathError::Backslash),
            ("/%5c..%5coutside", PathError::Backslash),
            ("//etc/passwd", PathError::Absolute),
            ("/%2Fetc/passwd", PathError::Absolute),
            ("/C:/Windows/win.ini", PathError::Absolute),
            ("/c%3A%5Cx", PathError::Backslash),
            ("/index.html%00.txt", PathError::Nul),
            ("/%ff.txt", PathError::NotUtf8),
            ("/%zz", PathError::BadPercent),
            ("index.html", PathError::NotAPath),
            ("http://a/index.html", PathError::NotAPath),
            ("*", PathError::NotAPath),
            ("/missing.html", PathError::NotFound),
        ];
        for (target, expected) in cases {
            assert_eq!(resolve(&root, target), Err(expected), "{target}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_leading_out_are_refused() {
        let (_tmp, root) = tree();
        for target in ["/link.txt", "/out/secret.txt", "/out/", "/docs/empty/"] {
            assert_eq!(
                resolve(&root, target),
                Err(PathError::OutsideRoot),
                "{target}"
            );
        }
    }

    #[test]
    fn mime_types() {
        let m = |name: &str| mime_type(Path::new(name));
        assert_eq!(m("index.html"), "text/html; charset=utf-8");
        assert_eq!(m("book.CSS"), "text/css; charset=utf-8");
        assert_eq!(m("searcher.js"), "text/javascript; charset=utf-8");
        assert_eq!(m("index.json"), "application/json");
        assert_eq!(m("a.js.map"), "application/json");
        assert_eq!(m("notes.txt"), "text/plain; charset=utf-8");
        assert_eq!(m("d.svg"), "image/svg+xml");
        assert_eq!(m("p.png"), "image/png");
        assert_eq!(m("p.jpg"), "image/jpeg");
        assert_eq!(m("p.gif"), "image/gif");
        assert_eq!(m("favicon.ico"), "image/x-icon");
        assert_eq!(m("f.woff"), "font/woff");
        assert_eq!(m("f.woff2"), "font/woff2");
        assert_eq!(m("f.ttf"), "font/ttf");
        assert_eq!(m("m.wasm"), "application/wasm");
        assert_eq!(m("archive.tar.gz"), "application/octet-stream");
        assert_eq!(m("Makefile"), "application/octet-stream");
    }

    #[test]
    fn etags_change_with_length_or_time() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
        let tag = etag(10, t);
        assert_eq!(tag, "W/\"a-6553f100.5\"");
        assert_ne!(etag(11, t), tag);
        assert_ne!(etag(10, t + Duration::from_nanos(1)), tag);
    }
}
