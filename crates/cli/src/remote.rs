//! A feeledger server as seen from the command line. Nothing it returns is
//! trusted: entries are re-verified, checkpoints checked against a trusted
//! log key, and proofs verified locally.

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use feeledger_core::entry::EntrySignature;
use feeledger_core::hash::Hash;
use serde_json::{json, Value};
use std::time::Duration;

/// Entries fetched per page during a remote audit (the server's maximum).
pub const PAGE_ENTRIES: u64 = 500;

/// Longest a single request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Remote {
    base: String,
    client: reqwest::blocking::Client,
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
        let client = reqwest::blocking::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(Remote {
            base: url.trim_end_matches('/').to_string(),
            client,
        })
    }

    fn check(&self, response: reqwest::blocking::Response) -> Result<reqwest::blocking::Response> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let text = response.text().unwrap_or_default();
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| {
                let e = v.get("error")?;
                Some(format!(
                    "{} ({})",
                    e.get("message")?.as_str()?,
                    e.get("code")?.as_str()?
                ))
            })
            .unwrap_or(text);
        bail!("the server refused ({status}): {}", message.trim())
    }

    pub fn get_json(&self, path: &str) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let response = self
            .client
            .get(&url)
            .send()
            .with_context(|| format!("cannot reach {url}"))?;
        Ok(self.check(response)?.json()?)
    }

    pub fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        let url = format!("{}{path}", self.base);
        let response = self
            .client
            .get(&url)
            .send()
            .with_context(|| format!("cannot reach {url}"))?;
        Ok(self.check(response)?.bytes()?.to_vec())
    }

    fn post_json(&self, path: &str, body: &Value) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let response = self
            .client
            .post(&url)
            .json(body)
            .send()
            .with_context(|| format!("cannot reach {url}"))?;
        Ok(self.check(response)?.json()?)
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

    pub fn consistency(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        let v = self.get_json(&format!("/api/v1/consistency?from={from}&to={to}"))?;
        hashes(&v["proof"])
    }

    /// Leaves `[from, to)`, at most one page.
    pub fn leaves(&self, from: u64, to: u64) -> Result<Vec<(u64, Vec<u8>)>> {
        let limit = (to - from).min(PAGE_ENTRIES);
        let v = self.get_json(&format!("/api/v1/entries?from={from}&limit={limit}"))?;
        let entries = v["entries"].as_array().context("no entries in the page")?;
        entries
            .iter()
            .map(|e| {
                let seq = e["seq"].as_u64().context("entry without seq")?;
                let leaf = BASE64.decode(
                    e["leaf_base64"]
                        .as_str()
                        .context("entry without leaf_base64")?,
                )?;
                Ok((seq, leaf))
            })
            .filter(|r: &Result<(u64, Vec<u8>)>| r.as_ref().map_or(true, |(seq, _)| *seq < to))
            .collect()
    }

    /// `POST /add-checkpoint`; returns the status code and body text.
    pub fn add_checkpoint(&self, body: String) -> Result<(u16, String)> {
        let url = format!("{}/add-checkpoint", self.base);
        let response = self
            .client
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

impl Remote {
    /// The bytes at `path`, or `None` if the server answers 404 (a tile
    /// a backup mirror does not have, for example).
    pub fn get_optional_bytes(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let url = format!("{}{path}", self.base);
        let response = self
            .client
            .get(&url)
            .send()
            .with_context(|| format!("cannot reach {url}"))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        Ok(Some(self.check(response)?.bytes()?.to_vec()))
    }

    /// The URL this remote was made with, without a final `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }
}
