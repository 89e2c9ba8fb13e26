//! Building a response (RFC 9112 §4, §6): status line, header fields, the empty line, body.
//! API contract: `Response::new(status)`, `.header(name, value)`, `.body(bytes, content_type)`,
//! `.to_bytes(head_only: bool) -> Vec<u8>` (HEAD: the same head, no body), `reason(status)`,
//! `http_date(SystemTime) -> String` (IMF-fixdate, RFC 9110 §5.6.7).

use std::time::{SystemTime, UNIX_EPOCH};

// ANCHOR: response
/// A response to send: a status code, header fields in order, and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A response with this status, no header fields and no body.
    pub fn new(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header field.
    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body and its `Content-Type`.
    pub fn body(mut self, body: Vec<u8>, content_type: &str) -> Response {
        self.body = body;
        self.header("Content-Type", content_type)
    }

    /// The response as bytes on the wire. `Content-Length` is added unless a field of that
    /// name was set (a body sent apart, such as a file, sets its own) or the status forbids
    /// it: 1xx and 204 never have one (RFC 9110 §8.6), and a 304's would have to be the
    /// length of the 200 it stands for. With `head_only` (a HEAD request) the head is the
    /// same, `Content-Length` included, and the body is left out (RFC 9110 §9.3.2).
    pub fn to_bytes(&self, head_only: bool) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        let has_length = self
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-length"));
        let may_have_length = !matches!(self.status, 100..=199 | 204 | 304);
        if !has_length && may_have_length {
            out.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        if !head_only {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}
// ANCHOR_END: response

/// The reason phrase of a status code (RFC 9110 §15). Clients ignore it; people read it.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

// ANCHOR: http_date
/// A time as an IMF-fixdate (RFC 9110 §5.6.7), the format of `Date` and `Last-Modified`:
/// `Sun, 06 Nov 1994 08:49:37 GMT`. Always GMT, seconds only.
pub fn http_date(time: SystemTime) -> String {
    let secs = match time.duration_since(UNIX_EPOCH) {
        Ok(after) => after.as_secs() as i64,
        Err(before) => -(before.duration().as_secs_f64().ceil() as i64),
    };
    let (days, secs_of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // 1970-01-01 was a Thursday.
    let weekday = WEEKDAYS[(days + 4).rem_euclid(7) as usize];
    format!(
        "{weekday}, {day:02} {} {year:04} {:02}:{:02}:{:02} GMT",
        MONTHS[month as usize - 1],
        secs_of_day / 3600,
        secs_of_day % 3600 / 60,
        secs_of_day % 60
    )
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31) in the proleptic Gregorian
/// calendar: Howard Hinnant's `civil_from_days`. Years are counted from March, so that the
/// leap day is the last day of a year; an era is 400 years, which repeat exactly.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // [0, 146096]
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153; // 0 = March .. 11 = February
    let day = day_of_year - (153 * march_month + 2) / 5 + 1;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}
// ANCHOR_END: http_date

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn http_date_of_known_times() {
        assert_eq!(http_date(at(0)), "Thu, 01 Jan 1970 00:00:00 GMT");
        // RFC 9110 §5.6.7's own example.
        assert_eq!(http_date(at(784_111_777)), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(http_date(at(951_782_400)), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(
            http_date(at(1_709_164_799)),
            "Wed, 28 Feb 2024 23:59:59 GMT"
        );
        assert_eq!(
            http_date(at(1_709_251_199)),
            "Thu, 29 Feb 2024 23:59:59 GMT"
        );
        assert_eq!(
            http_date(at(1_709_251_200)),
            "Fri, 01 Mar 2024 00:00:00 GMT"
        );
        assert_eq!(
            http_date(at(2_147_483_648)),
            "Tue, 19 Jan 2038 03:14:08 GMT"
        );
        assert_eq!(
            http_date(at(4_102_444_800)),
            "Fri, 01 Jan 2100 00:00:00 GMT"
        );
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(http_date(before), "Wed, 31 Dec 1969 23:59:59 GMT");
    }

    #[test]
    fn civil_dates_follow_each_other_for_four_centuries() {
        let mut previous = civil_from_days(-1);
        for days in 0..146_097 {
            let (y, m, d) = civil_from_days(days);
            let (py, pm, pd) = previous;
            let next_day = (y, m, d) == (py, pm, pd + 1);
            let next_month = (y, m, d) == (py, pm + 1, 1);
            let next_year = (y, m, d) == (py + 1, 1, 1) && (pm, pd) == (12, 31);
            assert!(
                next_day || next_month || next_year,
                "{previous:?} then {y}-{m}-{d}"
            );
            previous = (y, m, d);
        }
    }

    #[test]
    fn to_bytes_writes_the_status_line_fields_length_and_body() {
        let r = Response::new(200)
            .header("Server", "http11")
            .body(b"hi".to_vec(), "text/plain");
        assert_eq!(
            r.to_bytes(false),
            b"HTTP/1.1 200 OK\r\nServer: http11\r\nContent-Type: text/plain\r\n\
              Content-Length: 2\r\n\r\nhi"
        );
    }

    #[test]
    fn head_has_the_same_head_and_no_body() {
        let r = Response::new(404).body(b"not found\n".to_vec(), "text/plain");
        let get = r.to_bytes(false);
        let head = r.to_bytes(true);
        assert!(get.starts_with(&head));
        assert_eq!(&get[head.len()..], b"not found\n");
        assert!(String::from_utf8_lossy(&head).contains("Content-Length: 10\r\n"));
    }

    #[test]
    fn content_length_when_set_apart_or_forbidden() {
        let file = Response::new(200)
            .header("Content-Length", "12345")
            .to_bytes(true);
        assert_eq!(file, b"HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n\r\n");
        for status in [100, 204, 304] {
            let bytes = Response::new(status).to_bytes(false);
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains("Content-Length"), "{text}");
        }
        let empty = Response::new(200).to_bytes(false);
        assert_eq!(empty, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    }

    #[test]
    fn reasons() {
        assert_eq!(reason(200), "OK");
        assert_eq!(reason(405), "Method Not Allowed");
        assert_eq!(reason(501), "Not Implemented");
        assert_eq!(reason(431), "Request Header Fields Too Large");
        assert_eq!(reason(799), "Unknown");
    }
}
