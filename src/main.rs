//! `cargo run` at the workspace root: build the book and say where to open it.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    match course::build_book(&root.join(course::BOOK_DIR), None) {
        Ok(report) => {
            for problem in &report.problems {
                eprintln!("{problem}");
            }
            let index = report.html_dir.join("index.html");
            println!("the book is built: open {}", index.display());
            if report.problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                eprintln!("mdBook reported {} problem(s) above", report.problems.len());
                ExitCode::FAILURE
            }
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
