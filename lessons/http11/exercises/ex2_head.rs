//! Exercise 2: Answer HEAD like GET, without the body.
//!
//! `respond` gets the text of one request head (the request line and the header fields,
//! each line ending in CRLF, then an empty line) and returns the bytes of the response.
//! The site is `PAGES`: a path, its `Content-Type`, its body.
//!
//! - `GET` of a page: `HTTP/1.1 200 OK`, then `Content-Type` and `Content-Length` (the
//!   body's length in bytes), the empty line, and the body.
//! - `GET` of any other path: `HTTP/1.1 404 Not Found` with the body `not found\n` as
//!   `text/plain; charset=utf-8`, framed the same way.
//! - `HEAD`: exactly the head that `GET` of the same path would get, the same
//!   `Content-Length` included, and no body at all (RFC 9110 §9.3.2). A client reads no
//!   body after a HEAD response: any byte you send would be read as the start of the next
//!   response.
//! - Any other method: `HTTP/1.1 405 Method Not Allowed`, with the field
//!   `Allow: GET, HEAD` and an empty body (`Content-Length: 0`).
//!
//! Write the fields in that order (`Allow` first for a 405), `Name: value`, each line
//! ending in CRLF.
//!
//! Check your work: `cargo exercise http11 ex2`.

/// The site: path, `Content-Type`, body.
pub const PAGES: &[(&str, &str, &str)] = &[
    ("/", "text/html; charset=utf-8", "<h1>Hello, world!</h1>\n"),
    ("/hello.txt", "text/plain; charset=utf-8", "Hello, world!\n"),
];

/// The response to the request whose head is `request_head`.
pub fn respond(request_head: &str) -> Vec<u8> {
    todo!("answer {request_head:?}")
}
