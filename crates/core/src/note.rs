//! C2SP signed notes, checkpoints, Ed25519 cosignatures and inclusion receipts.
//!
//! Everything here is pure: keys and timestamps are passed in, nothing is read
//! from a clock, an RNG or a file. Verification always uses
//! [`ed25519_dalek::VerifyingKey::verify_strict`], and verifier keys with a
//! small-order ("weak") or non-canonically encoded public key are refused when
//! they are constructed or parsed.
//!
//! # Signed note (`signed-note.md`, c2sp.org/signed-note)
//!
//! ```text
//! <text, UTF-8, ends with "\n", may contain empty lines>
//! "\n"                                         (one blank line)
//! "— " <key name> " " base64(key_id[4] || sig[n]) "\n"    (one or more)
//! ```
//!
//! * `—` is U+2014 (bytes `E2 80 94`), followed by one space (`0x20`).
//! * The whole note is valid UTF-8 and contains no byte below `0x20` other
//!   than `\n`. The text is separated from the signatures by the *last* blank
//!   line; the signed message is the text including its final `\n`.
//! * Key names are non-empty, contain no Unicode white space and no `+`.
//!   This module also refuses ASCII control characters and names longer than
//!   [`KEY_NAME_BYTES_MAX`] bytes.
//! * `key_id = SHA-256(name || 0x0A || alg || public key)[..4]` (see
//!   [`key_id`]); `alg` is [`ALG_ED25519`] (`0x01`) or [`ALG_COSIGNATURE_V1`]
//!   (`0x04`). The same name and key therefore have different key ids as a
//!   log key and as a cosigner key.
//! * Base64 is RFC 4648 section 4 with padding; this module decodes it
//!   strictly (canonical padding, no stray trailing bits, no white space).
//!
//! Verification rules ([`Note::verify`]): a signature line whose
//! `(name, key id)` matches no configured verifier is ignored; a line that
//! matches one MUST verify, otherwise the whole note is rejected; two lines
//! from the same known key are rejected; at least one known signature must
//! verify. Go's `sumdb/note` instead skips repeated lines from a known key;
//! we refuse them because an honest signer never emits them.
//!
//! Limits: a note is at most [`NOTE_BYTES_MAX`] bytes and carries at most
//! [`NOTE_SIGNATURES_MAX`] signature lines (the spec requires accepting at
//! least 16, [`NOTE_SIGNATURES_MIN_ACCEPTED`]).
//!
//! # Key text forms (Go `golang.org/x/mod/sumdb/note`, "vkeys")
//!
//! ```text
//! verifier key:  <name> "+" hex8(key_id) "+" base64(alg[1] || public key[32])
//! signer key:    "PRIVATE+KEY+" <name> "+" hex8(key_id) "+" base64(alg[1] || seed[32])
//! ```
//!
//! `hex8` is lower-case. The key id in the text must equal the one computed
//! from the name, algorithm byte and public key (for a signer key, the public
//! key derived from the seed). Go's package only defines the signer form for
//! alg `0x01`; this module uses the same shape for `0x04` cosigner keys.
//!
//! # Checkpoint (`tlog-checkpoint.md`, c2sp.org/tlog-checkpoint)
//!
//! The note text of a checkpoint:
//!
//! ```text
//! <origin>\n                 non-empty, no control characters
//! <tree size>\n              ASCII decimal, no leading zeros ("0" if empty)
//! <base64(root[32])>\n       RFC 6962 Merkle tree root hash
//! <extension line>\n ...     optional, each non-empty
//! ```
//!
//! [`sign_checkpoint`] and [`open_checkpoint`] additionally require the origin
//! to equal the log key's name (C2SP says the log's key name SHOULD match the
//! origin; we make it a rule so a key for one log can never vouch for another).
//!
//! # Ed25519 cosignature v1 (`tlog-cosignature.md`, c2sp.org/tlog-cosignature)
//!
//! A cosignature is an ordinary signature line on the checkpoint note, made
//! with a cosigner key of algorithm `0x04`:
//!
//! ```text
//! "— " <cosigner name> " " base64(key_id[4] || timestamp[8, u64 big-endian] || ed25519_sig[64]) "\n"
//! ```
//!
//! The Ed25519 signature is over (see [`cosignature_message`]):
//!
//! ```text
//! "cosignature/v1\n"
//! "time " <timestamp, ASCII decimal, no leading zeros> "\n"
//! <the whole checkpoint note text, including extension lines and its final "\n">
//! ```
//!
//! The timestamp is POSIX seconds and must not exceed 2^63 - 1. Checking it
//! against the current time is left to the caller (this crate has no clock).
//!
//! # Receipt (`tlog-proof.md`, c2sp.org/tlog-proof)
//!
//! ```text
//! c2sp.org/tlog-proof@v1\n
//! extra <base64(leaf bytes)>\n        omitted when the leaf is empty
//! index <leaf index, ASCII decimal, no leading zeros>\n
//! <base64(hash[32])>\n ...            RFC 6962 inclusion proof, leaf sibling first
//! \n
//! <the signed checkpoint note, verbatim>
//! ```
//!
//! The spec's `extra` line carries opaque, unauthenticated application data
//! ("additional data necessary to reconstruct the record hash"). A receipt
//! puts the logged leaf bytes there; they become trustworthy only because
//! [`Receipt::verify`] checks that `leaf_hash(leaf)` is included at `index`
//! under the signed checkpoint root.

