//! A loopback HTTP server that stands between a client (the CLI, or the
//! page in Chromium) and the real server: it answers every request through
//! a handler, which may forward it ([`forward_get`]), change the answer (a
//! lying server), or serve a page of its own. Stopped on drop.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// One answer: status, `Content-Type`, body, and the `Cache-Control` to
/// send (`no-store` when `None`).
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub cache_control: Option<String>,
}

impl Answer {
    /// A 200 answer of `content_type`.
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status: 200,
            content_type: content_type.to_string(),
            body: body.into(),
            cache_control: None,
        }
    }
}

/// The running server; `url` is `http://127.0.0.1:PORT`.
pub struct Loopback {
    pub url: String,
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wake the accept loop
    }
}

/// Starts a server on a free loopback port that answers each GET with
/// `handler(target)` (the request target, query included) and anything
/// else with 405, one request per connection.
pub fn loopback<H>(handler: H) -> Loopback
where
    H: Fn(&str) -> std::io::Result<Answer> + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback server binds");
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stopping.load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = stream else { continue };
            let handler = handler.clone();
            std::thread::spawn(move || {
                let _ = answer_one(stream, &*handler);
            });
        }
    });
    Loopback {
        url: format!("http://{addr}"),
        stop,
        addr,
    }
}

/// Reads one request head, answers it, closes.
fn answer_one(
    mut stream: TcpStream,
    handler: &dyn Fn(&str) -> std::io::Result<Answer>,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > 64 * 1024 {
            return Ok(());
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut words = head.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or("/"));
    let answer = if method == "GET" {
        handler(target)?
    } else {
        Answer {
            status: 405,
            content_type: "text/plain".to_string(),
            body: b"GET only".to_vec(),
            cache_control: None,
        }
    };
    let header = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: {}\r\nConnection: close\r\n\r\n",
        answer.status,
        answer.content_type,
        answer.body.len(),
        answer.cache_control.as_deref().unwrap_or("no-store"),
    );
    // One write: a head and a body written apart wait on the client's
    // delayed ACK (Nagle's algorithm), about 40 ms an answer.
    let mut whole = header.into_bytes();
    whole.extend_from_slice(&answer.body);
    stream.set_nodelay(true)?;
    stream.write_all(&whole)?;
    stream.flush()
}

/// GETs `upstream` + `target` and returns its answer unchanged (its
/// `Cache-Control` only for the page's files, see below).
pub fn forward_get(
    client: &reqwest::blocking::Client,
    upstream: &str,
    target: &str,
) -> std::io::Result<Answer> {
    let response = client
        .get(format!("{upstream}{target}"))
        .send()
        .map_err(std::io::Error::other)?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    // The page's own files keep the server's caching (they are immutable
    // under the build tag); everything else stays `no-store`, so a test
    // that changes an answer and then stops is never served its old copy.
    let cache_control = response
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .filter(|_| path_of(target).contains("/assets/"))
        .map(str::to_string);
    let body = response.bytes().map_err(std::io::Error::other)?.to_vec();
    Ok(Answer {
        status,
        content_type,
        body,
        cache_control,
    })
}

/// The path of a request target, without its query.
pub fn path_of(target: &str) -> &str {
    target.split('?').next().unwrap_or(target)
}

/// What a [`counting_proxy`] has sent back to its clients so far.
#[derive(Default)]
pub struct Transferred {
    /// Response bodies as sent: gzip where the server gzipped, nothing for
    /// a 304.
    pub body_bytes: std::sync::atomic::AtomicU64,
    /// Status lines and headers of the responses.
    pub head_bytes: std::sync::atomic::AtomicU64,
    /// Responses sent.
    pub responses: std::sync::atomic::AtomicU64,
    /// Of those, 304 Not Modified.
    pub not_modified: std::sync::atomic::AtomicU64,
}

