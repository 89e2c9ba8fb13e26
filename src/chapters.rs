//! The book's chapters as files, and the include directives in them. Used by `cargo run`, which
//! reports broken includes that mdBook would silently render as nothing, and by the integrity
//! tests in `tests/book.rs`.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

/// A Markdown file of the book, with its path relative to the workspace root.
pub struct Chapter {
    pub path: PathBuf,
    /// The path relative to the workspace root, for messages.
    pub shown: String,
    pub text: String,
}

/// Every Markdown file under `<root>/book/src`, in path order.
pub fn chapters(root: &Path) -> Vec<Chapter> {
    let mut files = Vec::new();
    collect(&root.join(crate::BOOK_DIR).join("src"), "md", &mut files);
    files
        .into_iter()
        .map(|path| Chapter {
            shown: path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string(),
            text: std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
            path,
        })
        .collect()
}

/// Collects the files with `extension` under `dir`, recursively, sorted.
pub fn collect(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            collect(&path, extension, out);
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte].matches('\n').count() + 1
}

/// An `{{#include path:selector}}` or `{{#rustdoc_include ...}}` directive (not `\{{#...}}`).
pub struct Include {
    /// 1-based line in the chapter.
    pub line: usize,
    pub directive: String,
    /// The included file, as a path from the chapter's folder.
    pub file: PathBuf,
    /// The included path, as written in the directive.
    pub target: String,
    pub anchor: Option<String>,
}

/// The include directives of `chapter`, in order.
pub fn includes(chapter: &Chapter) -> Vec<Include> {
    static DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(\\?)\{\{#(include|rustdoc_include)\s+([^}\s]+)\s*\}\}").expect("regex")
    });
    let dir = chapter.path.parent().expect("a chapter is in a folder");
    DIRECTIVE
        .captures_iter(&chapter.text)
        .filter(|c| c[1].is_empty()) // `\{{#include}}` is mdBook's escape: shown, not included
        .map(|c| {
            let whole = c.get(0).expect("match");
            let spec = &c[3];
            let (target, selector) = spec.split_once(':').unwrap_or((spec, ""));
            let anchor = (!selector.is_empty()
                && !selector.starts_with(|ch: char| ch.is_ascii_digit()))
            .then(|| selector.to_string());
            Include {
                line: line_of(&chapter.text, whole.start()),
                directive: whole.as_str().to_string(),
                file: dir.join(target),
                target: target.to_string(),
                anchor,
            }
        })
        .collect()
}

/// Every include that names a missing file, or an anchor its file does not define, as
/// `chapter:line: directive : problem`. mdBook itself renders a missing anchor as nothing.
pub fn broken_includes(chapters: &[Chapter]) -> Vec<String> {
    let mut problems = Vec::new();
    for chapter in chapters {
        for inc in includes(chapter) {
            let Ok(source) = std::fs::read_to_string(&inc.file) else {
                problems.push(format!(
                    "{}:{}: {} : no such file {}",
                    chapter.shown, inc.line, inc.directive, inc.target
                ));
                continue;
            };
            if let Some(anchor) = &inc.anchor {
                let has = |marker: &str| {
                    source.lines().any(|l| {
                        l.split_once(marker)
                            .is_some_and(|(_, rest)| rest.trim() == anchor.as_str())
                    })
                };
                if !has("ANCHOR:") || !has("ANCHOR_END:") {
                    problems.push(format!(
                        "{}:{}: {} : {} has no `ANCHOR: {anchor}` ... `ANCHOR_END: {anchor}` pair",
                        chapter.shown, inc.line, inc.directive, inc.target
                    ));
                }
            }
        }
    }
    problems
}
