//! Note keys (c2sp.org/signed-note key names and key ids; Go
//! `golang.org/x/mod/sumdb/note` "vkey" text forms): verifier keys, signers.

use super::*;
use base64::{engine::general_purpose::STANDARD as B64, Engine as _};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

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

/// Checks a signed-note key name (the name in a verifier key, a signer key
/// and a signature line): non-empty, at most [`NOTE_KEY_NAME_BYTES_MAX`]
/// bytes, no control characters, no Unicode white space, no `+`. Not the
/// stricter rule for role members' key names in entries
/// ([`crate::entry::check_member_key_name`]).
///
/// # Errors
/// [`KeyError`] naming the first rule the name breaks.
pub fn check_note_key_name(name: &str) -> Result<(), KeyError> {
    if name.is_empty() {
        return Err(KeyError::NameEmpty);
    }
    if name.len() > NOTE_KEY_NAME_BYTES_MAX {
        return Err(KeyError::NameTooLong {
            len: name.len(),
            max: NOTE_KEY_NAME_BYTES_MAX,
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

pub(super) fn key_id_hex(id: &[u8; 4]) -> String {
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
    check_note_key_name(name)?;
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
    pub(super) name: String,
    pub(super) alg: KeyAlg,
    pub(super) key: VerifyingKey,
    pub(super) id: [u8; 4],
}

impl VerifierKey {
    /// Builds a verifier key, checking the name rules and refusing weak
    /// (small-order) and non-canonically encoded public keys.
    ///
    /// # Errors
    /// [`KeyError`] for a bad name, or a weak or non-canonical public key.
    pub fn new(name: &str, alg: KeyAlg, key: VerifyingKey) -> Result<VerifierKey, KeyError> {
        check_note_key_name(name)?;
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
    ///
    /// # Errors
    /// [`KeyError`] for a malformed text, an unknown algorithm, a bad key,
    /// or a key id that does not match.
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
    ///
    /// # Panics
    /// Never: hex digits are ASCII.
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
    pub(super) fn check(&self, text: &str, payload: &[u8]) -> Result<Option<u64>, ()> {
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
    pub(super) name: String,
    pub(super) alg: KeyAlg,
    pub(super) key: SigningKey,
    pub(super) id: [u8; 4],
}

impl NoteSigner {
    /// Builds a signer. The caller generates the key (this crate has no RNG).
    ///
    /// # Errors
    /// [`KeyError`] for a bad name, or a weak public key.
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
    ///
    /// # Errors
    /// [`KeyError`] for a malformed text, an unknown algorithm, or a key id
    /// that does not match.
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

    pub(super) fn sign_bytes(&self, msg: &[u8]) -> [u8; ED25519_SIGNATURE_BYTES] {
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
