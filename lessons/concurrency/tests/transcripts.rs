//! Every terminal session the Concurrency chapter shows is a file in `transcripts/`; this runs
//! each command for real and compares. Regenerate after a deliberate change with:
//! `UPDATE_TRANSCRIPTS=1 cargo test -p concurrency --test transcripts`.

#[test]
fn transcripts_match_real_runs() {
    course_testkit::transcript::check_lesson(
        "concurrency",
        std::path::Path::new(env!("CARGO_BIN_EXE_concurrency")),
    );
}
