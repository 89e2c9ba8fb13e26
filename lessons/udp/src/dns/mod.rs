//! DNS: see the chapter.