use crate::hash::{leaf_hash, Hash};
use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

// ---------------------------------------------------------------------------
// Limits and constants
// ---------------------------------------------------------------------------

/// Largest note accepted or produced, in bytes (our limit; signed-note.md
/// asks verifiers to bound the number of signatures "or, equivalently, the
/// overall size of a note").
pub const NOTE_BYTES_MAX: usize = 1 << 20;

/// Most signature lines accepted in one note (our limit, the same as Go's
/// `sumdb/note`). signed-note.md: verifiers "MUST accept at least up to 16
/// signatures".
pub const NOTE_SIGNATURES_MAX: usize = 100;

/// The minimum that signed-note.md requires verifiers to accept.
pub const NOTE_SIGNATURES_MIN_ACCEPTED: usize = 16;

const _: () = assert!(NOTE_SIGNATURES_MAX >= NOTE_SIGNATURES_MIN_ACCEPTED);

/// Longest key name in bytes (our limit; signed-note.md only requires names
/// to be non-empty without spaces or `+`).
pub const KEY_NAME_BYTES_MAX: usize = 255;

/// Signature type of plain Ed25519 note signatures (signed-note.md).
pub const ALG_ED25519: u8 = 0x01;

/// Signature type of timestamped Ed25519 cosignatures (signed-note.md,
/// tlog-cosignature.md).
pub const ALG_COSIGNATURE_V1: u8 = 0x04;

/// Bytes in a key id.
pub const KEY_ID_BYTES: usize = 4;

/// Bytes in an Ed25519 public key, and in an Ed25519 seed.
pub const ED25519_KEY_BYTES: usize = 32;

/// Bytes in an Ed25519 signature (RFC 8032).
pub const ED25519_SIGNATURE_BYTES: usize = 64;

/// Bytes after the key id in a cosignature v1 line: timestamp (8) and
/// Ed25519 signature (64) (tlog-cosignature.md `timestamped_signature`).
pub const COSIGNATURE_V1_SIGNATURE_BYTES: usize = 8 + ED25519_SIGNATURE_BYTES;

/// Largest cosignature timestamp, 2^63 - 1 (tlog-cosignature.md).
pub const COSIGNATURE_TIMESTAMP_MAX: u64 = i64::MAX as u64;

/// First line of the cosignature v1 signed message (tlog-cosignature.md).
pub const COSIGNATURE_V1_HEADER: &str = "cosignature/v1";

/// Start of every signature line: U+2014 em dash and a space.
pub const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";

/// Start of the private signer key text form (Go `sumdb/note`).
pub const PRIVATE_KEY_PREFIX: &str = "PRIVATE+KEY+";

