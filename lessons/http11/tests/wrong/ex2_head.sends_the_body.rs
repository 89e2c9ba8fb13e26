//! Wrong on purpose, exercise 2: HEAD answered exactly like GET, body and all.
//!
//! Must fail: head_sends_no_body, head_of_a_missing_page_is_a_404_without_a_body, a_client_reads_nothing_after_the_head

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
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}
