//! Signed notes (c2sp.org/signed-note): parse, sign, verify.

use super::*;
use base64::{engine::general_purpose::STANDARD as B64, Engine as _};

// ---------------------------------------------------------------------------
// Notes
// ---------------------------------------------------------------------------

/// One signature line: `— <name> base64(key_id || signature)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: [u8; 4],
    /// The bytes after the key id (64 for Ed25519, 72 for cosignature v1).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// Parses one signature line, without its final newline.
    ///
    /// # Errors
    /// [`NoteError`] for a missing `— ` prefix, a bad key name, or a payload
    /// that is not strict base64 longer than a key id.
    pub fn parse_line(line: &str) -> Result<NoteSignature, NoteError> {
        NoteSignature::parse_line_at(line, 1)
    }

    fn parse_line_at(line: &str, lineno: usize) -> Result<NoteSignature, NoteError> {
        let rest = line
            .strip_prefix(SIGNATURE_LINE_PREFIX)
            .ok_or(NoteError::SignatureLinePrefix { line: lineno })?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(NoteError::SignatureLineShape { line: lineno })?;
        check_note_key_name(name).map_err(|source| NoteError::SignatureName {
            line: lineno,
            source,
        })?;
        if b64.is_empty() {
            return Err(NoteError::SignatureBase64 { line: lineno });
        }
        let raw = B64
            .decode(b64)
            .map_err(|_| NoteError::SignatureBase64 { line: lineno })?;
        if raw.len() <= KEY_ID_BYTES {
            return Err(NoteError::SignatureTooShort {
                line: lineno,
                len: raw.len(),
            });
        }
        Ok(NoteSignature {
            name: name.to_owned(),
            key_id: [raw[0], raw[1], raw[2], raw[3]],
            signature: raw[KEY_ID_BYTES..].to_vec(),
        })
    }

    /// The line `— <name> <base64>\n`.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(KEY_ID_BYTES + self.signature.len());
        raw.extend_from_slice(&self.key_id);
        raw.extend_from_slice(&self.signature);
        format!("{SIGNATURE_LINE_PREFIX}{} {}\n", self.name, B64.encode(raw))
    }

    /// For a cosignature v1 line, the timestamp it claims (unverified).
    pub fn cosignature_timestamp(&self) -> Option<u64> {
        if self.signature.len() != COSIGNATURE_V1_SIGNATURE_BYTES {
            return None;
        }
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&self.signature[..8]);
        Some(u64::from_be_bytes(ts))
    }
}

/// A signed note: text and signature lines. See the module docs for the format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, ending in `\n`.
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

/// A signature that [`Note::verify`] checked against a known key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    pub name: String,
    pub key_id: [u8; 4],
    pub alg: KeyAlg,
    /// The cosignature timestamp (POSIX seconds) for [`KeyAlg::CosignatureV1`].
    pub timestamp_s: Option<u64>,
}

/// Reports the first byte below 0x20 other than `\n`, with its 1-based line.
pub(super) fn find_control(text: &str) -> Option<(usize, u8)> {
    let mut line = 1;
    for b in text.bytes() {
        if b == b'\n' {
            line += 1;
        } else if b < 0x20 {
            return Some((line, b));
        }
    }
    None
}

pub(super) fn check_text(text: &str) -> Result<(), NoteError> {
    if text.len() > NOTE_BYTES_MAX {
        return Err(NoteError::TooLarge {
            len: text.len(),
            max: NOTE_BYTES_MAX,
        });
    }
    if !text.ends_with('\n') {
        return Err(NoteError::TextMissingFinalNewline);
    }
    if let Some((line, byte)) = find_control(text) {
        return Err(NoteError::ControlChar { line, byte });
    }
    Ok(())
}

impl Note {
    /// Builds a note from parts, checking the same rules as [`Note::parse`].
    ///
    /// # Errors
    /// As [`Note::parse`].
    pub fn new(text: String, signatures: Vec<NoteSignature>) -> Result<Note, NoteError> {
        let note = Note { text, signatures };
        note.check()?;
        Ok(note)
    }

    /// Checks that the note can be encoded and would parse back unchanged.
    fn check(&self) -> Result<(), NoteError> {
        check_text(&self.text)?;
        if self.signatures.is_empty() {
            return Err(NoteError::MissingSignatures);
        }
        if self.signatures.len() > NOTE_SIGNATURES_MAX {
            return Err(NoteError::TooManySignatures {
                found: self.signatures.len(),
                max: NOTE_SIGNATURES_MAX,
            });
        }
        let first = self.text.matches('\n').count() + 2;
        let mut len = self.text.len() + 1;
        for (i, sig) in self.signatures.iter().enumerate() {
            let line = first + i;
            check_note_key_name(&sig.name)
                .map_err(|source| NoteError::SignatureName { line, source })?;
            if sig.signature.is_empty() {
                return Err(NoteError::SignatureTooShort {
                    line,
                    len: KEY_ID_BYTES,
                });
            }
            // "— " + name + " " + base64 + "\n"
            len += SIGNATURE_LINE_PREFIX.len()
                + sig.name.len()
                + 2
                + (KEY_ID_BYTES + sig.signature.len()).div_ceil(3) * 4;
        }
        if len > NOTE_BYTES_MAX {
            return Err(NoteError::TooLarge {
                len,
                max: NOTE_BYTES_MAX,
            });
        }
        Ok(())
    }

