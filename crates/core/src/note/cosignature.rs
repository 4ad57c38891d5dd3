//! Ed25519 cosignatures (c2sp.org/tlog-cosignature, `cosignature/v1`).

use super::*;

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
///
/// # Errors
/// [`NoteError`] if the signer is not a cosignature/v1 key, the text is
/// not a checkpoint, or the timestamp is above [`COSIGNATURE_TIMESTAMP_MAX`].
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