/// First line of a receipt (tlog-proof.md).
pub const RECEIPT_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// Most inclusion proof hashes in a receipt: a tree of at most 2^64 - 1
/// leaves is at most 64 levels deep.
pub const RECEIPT_PROOF_HASHES_MAX: usize = 64;

/// Largest receipt accepted, in bytes (our limit): room for a full-size
/// checkpoint note plus as much again for the leaf and the proof.
pub const RECEIPT_BYTES_MAX: usize = 2 * NOTE_BYTES_MAX;

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// Why a key name, verifier key or signer key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("key name is empty")]
    NameEmpty,
    #[error("key name is {len} bytes, the limit is {max}")]
    NameTooLong { len: usize, max: usize },
    #[error("key name has a control character at byte {at}")]
    NameControl { at: usize },
    #[error("key name has a Unicode space at byte {at}")]
    NameSpace { at: usize },
    #[error("key name has a '+' at byte {at}")]
    NamePlus { at: usize },
    #[error("verifier key must look like <name>+<8 hex digits>+<base64>")]
    VerifierKeyShape,
    #[error("signer key must look like PRIVATE+KEY+<name>+<8 hex digits>+<base64>")]
    SignerKeyShape,
    #[error("key id must be 8 lower-case hex digits, found {found:?}")]
    KeyIdHex { found: String },
    #[error("key material is not valid base64")]
    KeyBase64,
    #[error("key material is {len} bytes, expected 33 (algorithm byte and 32-byte key)")]
    KeyLength { len: usize },
    #[error("unsupported signature algorithm 0x{alg:02x}")]
    UnknownAlg { alg: u8 },
    #[error("public key is not a valid Ed25519 point")]
    BadPoint,
    #[error("public key is not canonically encoded")]
    NonCanonicalKey,
    #[error("public key is weak (a small-order point)")]
    WeakKey,
    #[error("key id in the text is {found}, but the key's id is {expected}")]
    KeyIdMismatch { found: String, expected: String },
}

/// Why a note could not be parsed, signed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("note is {len} bytes, the limit is {max}")]
    TooLarge { len: usize, max: usize },
    #[error("note is not valid UTF-8 (at byte {offset})")]
    NotUtf8 { offset: usize },
    #[error("line {line}: control character 0x{byte:02x} (only newline is allowed)")]
    ControlChar { line: usize, byte: u8 },
    #[error("note text must be non-empty and end with a newline")]
    TextMissingFinalNewline,
    #[error("no blank line separating the text from the signatures")]
    NoBlankLine,
    #[error("note has no signature lines after the blank line")]
    MissingSignatures,
    #[error("last signature line does not end with a newline")]
    MissingFinalNewline,
    #[error("note has {found} signature lines, the limit is {max}")]
    TooManySignatures { found: usize, max: usize },
    #[error("line {line}: signature line must start with U+2014 em dash and a space")]
    SignatureLinePrefix { line: usize },
    #[error("line {line}: signature line must be \"— <name> <base64>\"")]
    SignatureLineShape { line: usize },
    #[error("line {line}: bad key name: {source}")]
    SignatureName { line: usize, source: KeyError },
    #[error("line {line}: signature is not valid base64")]
    SignatureBase64 { line: usize },
    #[error("line {line}: signature is {len} bytes, needs a 4-byte key id and at least 1 more")]
    SignatureTooShort { line: usize, len: usize },
    #[error("line {line}: signature by {name}+{key_id} does not verify")]
    InvalidSignature {
        line: usize,
        name: String,
        key_id: String,
    },
    #[error("line {line}: second signature by {name}+{key_id}")]
    DuplicateSignature {
        line: usize,
        name: String,
        key_id: String,
    },
    #[error("two different verifier keys are both named {name}+{key_id}")]
    AmbiguousVerifier { name: String, key_id: String },
    #[error("no signature from a known key")]
    NoVerifiedSignature,
    #[error("no signers given")]
    NoSigners,
    #[error("signer {name} uses {found:?}, this operation needs {expected:?}")]
    WrongSignerAlg {
        name: String,
        expected: KeyAlg,
        found: KeyAlg,
    },
    #[error("key {name} is {found:?}, this operation needs {expected:?}")]
    WrongKeyAlg {
        name: String,
        expected: KeyAlg,
        found: KeyAlg,
    },
    #[error("two signers share the key {name}+{key_id}")]
    DuplicateSigner { name: String, key_id: String },
    #[error("cosignature timestamp {timestamp_s} exceeds 2^63 - 1")]
    TimestampTooLarge { timestamp_s: u64 },
    #[error("bad checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    #[error("checkpoint has no valid signature by the log key {name}+{key_id}")]
    MissingLogSignature { name: String, key_id: String },
    #[error("checkpoint origin {origin:?} is not the log key name {key_name:?}")]
    OriginMismatch { origin: String, key_name: String },
}

