//! Wrong on purpose, exercise 1: splits lines on LF and drops a CR before it, as many
//! tutorials do, so a bare LF ends a line as well as CRLF does.
//!
//! Must fail: refuses_a_bare_lf_or_cr

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    pub target: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
}

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

pub fn parse_head(bytes: &[u8]) -> Result<Head, HeadError> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().ok_or(HeadError::MissingCrlf)?;
    let parts: Vec<&str> = request_line.split(' ').collect();
    let [method, target, version] = parts[..] else {
        return Err(HeadError::BadRequestLine);
    };
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let graphic = |c: char| c.is_ascii_graphic();
    if method.is_empty() || !method.chars().all(tchar) {
        return Err(HeadError::BadRequestLine);
    }
    if target.is_empty() || !target.chars().all(graphic) {
        return Err(HeadError::BadRequestLine);
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(HeadError::BadVersion);
    }
    let mut headers = Vec::new();
    let mut ended = false;
    for line in lines {
        if line.is_empty() {
            ended = true;
            break;
        }
        if line.contains('\r') {
            return Err(HeadError::MissingCrlf);
        }
        if line.starts_with([' ', '\t']) {
            return Err(HeadError::ObsFold);
        }
        let (name, value) = line.split_once(':').ok_or(HeadError::BadField)?;
        if name.ends_with([' ', '\t']) {
            return Err(HeadError::SpaceBeforeColon);
        }
        if name.is_empty() || !name.chars().all(tchar) {
            return Err(HeadError::BadField);
        }
        headers.push((
            name.to_string(),
            value.trim_matches([' ', '\t']).to_string(),
        ));
    }
    if !ended {
        return Err(HeadError::MissingCrlf);
    }
    let hosts = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("host"))
        .count();
    match (hosts, version) {
        (0, "HTTP/1.1") => return Err(HeadError::MissingHost),
        (2.., _) => return Err(HeadError::DuplicateHost),
        _ => {}
    }
    Ok(Head {
        method: method.into(),
        target: target.into(),
        version: version.into(),
        headers,
    })
}
