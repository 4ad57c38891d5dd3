//! Checkpoints (c2sp.org/tlog-checkpoint): parse, build, sign and open.

use super::*;
use base64::{engine::general_purpose::STANDARD as B64, Engine as _};

// ---------------------------------------------------------------------------
// Checkpoints
// ---------------------------------------------------------------------------

/// A transparency log checkpoint (tlog-checkpoint.md): the note text
/// `<origin>\n<size>\n<base64 root>\n[<extension>\n]*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub extensions: Vec<String>,
}

/// Parses an ASCII decimal u64 with no sign and no leading zeros.
pub(super) fn parse_canonical_u64(text: &str) -> Option<u64> {
    if text.is_empty()
        || !text.bytes().all(|b| b.is_ascii_digit())
        || (text.len() > 1 && text.starts_with('0'))
    {
        return None;
    }
    text.parse().ok()
}

impl Checkpoint {
    /// The note text: origin, size, base64 root and extension lines, each
    /// ending in `\n`.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root.0)
        );
        for ext in &self.extensions {
            out.push_str(ext);
            out.push('\n');
        }
        out
    }

    /// Parses a checkpoint note text strictly.
    ///
    /// # Errors
    /// [`CheckpointError`] naming the line that breaks the format.
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        if text.len() > NOTE_BYTES_MAX {
            return Err(CheckpointError::TooLarge {
                len: text.len(),
                max: NOTE_BYTES_MAX,
            });
        }
        let Some(body) = text.strip_suffix('\n') else {
            return Err(CheckpointError::MissingFinalNewline);
        };
        if let Some((line, byte)) = find_control(text) {
            return Err(CheckpointError::ControlChar { line, byte });
        }
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() < 3 {
            return Err(CheckpointError::TooFewLines { found: lines.len() });
        }
        let origin = lines[0];
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size_text = lines[1];
        let found = || size_text.chars().take(40).collect::<String>();
        if size_text.is_empty() || !size_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CheckpointError::SizeNotDecimal { found: found() });
        }
        if size_text.len() > 1 && size_text.starts_with('0') {
            return Err(CheckpointError::SizeLeadingZero { found: found() });
        }
        let size = size_text
            .parse::<u64>()
            .map_err(|_| CheckpointError::SizeOverflow { found: found() })?;
        let root = B64
            .decode(lines[2])
            .map_err(|_| CheckpointError::RootBase64)?;
        let root =
            Hash::from_slice(&root).ok_or(CheckpointError::RootLength { len: root.len() })?;
        let mut extensions = Vec::with_capacity(lines.len() - 3);
        for (i, ext) in lines[3..].iter().enumerate() {
            if ext.is_empty() {
                return Err(CheckpointError::EmptyExtension { line: 4 + i });
            }
            extensions.push((*ext).to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Checks that `to_text` parses back to `self`.
    fn check(&self) -> Result<String, CheckpointError> {
        let text = self.to_text();
        if Checkpoint::parse(&text)? != *self {
            return Err(CheckpointError::NotRepresentable);
        }
        Ok(text)
    }
}

/// Signs a checkpoint with the log's Ed25519 key. The origin must equal the
/// key name.
///
/// # Errors
/// [`NoteError`] if the checkpoint is malformed, its origin is not the
/// key's name, or the key is not an Ed25519 note key.
pub fn sign_checkpoint(cp: &Checkpoint, log: &NoteSigner) -> Result<Note, NoteError> {
    let text = cp.check()?;
    if cp.origin != log.name {
        return Err(NoteError::OriginMismatch {
            origin: cp.origin.clone(),
            key_name: log.name.clone(),
        });
    }
    Note::sign(&text, &[log])
}

/// Parses and verifies a signed checkpoint. Requires a valid signature by
/// `log_key` (alg Ed25519) and an origin equal to `log_key`'s name; checks
/// cosignatures from `cosigners` (alg CosignatureV1), ignoring other lines.
///
/// Returns the checkpoint, the note, and the verified *cosignatures* (not the
/// log's own signature, which is implied by success), in line order. Whether
/// enough cosigners signed, and whether their timestamps are recent, is the
/// caller's policy.
///
/// # Errors
/// [`NoteError`] if the note does not parse, is not a checkpoint, lacks a
/// valid log signature, names another origin, or carries a line from a
/// known key that does not verify.
pub fn open_checkpoint(
    bytes: &[u8],
    log_key: &VerifierKey,
    cosigners: &[VerifierKey],
) -> Result<(Checkpoint, Note, Vec<VerifiedSignature>), NoteError> {
    let note = Note::parse(bytes)?;
    let (cp, cosigs) = verify_checkpoint_note(&note, log_key, cosigners)?;
    Ok((cp, note, cosigs))
}

/// [`open_checkpoint`] for an already parsed note.
///
/// # Errors
/// As [`open_checkpoint`].
pub fn verify_checkpoint_note(
    note: &Note,
    log_key: &VerifierKey,
    cosigners: &[VerifierKey],
) -> Result<(Checkpoint, Vec<VerifiedSignature>), NoteError> {
    if log_key.alg != KeyAlg::Ed25519 {
        return Err(NoteError::WrongKeyAlg {
            name: log_key.name.clone(),
            expected: KeyAlg::Ed25519,
            found: log_key.alg,
        });
    }
    if let Some(c) = cosigners.iter().find(|c| c.alg != KeyAlg::CosignatureV1) {
        return Err(NoteError::WrongKeyAlg {
            name: c.name.clone(),
            expected: KeyAlg::CosignatureV1,
            found: c.alg,
        });
    }
    let mut known = Vec::with_capacity(1 + cosigners.len());
    known.push(log_key.clone());
    known.extend_from_slice(cosigners);
    let verified = match note.verify(&known) {
        Ok(v) => v,
        Err(NoteError::NoVerifiedSignature) => return Err(missing_log_signature(log_key)),
        Err(e) => return Err(e),
    };
    let is_log = |v: &VerifiedSignature| v.name == log_key.name && v.key_id == log_key.id;
    if !verified.iter().any(is_log) {
        return Err(missing_log_signature(log_key));
    }
    let cp = Checkpoint::parse(&note.text)?;
    if cp.origin != log_key.name {
        return Err(NoteError::OriginMismatch {
            origin: cp.origin,
            key_name: log_key.name.clone(),
        });
    }
    let cosigs = verified.into_iter().filter(|v| !is_log(v)).collect();
    Ok((cp, cosigs))
}

fn missing_log_signature(log_key: &VerifierKey) -> NoteError {
    NoteError::MissingLogSignature {
        name: log_key.name.clone(),
        key_id: key_id_hex(&log_key.id),
    }
}
