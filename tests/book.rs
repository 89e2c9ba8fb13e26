//! The book's integrity. mdBook renders a missing include as nothing and a broken link as a link;
//! these tests refuse both, and keep the book's code and terminal sessions tied to the lessons.
//! Every failure names the chapter file and line.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use course::chapters::{broken_includes, chapters, collect, includes};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_include_names_an_existing_file_and_anchor() {
    let chapters = chapters(root());
    assert!(
        chapters.iter().any(|c| !includes(c).is_empty()),
        "the book includes nothing: is book/src there?"
    );
    let problems = broken_includes(&chapters);
    assert!(
        problems.is_empty(),
        "broken includes:\n{}",
        problems.join("\n")
    );
}

/// The lessons part of SUMMARY.md: (line, title, file or None for a draft).
fn summary_lessons() -> Vec<(usize, String, Option<String>)> {
    static ENTRY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s*[-*]\s+\[([^\]]+)\]\(([^)]*)\)").expect("regex"));
    let summary =
        std::fs::read_to_string(root().join("book/src/SUMMARY.md")).expect("book/src/SUMMARY.md");
    let mut in_lessons = false;
    let mut entries = Vec::new();
    for (i, line) in summary.lines().enumerate() {
        if let Some(part) = line.strip_prefix("# ") {
            in_lessons = part.trim() == "Lessons";
        } else if in_lessons && let Some(c) = ENTRY.captures(line) {
            let file = (!c[2].is_empty()).then(|| c[2].to_string());
            entries.push((i + 1, c[1].to_string(), file));
        }
    }
    entries
}

