//! The book's prose: spelled right, its links out of the book each there for a reason, its
//! glossary tied to the chapters. Every failure names the page and line.
//!
//! The spell check runs Debian's `hunspell` with its British English dictionary
//! (`hunspell-en-gb`, which accepts -ize spellings too) and the course's own words in
//! `book/words.txt`: without them it skips loudly, and fails under CI.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::LazyLock;

use course_testkit::process::require;
use regex::Regex;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every page of the book but `SUMMARY.md`: (path shown in messages, text).
fn pages() -> Vec<(String, String)> {
    let pages: Vec<(String, String)> = course::chapters::chapters(root())
        .into_iter()
        .filter(|c| !c.path.ends_with("SUMMARY.md"))
        .map(|c| (c.shown, c.text))
        .collect();
    assert!(!pages.is_empty(), "no pages in book/src");
    pages
}

/// The page's lines as a reader reads their words: without code blocks, inline code, link
/// targets, HTML tags and entities, includes, addresses, and numbers with units (`0.8x`,
/// `p99`, `40ms`). A possessive `'s` is dropped, so that `Tokio's` is spelled as `Tokio`.
fn prose_lines(text: &str) -> Vec<String> {
    static DROP: LazyLock<Vec<Regex>> = LazyLock::new(|| {
        [
            r"`[^`]*`",                                                       // inline code
            r"\{\{#[^}]*\}\}",                                                // includes
            r"\]\([^)]*\)",                                                   // a link's target
            r"<[^>]*>",            // HTML tags and comments on one line
            r"&[a-z]+;|&#[0-9]+;", // entities
            r"[a-z]+://\S+",       // addresses
            r"\b\w*[0-9]\w*\b",    // anything with a digit
            r"\b[A-Za-z0-9.-]+\.(rs|md|toml|svg|txt|py|html|sh|json|lock)\b", // file names
            r"\b[a-z0-9-]+\.(io|org|com|net|dev)\b", // host names such as crates.io
        ]
        .iter()
        .map(|r| Regex::new(r).expect("regex"))
        .collect()
    });
    static POSSESSIVE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(\w)['’]s\b").expect("regex"));
    let mut in_fence = false;
    let mut in_comment = false;
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("```") {
                in_fence = !in_fence;
                return String::new();
            }
            if in_fence {
                return String::new();
            }
            // A multi-line HTML comment is a note for authors, not prose.
            if in_comment {
                in_comment = !line.contains("-->");
                return String::new();
            }
            if trimmed.starts_with("<!--") && !line.contains("-->") {
                in_comment = true;
                return String::new();
            }
            // hunspell splits words at hyphens, and its en_GB dictionary refuses a lone `Wi`.
            let mut line = line.replace('’', "'").replace("Wi-Fi", "WiFi");
            for re in DROP.iter() {
                line = re.replace_all(&line, " ").into_owned();
            }
            POSSESSIVE.replace_all(&line, "$1").into_owned()
        })
        .collect()
}