/// Why a checkpoint text was refused. Line numbers count from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint text is {len} bytes, the limit is {max}")]
    TooLarge { len: usize, max: usize },
    #[error("checkpoint text must end with a newline")]
    MissingFinalNewline,
    #[error("checkpoint has {found} lines, needs at least 3 (origin, size, root)")]
    TooFewLines { found: usize },
    #[error("line {line}: control character 0x{byte:02x}")]
    ControlChar { line: usize, byte: u8 },
    #[error("line 1: origin is empty")]
    EmptyOrigin,
    #[error("line 2: tree size {found:?} is not an ASCII decimal number")]
    SizeNotDecimal { found: String },
    #[error("line 2: tree size {found:?} has a leading zero")]
    SizeLeadingZero { found: String },
    #[error("line 2: tree size {found:?} does not fit in 64 bits")]
    SizeOverflow { found: String },
    #[error("line 3: root hash is not valid base64")]
    RootBase64,
    #[error("line 3: root hash is {len} bytes, expected 32")]
    RootLength { len: usize },
    #[error("line {line}: extension line is empty")]
    EmptyExtension { line: usize },
    #[error("checkpoint fields do not survive encoding (a field contains a newline?)")]
    NotRepresentable,
}

/// Why a receipt was refused. Line numbers count from 1 over the whole receipt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("receipt is {len} bytes, the limit is {max}")]
    TooLarge { len: usize, max: usize },
    #[error("receipt is not valid UTF-8 (at byte {offset})")]
    NotUtf8 { offset: usize },
    #[error("line {line}: receipt ends before the blank line that precedes the checkpoint")]
    Truncated { line: usize },
    #[error("line 1: expected {RECEIPT_HEADER:?}")]
    Header,
    #[error("line {line}: extra data is not valid non-empty base64")]
    ExtraBase64 { line: usize },
    #[error("line {line}: expected \"index <decimal>\"")]
    IndexLine { line: usize },
    #[error("line {line}: index {found:?} is not a canonical decimal u64")]
    IndexNotDecimal { line: usize, found: String },
    #[error("line {line}: proof hash is not valid base64")]
    ProofBase64 { line: usize },
    #[error("line {line}: proof hash is {len} bytes, expected 32")]
    ProofHashLength { line: usize, len: usize },
    #[error("more than {max} proof hashes")]
    TooManyProofHashes { max: usize },
    #[error("checkpoint starting at line {line}: {source}")]
    CheckpointNote { line: usize, source: NoteError },
    #[error("checkpoint: {0}")]
    Checkpoint(NoteError),
    #[error("index {index} is not below the checkpoint tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("inclusion proof does not verify: {0}")]
    Inclusion(crate::merkle::InclusionVerifyError),
}

// ---------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------

/// The signature algorithms this module implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyAlg {
    /// `0x01`: Ed25519 over the note text (signed-note.md).
    Ed25519,
    /// `0x04`: timestamped Ed25519 cosignature v1 (tlog-cosignature.md).
    CosignatureV1,
}

impl KeyAlg {
    /// The signature type byte.
    pub fn to_byte(self) -> u8 {
        match self {
            KeyAlg::Ed25519 => ALG_ED25519,
            KeyAlg::CosignatureV1 => ALG_COSIGNATURE_V1,
        }
    }

