//! Being written: see the lesson's chapter.