impl Transferred {
    /// Sets every count back to zero.
    pub fn reset(&self) {
        for n in [
            &self.body_bytes,
            &self.head_bytes,
            &self.responses,
            &self.not_modified,
        ] {
            n.store(0, Ordering::SeqCst);
        }
    }
}

/// Request and response headers a proxy does not pass on: they describe
/// one connection, not the message (RFC 9110 §7.6.1), or are set anew.
const HOP_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
    "content-length",
];

/// A proxy to `upstream` that passes every request on with its headers
/// (`Accept-Encoding`, `If-None-Match`, ...) and every answer back with
/// its headers and its body as the server sent it (gzip stays gzip; the
/// client's `reqwest` has no gzip feature, so it never decodes), on
/// keep-alive connections as a browser uses them, and counts in
/// `counted` what it sends back: what a browser would receive from the
/// server directly.
pub fn counting_proxy(upstream: &str, counted: Arc<Transferred>) -> Loopback {
    let listener = TcpListener::bind("127.0.0.1:0").expect("loopback server binds");
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let upstream = upstream.to_string();
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            if stopping.load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = stream else { continue };
            let (client, upstream, counted) = (client.clone(), upstream.clone(), counted.clone());
            std::thread::spawn(move || {
                let _ = pass_on(stream, &client, &upstream, &counted);
            });
        }
    });
    Loopback {
        url: format!("http://{addr}"),
        stop,
        addr,
    }
}

/// Serves one connection of a [`counting_proxy`] until the client closes
/// it or asks to.
fn pass_on(
    mut stream: TcpStream,
    client: &reqwest::blocking::Client,
    upstream: &str,
    counted: &Transferred,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let head_end = loop {
            if let Some(at) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let n = stream.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            pending.extend_from_slice(&buf[..n]);
        };
        let head = String::from_utf8_lossy(&pending[..head_end]).to_string();
        pending.drain(..head_end);
        let mut lines = head.split("\r\n");
        let mut words = lines.next().unwrap_or("").split_whitespace();
        let (method, target) = (
            words.next().unwrap_or("GET").to_string(),
            words.next().unwrap_or("/").to_string(),
        );
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let body_len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while pending.len() < body_len {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            pending.extend_from_slice(&buf[..n]);
        }
        let body: Vec<u8> = pending.drain(..body_len).collect();
        let close = headers
            .iter()
            .any(|(k, v)| k == "connection" && v.eq_ignore_ascii_case("close"));

        let method =
            reqwest::Method::from_bytes(method.as_bytes()).map_err(std::io::Error::other)?;
        let mut request = client.request(method, format!("{upstream}{target}"));
        for (k, v) in &headers {
            if !HOP_HEADERS.contains(&k.as_str()) {
                request = request.header(k, v);
            }
        }
        let response = request.body(body).send().map_err(std::io::Error::other)?;
        let status = response.status();
        let mut out = format!(
            "HTTP/1.1 {} {}\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or("X")
        );
        for (k, v) in response.headers() {
            if !HOP_HEADERS.contains(&k.as_str()) {
                out.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap_or("")));
            }
        }
        let body = response.bytes().map_err(std::io::Error::other)?;
        if status.as_u16() != 304 {
            out.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        out.push_str(if close {
            "connection: close\r\n\r\n"
        } else {
            "\r\n"
        });
        // One write, for the reason `answer_one` gives.
        let mut whole = out.clone().into_bytes();
        whole.extend_from_slice(&body);
        stream.set_nodelay(true)?;
        stream.write_all(&whole)?;
        stream.flush()?;
        counted
            .head_bytes
            .fetch_add(out.len() as u64, Ordering::SeqCst);
        counted
            .body_bytes
            .fetch_add(body.len() as u64, Ordering::SeqCst);
        counted.responses.fetch_add(1, Ordering::SeqCst);
        if status.as_u16() == 304 {
            counted.not_modified.fetch_add(1, Ordering::SeqCst);
        }
        if close {
            return Ok(());
        }
    }
}
