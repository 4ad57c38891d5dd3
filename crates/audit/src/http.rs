//! A feeledger server (or a static mirror of a tiles backup) read over
//! HTTP. Nothing it returns is trusted: the auditor checks every byte.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::Value;
use std::time::Duration;

/// Entries fetched per page during a remote audit (the server's maximum).
pub const PAGE_ENTRIES: u64 = 500;

/// Longest a single request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a request to a server gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The request was not answered (no connection, a timeout).
    #[error("cannot reach {url}")]
    Unreachable {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status; `message` is its JSON
    /// error's message and code, or the body's text.
    #[error("the server refused ({status}): {message}")]
    Refused {
        status: reqwest::StatusCode,
        message: String,
    },
    /// The answer's body could not be read or is not the JSON expected.
    #[error(transparent)]
    Body(#[from] reqwest::Error),
    /// A page of entries lacks a field.
    #[error("{0}")]
    Malformed(&'static str),
    /// An entry's `leaf_base64` is not base64.
    #[error(transparent)]
    Base64(#[from] base64::DecodeError),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Client(reqwest::Error),
}

/// A server at a base URL. Paths are appended to the URL as text, so the
/// base may carry a path (a server behind a reverse proxy under a prefix)
/// but no query or fragment: checking the URL is the caller's job.
pub struct Server {
    base: String,
    client: reqwest::blocking::Client,
}

impl Server {
    /// A server at `base` (a final `/` is dropped).
    ///
    /// # Errors
    ///
    /// [`HttpError::Client`] if the HTTP client cannot be built.
    pub fn new(base: &str) -> Result<Server, HttpError> {
        let client = reqwest::blocking::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(HttpError::Client)?;
        Ok(Server {
            base: base.trim_end_matches('/').to_string(),
            client,
        })
    }

    /// The URL this server was made with, without a final `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The client, for requests this type does not make (the CLI's posts).
    pub fn client(&self) -> &reqwest::blocking::Client {
        &self.client
    }

    /// `response` if its status is a success, else the server's error.
    ///
    /// # Errors
    ///
    /// [`HttpError::Refused`], with the server's JSON error message and
    /// code when it sends one.
    pub fn check(
        &self,
        response: reqwest::blocking::Response,
    ) -> Result<reqwest::blocking::Response, HttpError> {
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
        Err(HttpError::Refused {
            status,
            message: message.trim().to_string(),
        })
    }

    fn get(&self, path: &str) -> Result<reqwest::blocking::Response, HttpError> {
        let url = self.url(path);
        self.client
            .get(&url)
            .send()
            .map_err(|source| HttpError::Unreachable { url, source })
    }

    /// The JSON at `path`.
    ///
    /// # Errors
    /// [`HttpError`]: the server cannot be reached, refuses, or answers
    /// with something that is not JSON.
    pub fn get_json(&self, path: &str) -> Result<Value, HttpError> {
        Ok(self.check(self.get(path)?)?.json()?)
    }

    /// The bytes at `path`.
    ///
    /// # Errors
    /// [`HttpError`]: the server cannot be reached or refuses.
    pub fn get_bytes(&self, path: &str) -> Result<Vec<u8>, HttpError> {
        Ok(self.check(self.get(path)?)?.bytes()?.to_vec())
    }

    /// The bytes at `path`, or `None` if the server answers 404 (a tile
    /// a backup mirror does not have, for example).
    ///
    /// # Errors
    /// [`HttpError`]: the server cannot be reached or refuses with a status
    /// other than 404.
    pub fn get_optional_bytes(&self, path: &str) -> Result<Option<Vec<u8>>, HttpError> {
        let response = self.get(path)?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        Ok(Some(self.check(response)?.bytes()?.to_vec()))
    }

    /// Leaves `[from, to)`, at most one page ([`PAGE_ENTRIES`]), as
    /// (seq, bytes) in the order served.
    ///
    /// # Errors
    /// [`HttpError`]: the server cannot be reached, refuses, or serves a
    /// page that does not parse.
    pub fn leaves(&self, from: u64, to: u64) -> Result<Vec<(u64, Vec<u8>)>, HttpError> {
        let limit = (to - from).min(PAGE_ENTRIES);
        let v = self.get_json(&format!("/api/v1/entries?from={from}&limit={limit}"))?;
        let entries = v["entries"]
            .as_array()
            .ok_or(HttpError::Malformed("no entries in the page"))?;
        entries
            .iter()
            .map(|e| {
                let seq = e["seq"]
                    .as_u64()
                    .ok_or(HttpError::Malformed("entry without seq"))?;
                let leaf = BASE64.decode(
                    e["leaf_base64"]
                        .as_str()
                        .ok_or(HttpError::Malformed("entry without leaf_base64"))?,
                )?;
                Ok((seq, leaf))
            })
            .filter(|r: &Result<(u64, Vec<u8>), HttpError>| {
                r.as_ref().map_or(true, |(seq, _)| *seq < to)
            })
            .collect()
    }
}