fn lesson_crates() -> BTreeSet<String> {
    std::fs::read_dir(root().join("lessons"))
        .expect("lessons/")
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_lesson_has_a_chapter_and_every_lesson_chapter_a_crate() {
    let lessons = lesson_crates();
    let entries = summary_lessons();
    assert!(
        !entries.is_empty(),
        "book/src/SUMMARY.md has no `# Lessons` part with entries"
    );
    let mut problems = Vec::new();
    let mut chaptered = BTreeSet::new();
    for (line, title, file) in &entries {
        let Some(file) = file else { continue }; // a draft: planned, not written yet
        let stem = file.strip_suffix(".md").unwrap_or(file);
        if lessons.contains(stem) {
            chaptered.insert(stem.to_string());
            let chapter = root().join("book/src").join(file);
            let text = std::fs::read_to_string(&chapter).unwrap_or_default();
            if !text.contains(&format!("lessons/{stem}/")) {
                problems.push(format!(
                    "book/src/{file}: the chapter includes nothing from lessons/{stem}/"
                ));
            }
        } else {
            problems.push(format!(
                "book/src/SUMMARY.md:{line}: lesson chapter [{title}]({file}) names no crate: lessons/{stem}/Cargo.toml does not exist"
            ));
        }
    }
    for lesson in lessons.difference(&chaptered) {
        problems.push(format!(
            "lessons/{lesson} has no chapter: add `- [Title]({lesson}.md)` under `# Lessons` in book/src/SUMMARY.md"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The chapter template of COURSE.md: these sections, in this order (a chapter may add its own
/// between them).
const TEMPLATE: &[&str] = &[
    "Run it",
    "How it works",
    "What can go wrong",
    "Myths and facts",
    "Coming from Python",
    "Exercises",
    "Further reading",
];

#[test]
fn every_lesson_chapter_follows_the_template() {
    let mut problems = Vec::new();
    for (_, _, file) in summary_lessons() {
        let Some(file) = file else { continue };
        let shown = format!("book/src/{file}");
        let text = std::fs::read_to_string(root().join("book/src").join(&file)).unwrap_or_default();
        let sections: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("## "))
            .map(str::trim)
            .collect();
        let in_template: Vec<&str> = sections
            .iter()
            .copied()
            .filter(|s| TEMPLATE.contains(s))
            .collect();
        if in_template != TEMPLATE {
            problems.push(format!(
                "{shown}: its sections {in_template:?} should be {TEMPLATE:?}, in that order"
            ));
        }
        // First what you will learn, with a diagram, then "Run it".
        let opening = text.split("\n## ").next().unwrap_or("");
        if !opening.contains("](") || !opening.contains(".svg)") {
            problems.push(format!("{shown}: no diagram before its first section"));
        }
        if !opening.to_lowercase().contains("what you will") {
            problems.push(format!(
                "{shown}: no \"What you will build and learn\" before its first section"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_diagram_renders_offline() {
    let mut svgs = Vec::new();
    collect(&root().join("book/src"), "svg", &mut svgs);
    assert!(!svgs.is_empty(), "the book has no diagrams");
    let mut problems = Vec::new();
    for svg in svgs {
        let shown = svg
            .strip_prefix(root())
            .unwrap_or(&svg)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&svg).unwrap_or_default();
        if !text.contains("<svg") || !text.contains("viewBox") {
            problems.push(format!("{shown}: not an SVG with a viewBox"));
        }
        for needle in ["http://", "https://", "@import", "@font-face"] {
            // The SVG namespace is a name, not something loaded.
            let loads = text
                .match_indices(needle)
                .any(|(at, _)| !text[at..].starts_with("http://www.w3.org/"));
            if loads {
                problems.push(format!(
                    "{shown}: refers to `{needle}`: a diagram loads nothing"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_rust_block_is_typed_by_hand() {
    static FENCE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s*(```+|~~~+)\s*(.*)$").expect("regex"));
    static ILLUSTRATIVE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s*<!--\s*illustrative:\s*\S.*-->\s*$").expect("regex"));
    let mut problems = Vec::new();
    for chapter in chapters(root()) {
        let lines: Vec<&str> = chapter.text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let Some(open) = FENCE.captures(lines[i]) else {
                i += 1;
                continue;
            };
            let fence = open[1].to_string();
            let info = open[2].trim().to_string();
            let start = i;
            i += 1;
            let mut body = Vec::new();
            while i < lines.len() && !lines[i].trim_start().starts_with(fence.as_str()) {
                body.push(lines[i]);
                i += 1;
            }
            i += 1; // the closing fence
            let language = info.split([',', ' ']).next().unwrap_or("");
            // mdBook treats a block without a language as Rust.
            if !(language.is_empty() || language == "rust") {
                continue;
            }
            let only_includes = body.iter().all(|l| {
                l.trim().is_empty()
                    || l.trim().starts_with("{{#include")
                    || l.trim().starts_with("{{#rustdoc_include")
            });
            let marked = start > 0 && ILLUSTRATIVE.is_match(lines[start - 1]);
            if !only_includes && !marked {
                problems.push(format!(
                    "{}:{}: a Rust code block typed by hand. Include the code from a lesson crate with {{{{#include ../../lessons/<lesson>/src/<file>.rs:<anchor>}}}}, or, for a deliberate fragment, put `<!-- illustrative: <why> -->` on the line above the fence{}",
                    chapter.shown,
                    start + 1,
                    if language.is_empty() { " (a block without a language counts as Rust: name its language, e.g. ```text)" } else { "" }
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_transcript_shown_is_checked_by_its_lesson() {
    let mut problems = Vec::new();
    let mut shown = 0;
    for chapter in chapters(root()) {
        for inc in includes(&chapter)
            .into_iter()
            .filter(|inc| inc.target.contains("/transcripts/"))
        {
            shown += 1;
            let file = inc.file.canonicalize().unwrap_or_else(|_| inc.file.clone());
            let relative = file
                .strip_prefix(root())
                .map(Path::to_path_buf)
                .unwrap_or(file);
            let parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            match parts.as_slice() {
                [lessons, lesson, transcripts, _] if lessons == "lessons" && transcripts == "transcripts" => {
                    if !root().join("lessons").join(lesson).join("tests/transcripts.rs").is_file() {
                        problems.push(format!(
                            "{}:{}: {} is not checked: lessons/{lesson}/tests/transcripts.rs is missing",
                            chapter.shown, inc.line, inc.target
                        ));
                    }
                }
                _ => problems.push(format!(
                    "{}:{}: {}: transcripts live in lessons/<lesson>/transcripts/, where the lesson's tests check them",
                    chapter.shown, inc.line, inc.target
                )),
            }
        }
    }
    assert!(shown > 0, "the book shows no transcript");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_book_builds_cleanly_offline_with_working_links() {
    let out = std::env::temp_dir().join(format!("course-book-test-{}", std::process::id()));
    let report = course::build_book(&root().join("book"), Some(&out)).expect("the book builds");
    let result = std::panic::catch_unwind(|| check_html(&report));
    let _ = std::fs::remove_dir_all(&out);
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

fn check_html(report: &course::BuildReport) {
    assert!(
        report.problems.is_empty(),
        "mdBook reported:\n{}",
        report.problems.join("\n")
    );

    static ATTR: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"\b(href|src)="([^"]*)""#).expect("regex"));
    let mut pages = Vec::new();
    collect(&report.html_dir, "html", &mut pages);
    assert!(
        pages.iter().any(|p| p.ends_with("sockets.html")),
        "no sockets.html in {}",
        report.html_dir.display()
    );
    let mut problems = Vec::new();
    for page in &pages {
        let html = without_code(&std::fs::read_to_string(page).unwrap_or_default());
        let shown = page
            .strip_prefix(&report.html_dir)
            .unwrap_or(page)
            .display()
            .to_string();
        for c in ATTR.captures_iter(&html) {
            let (attr, link) = (&c[1], &c[2]);
            if link.starts_with("https://") || link.starts_with("http://") || link.starts_with("//")
            {
                // Links out are fine; loading a resource from the network is not: the book works offline.
                if attr == "src" || is_stylesheet(&html, c.get(0).map_or(0, |m| m.start())) {
                    problems.push(format!("{shown}: loads {link} from the network"));
                }
                continue;
            }
            if link.starts_with("mailto:")
                || link.starts_with("data:")
                || link.starts_with("javascript:")
            {
                continue;
            }
            let (path, fragment) = link.split_once('#').unwrap_or((link, ""));
            let path = path.split('?').next().unwrap_or("");
            let target = if path.is_empty() {
                page.clone()
            } else if let Some(from_root) = path.strip_prefix('/') {
                // Root-relative, as in 404.html, whose `<base>` is the site's root.
                report.html_dir.join(from_root)
            } else {
                page.parent().expect("in a folder").join(path)
            };
            let target = if target.is_dir() {
                target.join("index.html")
            } else {
                target
            };
            if !target.is_file() {
                problems.push(format!("{shown}: {attr}=\"{link}\" points to nothing"));
            } else if !fragment.is_empty() && target.extension().is_some_and(|e| e == "html") {
                let text = std::fs::read_to_string(&target).unwrap_or_default();
                if !text.contains(&format!("id=\"{fragment}\"")) {
                    problems.push(format!(
                        "{shown}: {attr}=\"{link}\": no id=\"{fragment}\" in the target page"
                    ));
                }
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "broken links or network resources in the built book:\n{}",
        problems.join("\n")
    );
}

/// The page without its code blocks: a transcript may show HTML (a served page, a response
/// body), whose `href` and `src` are text for the reader, not links of the book's.
fn without_code(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<pre") {
        out.push_str(&rest[..start]);
        match rest[start..].find("</pre>") {
            Some(end) => rest = &rest[start + end + "</pre>".len()..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

fn is_stylesheet(html: &str, at: usize) -> bool {
    let tag_start = html[..at].rfind('<').unwrap_or(0);
    html[tag_start..at].starts_with("<link")
        && html[tag_start..]
            .split('>')
            .next()
            .is_some_and(|tag| tag.contains("stylesheet"))
}

/// The widest line a code block shows without scrolling sideways at 1280 px: the content column
/// is widened for it in book/theme/course.css, and rustfmt keeps code within it.
const WIDEST_LINE: usize = 100;

/// The lines an include shows: the anchored region (without anchor markers), or the whole file.
fn included_lines(source: &str, anchor: Option<&str>) -> Vec<String> {
    let Some(anchor) = anchor else {
        return source.lines().map(str::to_string).collect();
    };
    let is_marker = |line: &str, marker: &str| {
        line.split_once(marker)
            .is_some_and(|(_, rest)| rest.trim() == anchor)
    };
    source
        .lines()
        .skip_while(|l| !is_marker(l, "ANCHOR:"))
        .skip(1)
        .take_while(|l| !is_marker(l, "ANCHOR_END:"))
        .filter(|l| !l.contains("ANCHOR:") && !l.contains("ANCHOR_END:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_included_line_fits_the_page_without_scrolling() {
    let mut problems = Vec::new();
    for chapter in chapters(root()) {
        for inc in includes(&chapter) {
            let Ok(source) = std::fs::read_to_string(&inc.file) else {
                continue; // reported by every_include_names_an_existing_file_and_anchor
            };
            for line in included_lines(&source, inc.anchor.as_deref()) {
                let width = line.chars().count();
                if width > WIDEST_LINE {
                    problems.push(format!(
                        "{}:{}: {} shows a line of {width} characters (at most {WIDEST_LINE}):\n    {line}",
                        chapter.shown, inc.line, inc.target
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "lines too wide for the page:\n{}",
        problems.join("\n")
    );
}
