//! Exercise 1: Parse a request head (reference solution).

/// The parts of a request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    pub target: String,
    /// `"HTTP/1.1"` or `"HTTP/1.0"`.
    pub version: String,
    /// In the order sent, names as sent, values without the whitespace around them.
    pub headers: Vec<(String, String)>,
}

/// What is wrong with a request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    MissingCrlf,
    BadRequestLine,
    BadVersion,
    SpaceBeforeColon,
    ObsFold,
    BadField,
    MissingHost,
    DuplicateHost,
}

// ANCHOR: solution
pub fn parse_head(bytes: &[u8]) -> Result<Head, HeadError> {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(HeadError::MissingCrlf)?;
    // Split on CRLF only; a CR or LF left inside a line was not part of a CRLF.
    let mut lines = split_crlf(&bytes[..end]).map(|line| {
        match line.contains(&b'\r') || line.contains(&b'\n') {
            true => Err(HeadError::MissingCrlf),
            false => Ok(line),
        }
    });
    let request_line = lines.next().unwrap_or(Ok(b""))?;
    let (method, target, version) = parse_request_line(request_line)?;
    let mut headers = Vec::new();
    for line in lines {
        headers.push(parse_field(line?)?);
    }
    let hosts = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("host"))
        .count();
    match (hosts, version.as_str()) {
        (0, "HTTP/1.1") => return Err(HeadError::MissingHost),
        (2.., _) => return Err(HeadError::DuplicateHost),
        _ => {}
    }
    Ok(Head {
        method,
        target,
        version,
        headers,
    })
}

/// The lines between CRLFs.
fn split_crlf(mut bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        match bytes.windows(2).position(|w| w == b"\r\n") {
            Some(i) => {
                let line = &bytes[..i];
                bytes = &bytes[i + 2..];
                Some(line)
            }
            None => {
                done = true;
                Some(bytes)
            }
        }
    })
}

fn is_token(bytes: &[u8]) -> bool {
    let tchar = |b: &u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b);
    !bytes.is_empty() && bytes.iter().all(tchar)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn parse_request_line(line: &[u8]) -> Result<(String, String, String), HeadError> {
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    let [method, target, version] = parts[..] else {
        return Err(HeadError::BadRequestLine);
    };
    let target_ok = !target.is_empty() && target.iter().all(|b| b.is_ascii_graphic());
    if !is_token(method) || !target_ok {
        return Err(HeadError::BadRequestLine);
    }
    if version != b"HTTP/1.1" && version != b"HTTP/1.0" {
        return Err(HeadError::BadVersion);
    }
    Ok((text(method), text(target), text(version)))
}

fn parse_field(line: &[u8]) -> Result<(String, String), HeadError> {
    if line.starts_with(b" ") || line.starts_with(b"\t") {
        return Err(HeadError::ObsFold);
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(HeadError::BadField)?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    if name.ends_with(b" ") || name.ends_with(b"\t") {
        return Err(HeadError::SpaceBeforeColon);
    }
    if !is_token(name) {
        return Err(HeadError::BadField);
    }
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !ows(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|b| !ows(b)).map_or(start, |i| i + 1);
    Ok((text(name), text(&value[start..end])))
}
// ANCHOR_END: solution
