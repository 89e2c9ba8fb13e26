//! Exercise 2: Answer HEAD like GET, without the body (reference solution).

/// The site: path, `Content-Type`, body.
pub const PAGES: &[(&str, &str, &str)] = &[
    ("/", "text/html; charset=utf-8", "<h1>Hello, world!</h1>\n"),
    ("/hello.txt", "text/plain; charset=utf-8", "Hello, world!\n"),
];

// ANCHOR: solution
pub fn respond(request_head: &str) -> Vec<u8> {
    let request_line = request_head.split("\r\n").next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" && method != "HEAD" {
        let head = "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n";
        return format!("{head}Content-Length: 0\r\n\r\n").into_bytes();
    }
    let (status, content_type, body) = match PAGES.iter().find(|(p, _, _)| *p == path) {
        Some((_, content_type, body)) => ("200 OK", *content_type, *body),
        None => ("404 Not Found", "text/plain; charset=utf-8", "not found\n"),
    };
    // The same head for GET and HEAD: Content-Length is the length GET's body has.
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if method == "GET" {
        response.extend_from_slice(body.as_bytes());
    }
    response
}
// ANCHOR_END: solution