    /// The algorithm of a signature type byte, if implemented here.
    pub fn from_byte(alg: u8) -> Option<KeyAlg> {
        match alg {
            ALG_ED25519 => Some(KeyAlg::Ed25519),
            ALG_COSIGNATURE_V1 => Some(KeyAlg::CosignatureV1),
            _ => None,
        }
    }
}

/// `SHA-256(name || 0x0A || alg || public_key)[..4]` (signed-note.md).
pub fn key_id(name: &str, alg: u8, public_key: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', alg]);
    h.update(public_key);
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// Checks the key name rules: non-empty, at most [`KEY_NAME_BYTES_MAX`]
/// bytes, no control characters, no Unicode white space, no `+`.
pub fn check_key_name(name: &str) -> Result<(), KeyError> {
    if name.is_empty() {
        return Err(KeyError::NameEmpty);
    }
    if name.len() > KEY_NAME_BYTES_MAX {
        return Err(KeyError::NameTooLong {
            len: name.len(),
            max: KEY_NAME_BYTES_MAX,
        });
    }
    for (at, c) in name.char_indices() {
        if c.is_control() {
            return Err(KeyError::NameControl { at });
        }
        if c.is_whitespace() {
            return Err(KeyError::NameSpace { at });
        }
        if c == '+' {
            return Err(KeyError::NamePlus { at });
        }
    }
    Ok(())
}

fn key_id_hex(id: &[u8; 4]) -> String {
    hex::encode(id)
}

/// Parses exactly 8 lower-case hex digits.
fn parse_key_id_hex(text: &str) -> Result<[u8; 4], KeyError> {
    let bad = || KeyError::KeyIdHex {
        found: text.chars().take(16).collect(),
    };
    if text.len() != 8
        || !text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(bad());
    }
    let mut id = [0u8; 4];
    hex::decode_to_slice(text, &mut id).map_err(|_| bad())?;
    Ok(id)
}

/// Best-effort overwrite of secret bytes before they are freed.
fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    std::hint::black_box(buf);
}

/// [`wipe`] for a vector, including spare capacity the decoder may have used.
fn wipe_vec(buf: &mut Vec<u8>) {
    buf.clear();
    buf.resize(buf.capacity(), 0);
    wipe(buf);
}

/// Splits `<name>+<hex8>+<base64(alg || 32 bytes)>` and decodes it. The
/// returned buffer may hold secret material; the caller wipes it.
fn split_key_text(text: &str, shape: KeyError) -> Result<(&str, [u8; 4], Vec<u8>), KeyError> {
    let (name, rest) = text.split_once('+').ok_or_else(|| shape.clone())?;
    let (hex8, b64) = rest.split_once('+').ok_or(shape)?;
    check_key_name(name)?;
    let id = parse_key_id_hex(hex8)?;
    let mut raw = B64.decode(b64).map_err(|_| KeyError::KeyBase64)?;
    if raw.len() != 1 + ED25519_KEY_BYTES {
        let len = raw.len();
        wipe_vec(&mut raw);
        return Err(KeyError::KeyLength { len });
    }
    Ok((name, id, raw))
}

/// A public key that notes are verified with: a name, an algorithm, an
/// Ed25519 key and the derived key id.
///
/// Text form (`Display` / [`VerifierKey::parse`]):
/// `<name>+<hex8 key id>+<base64(alg || 32-byte key)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    alg: KeyAlg,
    key: VerifyingKey,
    id: [u8; 4],
}

impl VerifierKey {
    /// Builds a verifier key, checking the name rules and refusing weak
    /// (small-order) and non-canonically encoded public keys.
    pub fn new(name: &str, alg: KeyAlg, key: VerifyingKey) -> Result<VerifierKey, KeyError> {
        check_key_name(name)?;
        if key.is_weak() {
            return Err(KeyError::WeakKey);
        }
        if key.to_edwards().compress().to_bytes() != key.to_bytes() {
            return Err(KeyError::NonCanonicalKey);
        }
        let id = key_id(name, alg.to_byte(), key.as_bytes());
        Ok(VerifierKey {
            name: name.to_owned(),
            alg,
            key,
            id,
        })
    }

