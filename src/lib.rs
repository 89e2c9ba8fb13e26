//! Builds the course book with mdBook used as a library, so a fresh machine needs nothing but the Rust
//! toolchain. mdBook reports problems (a missing include, a broken link) through `tracing` and carries
//! on; [`build_book`] collects those reports so that `cargo run` can print them and the tests can fail
//! on them.

pub mod chapters;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use mdbook_driver::MDBook;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Where the book's sources live, relative to the workspace root.
pub const BOOK_DIR: &str = "book";

/// What a build produced: where the HTML is and what mdBook complained about.
#[derive(Debug)]
pub struct BuildReport {
    /// The folder holding `index.html`.
    pub html_dir: PathBuf,
    /// Every warning and error mdBook logged, one line each, in order.
    pub problems: Vec<String>,
}

/// Builds the book in `book_root` into `build_dir` (mdBook's own `build-dir` setting is used when
/// `build_dir` is `None`).
pub fn build_book(book_root: &Path, build_dir: Option<&Path>) -> Result<BuildReport> {
    let mut book = MDBook::load(book_root)
        .with_context(|| format!("could not load the book in {}", book_root.display()))?;
    if let Some(dir) = build_dir {
        book.config.build.build_dir = dir.to_path_buf();
    }
    let html_dir = book.build_dir_for("html");

    let collector = ProblemCollector::default();
    let problems = Arc::clone(&collector.problems);
    let built = tracing::subscriber::with_default(collector, || book.build());
    built.context("mdBook could not build the book")?;

    let problems = problems.lock().map(|p| p.clone()).unwrap_or_default();
    Ok(BuildReport { html_dir, problems })
}

/// A minimal `tracing` subscriber that keeps WARN and ERROR events as text and ignores the rest.
#[derive(Default)]
struct ProblemCollector {
    problems: Arc<Mutex<Vec<String>>>,
}

impl Subscriber for ProblemCollector {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= Level::WARN
    }

    fn event(&self, event: &Event<'_>) {
        let mut line = format!("{}: ", event.metadata().level());
        event.record(&mut MessageWriter(&mut line));
        if let Ok(mut problems) = self.problems.lock() {
            problems.push(line);
        }
    }

    // mdBook's spans carry nothing we report; ids only need to be non-zero.
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Writes an event's fields as `message key=value ...`.
struct MessageWriter<'a>(&'a mut String);

impl Visit for MessageWriter<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
}
