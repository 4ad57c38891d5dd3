//! The tlog-witness `add-checkpoint` request body (c2sp.org/tlog-witness):
//! parsed by the server and built by the cosigning client, here only, so
//! the two cannot drift.
//!
//! ```text
//! "old " <size, ASCII decimal, no leading zeros> "\n"
//! <base64(hash[32])> "\n" ...      consistency proof from <size>, one hash a line
//! "\n"                             (one blank line)
//! <the checkpoint note, verbatim>
//! ```
//!
//! The body is split at its first blank line, so the proof lines end there
//! and everything after it is the note, which this module does not look
//! into (the caller parses and verifies it). Base64 is RFC 4648 with
//! padding, decoded strictly, so an accepted body is the one
//! [`AddCheckpointRequest::to_bytes`] builds from what was parsed.

use crate::hash::Hash;
use crate::merkle::PROOF_HASHES_MAX;
use base64::{engine::general_purpose::STANDARD as B64, Engine as _};

/// Why an `add-checkpoint` request body was refused. The messages are the
/// server's `400` texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WitnessRequestError {
    #[error("the body is not UTF-8")]
    NotUtf8,
    #[error("no blank line before the checkpoint")]
    NoBlankLine,
    #[error("the first line must be \"old <size>\"")]
    NoOldLine,
    /// Not plain ASCII decimal, or a leading zero.
    #[error("bad old size")]
    OldSizeNotCanonical,
    #[error("old size too large")]
    OldSizeTooLarge,
    /// More than [`PROOF_HASHES_MAX`] proof lines.
    #[error("too many proof lines")]
    TooManyProofLines,
    #[error("proof line {line:?} is not base64")]
    ProofLineBase64 { line: String },
    #[error("a proof hash is not 32 bytes")]
    ProofHashLength,
}

/// A tlog-witness `add-checkpoint` request: the size the cosigner last
/// cosigned here, the consistency proof from that size to the checkpoint's,
/// and the checkpoint note carrying the cosignature(s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    /// `old`: the tree size of the last checkpoint this cosigner cosigned
    /// on this log (0 at first).
    pub old_size: u64,
    /// RFC 6962 consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim (not parsed here).
    pub checkpoint: Vec<u8>,
}

impl AddCheckpointRequest {
    /// Parses a request body. Splits at the first blank line; checks the
    /// `old` line and every proof line, not the note after the blank line.
    ///
    /// # Errors
    /// [`WitnessRequestError`] naming the first malformed part.
    pub fn parse(body: &[u8]) -> Result<AddCheckpointRequest, WitnessRequestError> {
        let text = std::str::from_utf8(body).map_err(|_| WitnessRequestError::NotUtf8)?;
        let (head, checkpoint) = text
            .split_once("\n\n")
            .ok_or(WitnessRequestError::NoBlankLine)?;
        let mut lines = head.split('\n');
        let old = lines
            .next()
            .and_then(|l| l.strip_prefix("old "))
            .ok_or(WitnessRequestError::NoOldLine)?;
        // One spelling per number, so the body the client builds is the
        // only one accepted for a given request.
        let canonical = !old.is_empty()
            && old.bytes().all(|b| b.is_ascii_digit())
            && (old == "0" || !old.starts_with('0'));
        if !canonical {
            return Err(WitnessRequestError::OldSizeNotCanonical);
        }
        let old_size: u64 = old
            .parse()
            .map_err(|_| WitnessRequestError::OldSizeTooLarge)?;
        let mut proof = Vec::new();
        for line in lines {
            // Bounded before decoding, so a huge body costs no more than
            // the longest proof a tree can need.
            if proof.len() as u64 >= PROOF_HASHES_MAX {
                return Err(WitnessRequestError::TooManyProofLines);
            }
            let bytes = B64
                .decode(line)
                .map_err(|_| WitnessRequestError::ProofLineBase64 {
                    line: line.to_owned(),
                })?;
            proof.push(Hash::from_slice(&bytes).ok_or(WitnessRequestError::ProofHashLength)?);
        }
        Ok(AddCheckpointRequest {
            old_size,
            proof,
            checkpoint: checkpoint.as_bytes().to_vec(),
        })
    }

    /// The request body: `old <size>\n`, one base64 proof hash a line, a
    /// blank line, then the checkpoint note verbatim. The note is not
    /// checked here: a client passes a note it has built or verified.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut body = format!("old {}\n", self.old_size);
        for hash in &self.proof {
            body.push_str(&B64.encode(hash.0));
            body.push('\n');
        }
        body.push('\n');
        let mut bytes = body.into_bytes();
        bytes.extend_from_slice(&self.checkpoint);
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body the client builds parses back to the same request (old size,
    /// proof hashes in order), and the note after the first blank line is
    /// taken verbatim, blank lines and all. (Moved from the server's
    /// `parses_request_bodies`, with its cases.)
    #[test]
    fn builds_and_parses_back() {
        let request = AddCheckpointRequest {
            old_size: 3,
            proof: vec![Hash([1; 32]), Hash([2; 32])],
            checkpoint: b"example.org/log\n5\nAAAA\n\n\xe2\x80\x94 x y\n".to_vec(),
        };
        let body = request.to_bytes();
        assert!(body.starts_with(b"old 3\nAQEB"));
        assert_eq!(AddCheckpointRequest::parse(&body), Ok(request));
        let empty = AddCheckpointRequest::parse(b"old 0\n\nnote").unwrap();
        assert_eq!((empty.old_size, empty.proof.len()), (0, 0));
        assert_eq!(empty.checkpoint, b"note");
    }

    /// Each malformed part is refused with its own error.
    #[test]
    fn refusals() {
        use WitnessRequestError as E;
        let hash = B64.encode([7u8; 32]);
        for (body, want) in [
            (b"\xff\n\n".to_vec(), E::NotUtf8),
            (b"old 1\n".to_vec(), E::NoBlankLine),
            (b"new 1\n\nx".to_vec(), E::NoOldLine),
            (b"old 01\n\nx".to_vec(), E::OldSizeNotCanonical),
            (b"old +1\n\nx".to_vec(), E::OldSizeNotCanonical),
            (b"old -1\n\nx".to_vec(), E::OldSizeNotCanonical),
            (
                b"old 3\nnotbase64!\n\nx".to_vec(),
                E::ProofLineBase64 {
                    line: "notbase64!".into(),
                },
            ),
            (b"old \n\nx".to_vec(), E::OldSizeNotCanonical),
            (
                b"old 18446744073709551616\n\nx".to_vec(),
                E::OldSizeTooLarge,
            ),
            (
                b"old 1\nAQ=\n\nx".to_vec(),
                E::ProofLineBase64 { line: "AQ=".into() },
            ),
            (b"old 1\nAQ==\n\nx".to_vec(), E::ProofHashLength),
            (
                format!("old 1\n{}\n\nx", vec![hash; 65].join("\n")).into_bytes(),
                E::TooManyProofLines,
            ),
        ] {
            assert_eq!(AddCheckpointRequest::parse(&body), Err(want));
        }
    }
}