    /// Parses `<name>+<hex8>+<base64(alg || key)>`, checking that the key id
    /// matches the name, algorithm and key.
    pub fn parse(text: &str) -> Result<VerifierKey, KeyError> {
        let (name, id, raw) = split_key_text(text, KeyError::VerifierKeyShape)?;
        let alg = KeyAlg::from_byte(raw[0]).ok_or(KeyError::UnknownAlg { alg: raw[0] })?;
        let mut bytes = [0u8; ED25519_KEY_BYTES];
        bytes.copy_from_slice(&raw[1..]);
        let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::BadPoint)?;
        let vkey = VerifierKey::new(name, alg, key)?;
        if vkey.id != id {
            return Err(KeyError::KeyIdMismatch {
                found: key_id_hex(&id),
                expected: key_id_hex(&vkey.id),
            });
        }
        Ok(vkey)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn alg(&self) -> KeyAlg {
        self.alg
    }

    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    /// What a person compares with the notice board: the key id and the
    /// first 8 bytes of SHA-256 of the verifier-key text, in groups of four
    /// hex digits, e.g. `586c a5e1 / 7e63 f9bf 107a b079`. The web page
    /// shows the same.
    pub fn fingerprint(&self) -> String {
        let group = |hex: String| {
            hex.as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).expect("hex is ASCII"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let digest = Sha256::digest(self.to_string().as_bytes());
        format!(
            "{} / {}",
            group(hex::encode(self.id)),
            group(hex::encode(&digest[..8]))
        )
    }

    /// Checks one signature line payload (the bytes after the key id) over
    /// `text`. Returns the cosignature timestamp for cosigner keys.
    fn check(&self, text: &str, payload: &[u8]) -> Result<Option<u64>, ()> {
        match self.alg {
            KeyAlg::Ed25519 => {
                let sig = <[u8; ED25519_SIGNATURE_BYTES]>::try_from(payload).map_err(|_| ())?;
                self.key
                    .verify_strict(text.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig))
                    .map_err(|_| ())?;
                Ok(None)
            }
            KeyAlg::CosignatureV1 => {
                if payload.len() != COSIGNATURE_V1_SIGNATURE_BYTES {
                    return Err(());
                }
                let (ts, sig) = payload.split_at(8);
                let timestamp_s = u64::from_be_bytes(ts.try_into().map_err(|_| ())?);
                if timestamp_s > COSIGNATURE_TIMESTAMP_MAX {
                    return Err(());
                }
                let sig = <[u8; ED25519_SIGNATURE_BYTES]>::try_from(sig).map_err(|_| ())?;
                let msg = cosignature_message(text, timestamp_s);
                self.key
                    .verify_strict(&msg, &ed25519_dalek::Signature::from_bytes(&sig))
                    .map_err(|_| ())?;
                Ok(Some(timestamp_s))
            }
        }
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = [0u8; 1 + ED25519_KEY_BYTES];
        raw[0] = self.alg.to_byte();
        raw[1..].copy_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{}+{}",
            self.name,
            key_id_hex(&self.id),
            B64.encode(raw)
        )
    }
}

impl FromStr for VerifierKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VerifierKey::parse(s)
    }
}

/// A private key that signs notes (alg [`KeyAlg::Ed25519`]) or cosigns
/// checkpoints (alg [`KeyAlg::CosignatureV1`]).
///
/// Text form ([`NoteSigner::parse`] / [`NoteSigner::to_private_key_text`]):
/// `PRIVATE+KEY+<name>+<hex8 key id>+<base64(alg || 32-byte seed)>`.
/// Not `Clone` and not `Display`; `Debug` shows only the name, algorithm and
/// key id. The seed lives in the `SigningKey`, which wipes it on drop.
pub struct NoteSigner {
    name: String,
    alg: KeyAlg,
    key: SigningKey,
    id: [u8; 4],
}

