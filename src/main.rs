//! `cargo run` at the workspace root: build the book and say where to open it.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // mdBook renders an include of a missing anchor as nothing, silently: report those first.
    let mut problems = course::chapters::broken_includes(&course::chapters::chapters(root));
    match course::build_book(&root.join(course::BOOK_DIR), None) {
        Ok(report) => {
            problems.extend(report.problems);
            for problem in &problems {
                eprintln!("{problem}");
            }
            let index = report.html_dir.join("index.html");
            println!("the book is built: open {}", index.display());
            if problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "error: {} problem(s) in the book, listed above",
                    problems.len()
                );
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
