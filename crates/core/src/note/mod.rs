//! C2SP signed notes, checkpoints, Ed25519 cosignatures and inclusion receipts.
//!
//! One submodule per C2SP spec, all re-exported here so callers name
//! `feeledger_core::note::X` whatever file `X` lives in:
//!
//! - `keys`: key names, key ids, [`VerifierKey`] and [`NoteSigner`] (the key
//!   text forms of Go's `sumdb/note`).
//! - `signed_note`: [`Note`] (c2sp.org/signed-note).
//! - `checkpoint`: [`Checkpoint`], [`sign_checkpoint`], [`open_checkpoint`]
//!   (c2sp.org/tlog-checkpoint).
//! - `cosignature`: [`cosign`], [`cosignature_message`]
//!   (c2sp.org/tlog-cosignature).
//! - `receipt`: [`Receipt`] (c2sp.org/tlog-proof).
//! - `witness`: [`AddCheckpointRequest`], the body of a tlog-witness
//!   `add-checkpoint` request (c2sp.org/tlog-witness).
//!
//! This file holds the limits and the error types they share.
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
//!   [`NOTE_KEY_NAME_BYTES_MAX`] bytes.
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

mod checkpoint;
mod cosignature;
mod keys;
mod receipt;
mod signed_note;
mod witness;

pub use checkpoint::*;
pub use cosignature::*;
pub use keys::*;
pub use receipt::*;
pub use signed_note::*;
pub use witness::*;

use crate::hash::Hash;

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
pub const NOTE_KEY_NAME_BYTES_MAX: usize = 255;

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

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

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
        assert!(check_note_key_name("example.com/log").is_ok());
        assert!(check_note_key_name("ünïcödé").is_ok());
        assert!(check_note_key_name(&"a".repeat(NOTE_KEY_NAME_BYTES_MAX)).is_ok());
        assert_eq!(check_note_key_name(""), Err(KeyError::NameEmpty));
        assert_eq!(
            check_note_key_name("a+b"),
            Err(KeyError::NamePlus { at: 1 })
        );
        assert_eq!(
            check_note_key_name("a b"),
            Err(KeyError::NameSpace { at: 1 })
        );
        assert_eq!(
            check_note_key_name("a\u{3000}b"),
            Err(KeyError::NameSpace { at: 1 })
        );
        assert_eq!(
            check_note_key_name("a\nb"),
            Err(KeyError::NameControl { at: 1 })
        );
        assert!(matches!(
            check_note_key_name(&"a".repeat(NOTE_KEY_NAME_BYTES_MAX + 1)),
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
