//! A feeledger server as seen from the command line. Nothing it returns is
//! trusted: entries are re-verified, checkpoints checked against a trusted
//! log key, and proofs verified locally.

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use feeledger_audit::Server;
use feeledger_core::entry::EntrySignature;
use feeledger_core::hash::Hash;
use serde_json::{json, Value};

/// A server: the auditor's read-only client ([`Server`]), and the writes
/// the command line makes (proposals, signatures, cosigned checkpoints).
pub struct Remote {
    server: Server,
}

impl Remote {
    /// A server at `url`: `http://` or `https://`, a host, and optionally
    /// a path (a server behind a reverse proxy under a prefix). Anything
    /// else is refused here with a message saying what `--url` needs,
    /// rather than by the HTTP client at the first request.
    pub fn new(url: &str) -> Result<Remote> {
        const EXAMPLE: &str = "e.g. http://127.0.0.1:8080";
        // Checked before parsing: `localhost:8080` would parse, with
        // "localhost" as its scheme, and `127.0.0.1:8080` fails as a
        // relative URL, which says nothing to a reader.
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("http" | "https")) {
            bail!("--url needs http:// or https://, {EXAMPLE} (got {url:?})");
        }
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| anyhow::anyhow!("--url {url:?} is not a valid URL ({e}); {EXAMPLE}"))?;
        if parsed.host_str().is_none_or(str::is_empty) {
            bail!("--url {url:?} names no host; {EXAMPLE}");
        }
        // Paths are appended to the URL as text: a query or fragment would
        // swallow them.
        if parsed.query().is_some() || parsed.fragment().is_some() {
            bail!("--url {url:?} must not carry a query (?) or fragment (#); {EXAMPLE}");
        }
        Ok(Remote {
            server: Server::new(url)?,
        })
    }

    /// The read-only client the auditor fetches with.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The read-only client, for a reader that keeps it (a
    /// `feeledger_audit::RemoteLedger`).
    pub fn into_server(self) -> Server {
        self.server
    }

    pub fn get_json(&self, path: &str) -> Result<Value> {
        Ok(self.server.get_json(path)?)
    }

    pub fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        Ok(self.server.get_bytes(path)?)
    }

    fn post_json(&self, path: &str, body: &Value) -> Result<Value> {
        let url = self.server.url(path);
        let response = self
            .server
            .client()
            .post(&url)
            .json(body)
            .send()
            .with_context(|| format!("cannot reach {url}"))?;
        Ok(self.server.check(response)?.json()?)
    }

    pub fn propose(&self, body_jcs: &[u8], signatures: &[EntrySignature]) -> Result<Value> {
        let body = std::str::from_utf8(body_jcs).context("body is not UTF-8")?;
        self.post_json(
            "/api/v1/proposals",
            &json!({"body": body, "signatures": signatures}),
        )
    }

    pub fn add_signatures(&self, id: &str, signatures: &[EntrySignature]) -> Result<Value> {
        self.post_json(
            &format!("/api/v1/proposals/{id}/signatures"),
            &json!({"signatures": signatures}),
        )
    }

    /// `POST /api/v1/proposals/{id}/withdrawal`.
    pub fn withdraw(&self, id: &str, signatures: &[EntrySignature]) -> Result<Value> {
        self.post_json(
            &format!("/api/v1/proposals/{id}/withdrawal"),
            &json!({"signatures": signatures}),
        )
    }

    pub fn consistency(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        let v = self.get_json(&format!("/api/v1/consistency?from={from}&to={to}"))?;
        hashes(&v["proof"])
    }

    /// `POST /add-checkpoint`; returns the status code and body text.
    pub fn add_checkpoint(&self, body: String) -> Result<(u16, String)> {
        let url = self.server.url("/add-checkpoint");
        let response = self
            .server
            .client()
            .post(&url)
            .body(body)
            .send()
            .with_context(|| format!("cannot reach {url}"))?;
        let status = response.status().as_u16();
        Ok((status, response.text().unwrap_or_default()))
    }
}

fn hashes(v: &Value) -> Result<Vec<Hash>> {
    v.as_array()
        .context("proof is not a list")?
        .iter()
        .map(|h| {
            let bytes = BASE64.decode(h.as_str().context("proof hash is not a string")?)?;
            Hash::from_slice(&bytes).context("proof hash is not 32 bytes")
        })
        .collect()
}