    /// Parses a signed note (signed-note.md) without verifying it.
    ///
    /// # Errors
    /// [`NoteError`] for a note over [`NOTE_BYTES_MAX`], not UTF-8, with
    /// control characters, without a blank line before the signatures, with a
    /// malformed signature line, or over [`NOTE_SIGNATURES_MAX`] lines.
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        if bytes.len() > NOTE_BYTES_MAX {
            return Err(NoteError::TooLarge {
                len: bytes.len(),
                max: NOTE_BYTES_MAX,
            });
        }
        let s = std::str::from_utf8(bytes).map_err(|e| NoteError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        if let Some((line, byte)) = find_control(s) {
            return Err(NoteError::ControlChar { line, byte });
        }
        let split = s.rfind("\n\n").ok_or(NoteError::NoBlankLine)?;
        let text = &s[..split + 1];
        let block = &s[split + 2..];
        if block.is_empty() {
            return Err(NoteError::MissingSignatures);
        }
        let Some(block) = block.strip_suffix('\n') else {
            return Err(NoteError::MissingFinalNewline);
        };
        let count = block.matches('\n').count() + 1;
        if count > NOTE_SIGNATURES_MAX {
            return Err(NoteError::TooManySignatures {
                found: count,
                max: NOTE_SIGNATURES_MAX,
            });
        }
        let first = text.matches('\n').count() + 2;
        let signatures = block
            .split('\n')
            .enumerate()
            .map(|(i, line)| NoteSignature::parse_line_at(line, first + i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Note {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The encoded note: text, blank line, signature lines.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.text.len() + 1 + 120 * self.signatures.len());
        out.extend_from_slice(self.text.as_bytes());
        out.push(b'\n');
        for sig in &self.signatures {
            out.extend_from_slice(sig.to_line().as_bytes());
        }
        out
    }

    /// Signs `text` with Ed25519 signers (alg [`KeyAlg::Ed25519`]).
    ///
    /// # Errors
    /// [`NoteError`] if there is no signer, a signer is not an Ed25519 key
    /// or signs twice, or the text or the signed note breaks
    /// [`Note::parse`]'s rules.
    pub fn sign(text: &str, signers: &[&NoteSigner]) -> Result<Note, NoteError> {
        check_text(text)?;
        if signers.is_empty() {
            return Err(NoteError::NoSigners);
        }
        let mut signatures: Vec<NoteSignature> = Vec::with_capacity(signers.len());
        for signer in signers {
            if signer.alg != KeyAlg::Ed25519 {
                return Err(NoteError::WrongSignerAlg {
                    name: signer.name.clone(),
                    expected: KeyAlg::Ed25519,
                    found: signer.alg,
                });
            }
            if signatures
                .iter()
                .any(|s| s.name == signer.name && s.key_id == signer.id)
            {
                return Err(NoteError::DuplicateSigner {
                    name: signer.name.clone(),
                    key_id: key_id_hex(&signer.id),
                });
            }
            signatures.push(NoteSignature {
                name: signer.name.clone(),
                key_id: signer.id,
                signature: signer.sign_bytes(text.as_bytes()).to_vec(),
            });
        }
        Note::new(text.to_owned(), signatures)
    }

    /// Appends a signature line (for example a cosignature returned by a
    /// witness). Refuses a second line for the same `(name, key id)`.
    ///
    /// # Errors
    /// [`NoteError`] for a repeated `(name, key id)`, or a note that would
    /// break [`Note::parse`]'s limits; the note is then unchanged.
    pub fn add_signature(&mut self, sig: NoteSignature) -> Result<(), NoteError> {
        if self
            .signatures
            .iter()
            .any(|s| s.name == sig.name && s.key_id == sig.key_id)
        {
            return Err(NoteError::DuplicateSigner {
                name: sig.name,
                key_id: key_id_hex(&sig.key_id),
            });
        }
        self.signatures.push(sig);
        if let Err(e) = self.check() {
            self.signatures.pop();
            return Err(e);
        }
        Ok(())
    }

    /// Verifies the note against known keys (signed-note.md): lines from
    /// unknown `(name, key id)` pairs are ignored; a line from a known key
    /// must verify; two lines from one known key are refused; at least one
    /// line must verify. Returns the verified signatures in line order.
    ///
    /// # Errors
    /// [`NoteError`] if a line from a known key does not verify, a known
    /// key signed twice, or no known key signed.
    pub fn verify(&self, verifiers: &[VerifierKey]) -> Result<Vec<VerifiedSignature>, NoteError> {
        self.check()?;
        for (i, a) in verifiers.iter().enumerate() {
            for b in &verifiers[i + 1..] {
                if a.name == b.name && a.id == b.id && a != b {
                    return Err(NoteError::AmbiguousVerifier {
                        name: a.name.clone(),
                        key_id: key_id_hex(&a.id),
                    });
                }
            }
        }
        let first = self.text.matches('\n').count() + 2;
        let mut verified: Vec<VerifiedSignature> = Vec::new();
        for (i, sig) in self.signatures.iter().enumerate() {
            let line = first + i;
            let Some(vkey) = verifiers
                .iter()
                .find(|v| v.name == sig.name && v.id == sig.key_id)
            else {
                continue;
            };
            if verified
                .iter()
                .any(|v| v.name == sig.name && v.key_id == sig.key_id)
            {
                return Err(NoteError::DuplicateSignature {
                    line,
                    name: sig.name.clone(),
                    key_id: key_id_hex(&sig.key_id),
                });
            }
            let timestamp_s = vkey.check(&self.text, &sig.signature).map_err(|()| {
                NoteError::InvalidSignature {
                    line,
                    name: sig.name.clone(),
                    key_id: key_id_hex(&sig.key_id),
                }
            })?;
            verified.push(VerifiedSignature {
                name: sig.name.clone(),
                key_id: sig.key_id,
                alg: vkey.alg,
                timestamp_s,
            });
        }
        if verified.is_empty() {
            return Err(NoteError::NoVerifiedSignature);
        }
        Ok(verified)
    }
}