impl NoteSigner {
    /// Builds a signer. The caller generates the key (this crate has no RNG).
    pub fn new(name: &str, alg: KeyAlg, key: SigningKey) -> Result<NoteSigner, KeyError> {
        let vkey = VerifierKey::new(name, alg, key.verifying_key())?;
        Ok(NoteSigner {
            name: vkey.name,
            alg,
            key,
            id: vkey.id,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex8>+<base64(alg || seed)>`, checking that
    /// the key id matches the public key derived from the seed.
    pub fn parse(text: &str) -> Result<NoteSigner, KeyError> {
        let rest = text
            .strip_prefix(PRIVATE_KEY_PREFIX)
            .ok_or(KeyError::SignerKeyShape)?;
        let (name, id, mut raw) = split_key_text(rest, KeyError::SignerKeyShape)?;
        let alg_byte = raw[0];
        let Some(alg) = KeyAlg::from_byte(alg_byte) else {
            wipe_vec(&mut raw);
            return Err(KeyError::UnknownAlg { alg: alg_byte });
        };
        let mut seed = [0u8; ED25519_KEY_BYTES];
        seed.copy_from_slice(&raw[1..]);
        wipe_vec(&mut raw);
        let key = SigningKey::from_bytes(&seed);
        wipe(&mut seed);
        let signer = NoteSigner::new(name, alg, key)?;
        if signer.id != id {
            return Err(KeyError::KeyIdMismatch {
                found: key_id_hex(&id),
                expected: key_id_hex(&signer.id),
            });
        }
        Ok(signer)
    }

    /// The secret text form. Anyone holding it can sign as this key.
    pub fn to_private_key_text(&self) -> String {
        let mut raw = [0u8; 1 + ED25519_KEY_BYTES];
        raw[0] = self.alg.to_byte();
        raw[1..].copy_from_slice(self.key.as_bytes());
        let text = format!(
            "{PRIVATE_KEY_PREFIX}{}+{}+{}",
            self.name,
            key_id_hex(&self.id),
            B64.encode(raw)
        );
        wipe(&mut raw);
        text
    }

    /// The matching public key.
    pub fn verifier_key(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            alg: self.alg,
            key: self.key.verifying_key(),
            id: self.id,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn alg(&self) -> KeyAlg {
        self.alg
    }

    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    /// The Ed25519 key itself, for signing entry bodies with the same key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    fn sign_bytes(&self, msg: &[u8]) -> [u8; ED25519_SIGNATURE_BYTES] {
        self.key.sign(msg).to_bytes()
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NoteSigner")
            .field("name", &self.name)
            .field("alg", &self.alg)
            .field("key_id", &key_id_hex(&self.id))
            .finish_non_exhaustive()
    }
}

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
        check_key_name(name).map_err(|source| NoteError::SignatureName {
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
fn find_control(text: &str) -> Option<(usize, u8)> {
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

fn check_text(text: &str) -> Result<(), NoteError> {
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
            check_key_name(&sig.name)
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

// ---------------------------------------------------------------------------
// Cosignatures
// ---------------------------------------------------------------------------

/// The message a cosignature v1 signs:
/// `"cosignature/v1\ntime <timestamp_s>\n" || note_text` (tlog-cosignature.md).
pub fn cosignature_message(note_text: &str, timestamp_s: u64) -> Vec<u8> {
    format!("{COSIGNATURE_V1_HEADER}\ntime {timestamp_s}\n{note_text}").into_bytes()
}

/// Cosigns a checkpoint note text at `timestamp_s` (POSIX seconds) with a
/// [`KeyAlg::CosignatureV1`] signer. The text must be a valid checkpoint.
/// The returned line's payload is `timestamp (u64 BE) || Ed25519 signature`.
pub fn cosign(
    note_text: &str,
    timestamp_s: u64,
    signer: &NoteSigner,
) -> Result<NoteSignature, NoteError> {
    if signer.alg != KeyAlg::CosignatureV1 {
        return Err(NoteError::WrongSignerAlg {
            name: signer.name.clone(),
            expected: KeyAlg::CosignatureV1,
            found: signer.alg,
        });
    }
    if timestamp_s > COSIGNATURE_TIMESTAMP_MAX {
        return Err(NoteError::TimestampTooLarge { timestamp_s });
    }
    check_text(note_text)?;
    Checkpoint::parse(note_text)?;
    let sig = signer.sign_bytes(&cosignature_message(note_text, timestamp_s));
    let mut signature = Vec::with_capacity(COSIGNATURE_V1_SIGNATURE_BYTES);
    signature.extend_from_slice(&timestamp_s.to_be_bytes());
    signature.extend_from_slice(&sig);
    Ok(NoteSignature {
        name: signer.name.clone(),
        key_id: signer.id,
        signature,
    })
}

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
fn parse_canonical_u64(text: &str) -> Option<u64> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Control characters are found with their 1-based line; DEL is allowed.
    #[test]
    fn find_control_reports_line() {
        assert_eq!(find_control("a\nb\n"), None);
        assert_eq!(find_control("a\x7f\n"), None);
        assert_eq!(find_control("a\nb\tc\n"), Some((2, b'\t')));
        assert_eq!(find_control("\r\n"), Some((1, b'\r')));
    }

    /// Decimal parsing accepts one spelling per number only.
    #[test]
    fn canonical_u64() {
        assert_eq!(parse_canonical_u64("0"), Some(0));
        assert_eq!(parse_canonical_u64("10"), Some(10));
        assert_eq!(parse_canonical_u64("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "00",
            "01",
            "+1",
            "-0",
            " 1",
            "1 ",
            "18446744073709551616",
            "1_0",
        ] {
            assert_eq!(parse_canonical_u64(bad), None, "{bad:?}");
        }
    }

    /// The algorithm bytes are the ones signed-note.md assigns.
    #[test]
    fn alg_bytes() {
        assert_eq!(KeyAlg::Ed25519.to_byte(), 0x01);
        assert_eq!(KeyAlg::CosignatureV1.to_byte(), 0x04);
        for b in 0..=255u8 {
            if let Some(alg) = KeyAlg::from_byte(b) {
                assert_eq!(alg.to_byte(), b);
            }
        }
        assert_eq!(KeyAlg::from_byte(0x02), None);
        assert_eq!(KeyAlg::from_byte(0x06), None);
    }

    /// Key names: the spec's rules plus our length and control limits.
    #[test]
    fn key_name_rules() {
        assert!(check_key_name("example.com/log").is_ok());
        assert!(check_key_name("ünïcödé").is_ok());
        assert!(check_key_name(&"a".repeat(KEY_NAME_BYTES_MAX)).is_ok());
        assert_eq!(check_key_name(""), Err(KeyError::NameEmpty));
        assert_eq!(check_key_name("a+b"), Err(KeyError::NamePlus { at: 1 }));
        assert_eq!(check_key_name("a b"), Err(KeyError::NameSpace { at: 1 }));
        assert_eq!(
            check_key_name("a\u{3000}b"),
            Err(KeyError::NameSpace { at: 1 })
        );
        assert_eq!(check_key_name("a\nb"), Err(KeyError::NameControl { at: 1 }));
        assert!(matches!(
            check_key_name(&"a".repeat(KEY_NAME_BYTES_MAX + 1)),
            Err(KeyError::NameTooLong { .. })
        ));
    }

    /// Two different keys with one (name, key id) make verification fail
    /// rather than pick one. (A real id collision is infeasible to build, so
    /// the second key's id is forced.)
    #[test]
    fn ambiguous_verifiers() {
        let a = NoteSigner::new("n", KeyAlg::Ed25519, SigningKey::from_bytes(&[1; 32])).unwrap();
        let b = NoteSigner::new("n", KeyAlg::Ed25519, SigningKey::from_bytes(&[2; 32])).unwrap();
        let mut vb = b.verifier_key();
        vb.id = a.id;
        let note = Note::sign("t\n", &[&a]).unwrap();
        assert!(matches!(
            note.verify(&[a.verifier_key(), vb]),
            Err(NoteError::AmbiguousVerifier { .. })
        ));
    }
}
