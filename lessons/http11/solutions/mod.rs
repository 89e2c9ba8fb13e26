//! Reference solutions for the HTTP exercises. Try the exercises first: the chapter's hints are
//! there to get you unstuck.
