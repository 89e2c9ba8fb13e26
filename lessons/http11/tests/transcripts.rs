//! Every terminal session the HTTP chapter shows is a file in `transcripts/`; this runs each
//! command for real and compares. Regenerate after a deliberate change with:
//! `UPDATE_TRANSCRIPTS=1 cargo test -p http11 --test transcripts`.

#[test]
fn transcripts_match_real_runs() {
    course_testkit::transcript::check_lesson(
        "http11",
        std::path::Path::new(env!("CARGO_BIN_EXE_http11")),
    );
}
