//! Inclusion receipts (c2sp.org/tlog-proof): parse, build, verify.

use super::*;
use crate::hash::leaf_hash;
use base64::{engine::general_purpose::STANDARD as B64, Engine as _};

// ---------------------------------------------------------------------------
// Receipts
// ---------------------------------------------------------------------------

/// An offline-verifiable proof that `leaf` is in the log (tlog-proof.md).
/// See the module docs for the text format; `leaf` travels in the `extra` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The logged leaf bytes (the spec's `extra` data).
    pub leaf: Vec<u8>,
    /// Zero-based leaf index.
    pub index: u64,
    /// RFC 6962 inclusion proof, from the leaf's sibling up to the root's child.
    pub proof: Vec<Hash>,
    /// The signed checkpoint, verbatim.
    pub checkpoint: Note,
}

/// What [`Receipt::verify`] established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    pub checkpoint: Checkpoint,
    pub leaf_hash: Hash,
    pub index: u64,
    /// Verified cosignatures, as returned by [`open_checkpoint`].
    pub cosignatures: Vec<VerifiedSignature>,
}

impl Receipt {
    /// The receipt text (tlog-proof.md).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(RECEIPT_HEADER);
        out.push('\n');
        if !self.leaf.is_empty() {
            out.push_str("extra ");
            out.push_str(&B64.encode(&self.leaf));
            out.push('\n');
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            out.push_str(&B64.encode(h.0));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint.text);
        out.push('\n');
        for sig in &self.checkpoint.signatures {
            out.push_str(&sig.to_line());
        }
        out
    }

    /// Parses a receipt. Does not verify it.
    ///
    /// # Errors
    /// [`ReceiptError`] naming the line that breaks the format, or the size
    /// limit.
    pub fn parse(bytes: &[u8]) -> Result<Receipt, ReceiptError> {
        if bytes.len() > RECEIPT_BYTES_MAX {
            return Err(ReceiptError::TooLarge {
                len: bytes.len(),
                max: RECEIPT_BYTES_MAX,
            });
        }
        let s = std::str::from_utf8(bytes).map_err(|e| ReceiptError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        let mut rest = s;
        let mut lineno = 0;
        let mut next_line = |rest: &mut &str| -> Result<(usize, String), ReceiptError> {
            lineno += 1;
            let Some((line, tail)) = rest.split_once('\n') else {
                return Err(ReceiptError::Truncated { line: lineno });
            };
            *rest = tail;
            Ok((lineno, line.to_owned()))
        };

        let (_, header) = next_line(&mut rest)?;
        if header != RECEIPT_HEADER {
            return Err(ReceiptError::Header);
        }
        let (mut n, mut line) = next_line(&mut rest)?;
        let mut leaf = Vec::new();
        if line == "extra" || line.starts_with("extra ") {
            let b64 = line.strip_prefix("extra ").unwrap_or("");
            if b64.is_empty() {
                return Err(ReceiptError::ExtraBase64 { line: n });
            }
            leaf = B64
                .decode(b64)
                .map_err(|_| ReceiptError::ExtraBase64 { line: n })?;
            (n, line) = next_line(&mut rest)?;
        }
        let index_text = line
            .strip_prefix("index ")
            .ok_or(ReceiptError::IndexLine { line: n })?;
        let index =
            parse_canonical_u64(index_text).ok_or_else(|| ReceiptError::IndexNotDecimal {
                line: n,
                found: index_text.chars().take(40).collect(),
            })?;
        let mut proof = Vec::new();
        loop {
            let (n, line) = next_line(&mut rest)?;
            if line.is_empty() {
                break;
            }
            if proof.len() == RECEIPT_PROOF_HASHES_MAX {
                return Err(ReceiptError::TooManyProofHashes {
                    max: RECEIPT_PROOF_HASHES_MAX,
                });
            }
            let raw = B64
                .decode(&line)
                .map_err(|_| ReceiptError::ProofBase64 { line: n })?;
            let h = Hash::from_slice(&raw).ok_or(ReceiptError::ProofHashLength {
                line: n,
                len: raw.len(),
            })?;
            proof.push(h);
        }
        let first_checkpoint_line = lineno + 1;
        let checkpoint =
            Note::parse(rest.as_bytes()).map_err(|source| ReceiptError::CheckpointNote {
                line: first_checkpoint_line,
                source,
            })?;
        Ok(Receipt {
            leaf,
            index,
            proof,
            checkpoint,
        })
    }

    /// Verifies the checkpoint (log signature, origin, cosignatures as in
    /// [`open_checkpoint`]) and then the inclusion of `leaf_hash(leaf)` at
    /// `index` under the checkpoint root.
    ///
    /// # Errors
    /// [`ReceiptError`] if the checkpoint does not open (as
    /// [`open_checkpoint`]) or the inclusion proof does not lead to its root.
    pub fn verify(
        &self,
        log_key: &VerifierKey,
        cosigners: &[VerifierKey],
    ) -> Result<VerifiedReceipt, ReceiptError> {
        let (checkpoint, cosignatures) =
            verify_checkpoint_note(&self.checkpoint, log_key, cosigners)
                .map_err(ReceiptError::Checkpoint)?;
        if self.index >= checkpoint.size {
            return Err(ReceiptError::IndexOutOfRange {
                index: self.index,
                size: checkpoint.size,
            });
        }
        let leaf_hash = leaf_hash(&self.leaf);
        crate::merkle::verify_inclusion(
            &leaf_hash,
            self.index,
            checkpoint.size,
            &self.proof,
            &checkpoint.root,
        )
        .map_err(ReceiptError::Inclusion)?;
        Ok(VerifiedReceipt {
            checkpoint,
            leaf_hash,
            index: self.index,
            cosignatures,
        })
    }
}
