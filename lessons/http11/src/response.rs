//! Building a response (RFC 9112 §4, §6): status line, header fields, the empty line, body.
//! API contract: `Response::new(status)`, `.header(name, value)`, `.body(bytes, content_type)`,
//! `.to_bytes(head_only: bool) -> Vec<u8>` (HEAD: the same head, no body), `reason(status)`,
//! `http_date(SystemTime) -> String` (IMF-fixdate, RFC 9110 §5.6.7).
