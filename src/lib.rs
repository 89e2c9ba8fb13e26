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

/// Writes `favicon.ico` into the built book, beside the `favicon-<hash>.png` that mdBook ships.
/// The pages name their icons, and Chromium asks for those; a browser or tool that asks for
/// `/favicon.ico` anyway, as browsers used to, then gets an icon instead of a `404`. The file is
/// an ICO container holding that PNG (ICO has allowed PNG images since Windows Vista, and every
/// current browser reads them). Does nothing if there is no such PNG.
pub fn add_favicon_ico(html_dir: &Path) -> std::io::Result<()> {
    let is_png_icon = |name: &str| name.starts_with("favicon") && name.ends_with(".png");
    let png_path = std::fs::read_dir(html_dir)?
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_png_icon)
        });
    let Some(png) = png_path.and_then(|path| std::fs::read(path).ok()) else {
        return Ok(());
    };
    // The PNG's size, from its IHDR chunk: big-endian width and height at bytes 16 to 24.
    let side = |at: usize| -> u8 {
        let bytes: [u8; 4] = png
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .unwrap_or([0; 4]);
        u8::try_from(u32::from_be_bytes(bytes)).unwrap_or(0) // 0 means 256 or more
    };
    let len = u32::try_from(png.len()).map_err(std::io::Error::other)?;
    let mut ico = Vec::with_capacity(22 + png.len());
    ico.extend_from_slice(&[0, 0, 1, 0, 1, 0]); // reserved, type 1 (icon), one image
    ico.extend_from_slice(&[side(16), side(20), 0, 0]); // width, height, no palette, reserved
    ico.extend_from_slice(&1u16.to_le_bytes()); // colour planes
    ico.extend_from_slice(&32u16.to_le_bytes()); // bits per pixel
    ico.extend_from_slice(&len.to_le_bytes()); // the image's size
    ico.extend_from_slice(&22u32.to_le_bytes()); // where it starts: after this header
    ico.extend_from_slice(&png);
    std::fs::write(html_dir.join("favicon.ico"), ico)
}
