//! A loopback HTTP server that stands between a client (the CLI, or the
//! page in Chromium) and the real server: it answers every request through
//! a handler, which may forward it ([`forward_get`]), change the answer (a
//! lying server), or serve a page of its own. Stopped on drop.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// One answer: status, `Content-Type` and body.
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Answer {
    /// A 200 answer of `content_type`.
    pub fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Answer {
        Answer {
            status: 200,
            content_type: content_type.to_string(),
            body: body.into(),
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
        }
    };
    let header = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        answer.status,
        answer.content_type,
        answer.body.len()
    );
    stream.write_all(header.as_bytes())?;
    stream.write_all(&answer.body)?;
    stream.flush()
}

/// GETs `upstream` + `target` and returns its answer unchanged.
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
    let body = response.bytes().map_err(std::io::Error::other)?.to_vec();
    Ok(Answer {
        status,
        content_type,
        body,
    })
}

/// The path of a request target, without its query.
pub fn path_of(target: &str) -> &str {
    target.split('?').next().unwrap_or(target)
}
