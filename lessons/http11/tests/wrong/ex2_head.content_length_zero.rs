//! Wrong on purpose, exercise 2: a HEAD answered with `Content-Length: 0`, the length of the body
//! actually sent, instead of the length GET's body would have.
//!
//! Must fail: head_has_the_same_head_as_get, head_tells_the_length_of_the_get_body

pub const PAGES: &[(&str, &str, &str)] = &[
    ("/", "text/html; charset=utf-8", "<h1>Hello, world!</h1>\n"),
    ("/hello.txt", "text/plain; charset=utf-8", "Hello, world!\n"),
];

pub fn respond(request_head: &str) -> Vec<u8> {
    let mut parts = request_head.split(' ');
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" && method != "HEAD" {
        return b"HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n\r\n"
            .to_vec();
    }
    let (status, content_type, body) = match PAGES.iter().find(|(p, _, _)| *p == path) {
        Some((_, content_type, body)) => ("200 OK", *content_type, *body),
        None => ("404 Not Found", "text/plain; charset=utf-8", "not found\n"),
    };
    let body = if method == "HEAD" { "" } else { body };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
