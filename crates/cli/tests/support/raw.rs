//! Raw HTTP/1.1 over a TCP connection, for requests an HTTP client would
//! normalise or refuse to send: paths with `..` or bytes that are not UTF-8,
//! lying headers, bodies cut short.

use super::http::Resp;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

/// An answer read off a raw connection.
#[derive(Debug)]
pub struct RawResp {
    pub status: u16,
    pub head: String,
    /// The body, with chunked transfer coding removed.
    pub body: Vec<u8>,
}

impl RawResp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Turns it into a [`Resp`] for the error-contract checks.
    pub fn into_resp(self) -> Resp {
        let content_type = self
            .head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-type")
                    .then(|| value.trim().to_string())
            })
            .unwrap_or_default();
        Resp {
            status: self.status,
            content_type,
            cache_control: String::new(),
            body: self.body,
        }
    }
}

/// Sends `request` byte for byte (no client-side normalisation of paths,
/// bodies or headers) and reads the answer until the server closes.
pub fn raw_http(addr: &str, request: &[u8]) -> RawResp {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // The server may answer (413) and close before it has read everything,
    // so a failed write or a reset after the answer is not an error here:
    // the answer itself must still be there.
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    parse_raw_answer(&answer)
        .unwrap_or_else(|| panic!("no HTTP answer: {:?}", String::from_utf8_lossy(&answer)))
}

/// The status, head and (de-chunked) body of an answer, if it is one.
pub fn parse_raw_answer(answer: &[u8]) -> Option<RawResp> {
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut body = answer[split + 4..].to_vec();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let chunked = head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding:") && l.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let len =
                usize::from_str_radix(std::str::from_utf8(&rest[..eol]).ok()?.trim(), 16).ok()?;
            if len == 0 {
                break;
            }
            let start = eol + 2;
            out.extend_from_slice(rest.get(start..start + len)?);
            rest = rest.get(start + len + 2..)?;
        }
        body = out;
    }
    Some(RawResp { status, head, body })
}

/// A GET whose path is sent byte for byte (no client-side `..` folding).
pub fn raw_get(addr: &str, path: &[u8]) -> RawResp {
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(path);
    request.extend_from_slice(
        format!(" HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    raw_http(addr, &request)
}

/// A JSON POST with this exact body.
pub fn raw_post(addr: &str, path: &str, body: &[u8]) -> RawResp {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    raw_http(addr, &request)
}
