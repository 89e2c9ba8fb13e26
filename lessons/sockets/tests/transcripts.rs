//! Every terminal session the Sockets chapter shows is a file in `transcripts/`; this runs each
//! command for real and compares. Regenerate after a deliberate change with:
//! `UPDATE_TRANSCRIPTS=1 cargo test -p sockets --test transcripts`.

use std::path::Path;

#[test]
fn transcripts_match_real_runs() {
    course_testkit::transcript::check_lesson("sockets", Path::new(env!("CARGO_BIN_EXE_sockets")));
}

/// What the program prints fits an 80-column terminal, and so the book's column: long lines
/// and hints are wrapped by the program itself.
#[test]
fn transcript_lines_fit_a_terminal() {
    const WIDTH: usize = 80;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("transcripts");
    let mut too_wide = Vec::new();
    for entry in std::fs::read_dir(&dir)
        .expect("lessons/sockets/transcripts/")
        .flatten()
    {
        let path = entry.path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (i, line) in text.lines().enumerate() {
            if line.chars().count() > WIDTH {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                too_wide.push(format!("transcripts/{name}:{}: {line}", i + 1));
            }
        }
    }
    assert!(
        too_wide.is_empty(),
        "lines wider than {WIDTH} columns:\n{}",
        too_wide.join("\n")
    );
}