/// The course's words, one per line in `book/words.txt` (`#` starts a comment).
fn course_words() -> BTreeSet<String> {
    let list = std::fs::read_to_string(root().join("book/words.txt")).expect("book/words.txt");
    list.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_book_is_spelled_right() {
    let Some(hunspell) = require("hunspell", "apt-get install hunspell hunspell-en-gb") else {
        return;
    };
    if !Path::new("/usr/share/hunspell/en_GB.dic").is_file() {
        assert!(
            !course_testkit::under_ci(),
            "hunspell's en_GB dictionary is missing under CI: apt-get install hunspell-en-gb"
        );
        eprintln!(
            "SKIPPED: hunspell's en_GB dictionary is missing (apt-get install hunspell-en-gb)"
        );
        return;
    }
    let scratch =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("prose-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch folder");
    let personal = scratch.join("words.dic");
    let words = course_words();
    std::fs::write(
        &personal,
        words.iter().map(|w| format!("{w}\n")).collect::<String>(),
    )
    .expect("write the personal dictionary");

    let pages = pages();
    let lines: Vec<(String, usize, String)> = pages
        .iter()
        .flat_map(|(shown, text)| {
            prose_lines(text)
                .into_iter()
                .enumerate()
                .map(|(i, l)| (shown.clone(), i + 1, l))
                .collect::<Vec<_>>()
        })
        .collect();
    let all: String = lines.iter().map(|(_, _, l)| format!("{l}\n")).collect();
    let mut child = Command::new(hunspell)
        .args(["-d", "en_GB", "-i", "UTF-8", "-l", "-p"])
        .arg(&personal)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hunspell");
    let mut stdin = child.stdin.take().expect("hunspell's stdin");
    let feeder = std::thread::spawn(move || stdin.write_all(all.as_bytes()));
    let out = child.wait_with_output().expect("hunspell's output");
    feeder
        .join()
        .expect("feed hunspell")
        .expect("write to hunspell");
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(
        out.status.success(),
        "hunspell failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unknown: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect();

    // Where each unknown word is, for the report.
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for word in &unknown {
        let whole = Regex::new(&format!(r"\b{}\b", regex::escape(word))).expect("regex");
        for (shown, line, text) in &lines {
            if whole.is_match(text) {
                found
                    .entry(word.clone())
                    .or_default()
                    .push(format!("{shown}:{line}"));
            }
        }
    }
    let report: Vec<String> = unknown
        .iter()
        .map(|w| {
            let at = found
                .get(w)
                .map(|v| v[..v.len().min(3)].join(", "))
                .unwrap_or_default();
            format!("{w}  ({at})")
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "{} words the dictionary does not know. Fix the typos; add real words (names, \
         jargon) to book/words.txt, one per line:\n{}",
        unknown.len(),
        report.join("\n")
    );
}

/// A link out of the book, `[text](https://...)` or `<https://...>`.
static EXTERNAL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?:\]\(|<)(https?://[^)\s>"]+)"#).expect("regex"));

static INLINE_CODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"`[^`]*`").expect("regex"));
static LOOPBACK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^https?://(127\.|\[::1\]|localhost[:/])").expect("regex"));

/// `book/links.txt`: each link out of the book, then after whitespace why it is there.
fn listed_links() -> BTreeMap<String, String> {
    let list = std::fs::read_to_string(root().join("book/links.txt")).expect("book/links.txt");
    list.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (url, why) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            (url.to_string(), why.trim().to_string())
        })
        .collect()
}

#[test]
fn every_link_out_of_the_book_has_a_reason() {
    let listed = listed_links();
    let mut problems = Vec::new();
    for (url, why) in &listed {
        if why.is_empty() {
            problems.push(format!("book/links.txt: {url} has no reason after it"));
        }
    }
    let mut used = BTreeSet::new();
    for (shown, text) in pages() {
        for (i, line) in text.lines().enumerate() {
            let line = INLINE_CODE.replace_all(line, "");
            for c in EXTERNAL.captures_iter(&line) {
                let url = c[1].to_string();
                if LOOPBACK.is_match(&url) {
                    continue; // the reader's own server
                }
                if !listed.contains_key(&url) {
                    problems.push(format!(
                        "{shown}:{}: {url} is not in book/links.txt: add it with the reason it \
                         is there, or remove it",
                        i + 1
                    ));
                }
                used.insert(url);
            }
        }
    }
    for url in listed.keys() {
        if !used.contains(url) {
            problems.push(format!(
                "book/links.txt: {url} is no longer in the book: remove it"
            ));
        }
    }
    assert!(
        !used.is_empty(),
        "the book links out to nothing: is the regex right?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_glossary_entry_links_to_the_chapter_that_teaches_it() {
    static ENTRY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\*\*([^*]+)\.\*\*").expect("regex"));
    static CHAPTER_LINK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\]\([a-z0-9-]+\.md#[a-z0-9_-]+\)").expect("regex"));
    let text =
        std::fs::read_to_string(root().join("book/src/glossary.md")).expect("book/src/glossary.md");
    let mut entries = 0;
    let mut problems = Vec::new();
    // An entry is a paragraph that starts with `**Term.**`.
    for paragraph in text.split("\n\n") {
        let Some(c) = ENTRY.captures(paragraph.trim_start()) else {
            continue;
        };
        entries += 1;
        if !CHAPTER_LINK.is_match(paragraph) {
            let line = text[..text.find(paragraph).unwrap_or(0)].lines().count() + 1;
            problems.push(format!(
                "book/src/glossary.md:{line}: `{}` links to no chapter section (`[Chapter](file.md#section)`)",
                &c[1]
            ));
        }
    }
    assert!(entries > 0, "the glossary has no `**Term.**` entries");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
