//! Private key files, as text (docs/format.md §11.6).
//!
//! A key file holds one line: the C2SP/Go note signer form
//! `PRIVATE+KEY+<name>+<hex8>+<base64(0x01 || seed)>`. The same Ed25519 key
//! signs entries (as the role key `<name>`) and cosigns checkpoints (as the
//! cosignature/v1 key `<name>`); the messages are domain-separated.
//!
//! This module is the pure part: parsing and encoding the text, and the
//! rules a new key's name is held to. Reading a file (with its size and
//! permission checks) and writing one (mode 0600) is the caller's;
//! `feeledger-ledgerdir` does both. The caller also makes new keys: the
//! core has no RNG.

use crate::entry::{
    check_member_key_name, check_origin, normalize_signatures, Body, EntrySignature,
};
use crate::note::{KeyAlg, KeyError, NoteSigner, VerifierKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;

/// Largest key file a reader accepts: a key line is about 100 bytes.
pub const KEY_FILE_BYTES_MAX: u64 = 4_096;

/// Why a key file's text, or a new key's name, is refused. The messages
/// name no file: the caller knows which file it read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileError {
    /// The text is not a signer key (shape, algorithm byte, key id).
    #[error("not a valid feeledger key ({0})")]
    NotAKey(KeyError),
    /// A well-formed signer key, but a cosigner-only one (alg 0x04):
    /// feeledger key files sign entries, which takes alg 0x01.
    #[error("a cosigner-only key; feeledger key files hold Ed25519 (type 0x01) keys")]
    CosignerOnly,
    /// A log key's name must be a ledger origin (docs/format.md §6.1).
    #[error("{name:?} cannot name a log key: {rule}")]
    LogKeyName { name: String, rule: String },
    /// A role key's name must follow the key-name rule of entries
    /// (docs/format.md §6.2), which `init` applies to the genesis.
    #[error("{name:?} is not a valid key name: {rule}, e.g. wuye-li or weiyuan-wang (a person's Chinese name goes in the genesis, not the key name; for a log key named after the origin, add --log)")]
    RoleKeyName { name: String, rule: String },
    /// The name breaks the signed-note key-name rule, or the key is weak.
    #[error("key name")]
    Key(#[source] KeyError),
}

/// What a new key will sign as, and so which name rule it is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// A role member's key: the key-name rule of entries.
    Role,
    /// A ledger's log (checkpoint) key: named after the origin.
    Log,
}

/// An Ed25519 signing key and its name, as a key file holds it.
pub struct KeyFile {
    pub signer: NoteSigner,
}

impl KeyFile {
    /// A key file for `key`, under `name`. The caller makes the key.
    ///
    /// # Errors
    /// [`KeyFileError::Key`] for a name the signed-note rule refuses.
    pub fn new(name: &str, key: SigningKey) -> Result<KeyFile, KeyFileError> {
        let signer = NoteSigner::new(name, KeyAlg::Ed25519, key).map_err(KeyFileError::Key)?;
        Ok(KeyFile { signer })
    }

    /// A key from its 32-byte seed (RFC 8032 §5.1.5).
    ///
    /// # Errors
    /// As [`KeyFile::new`].
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<KeyFile, KeyFileError> {
        KeyFile::new(name, SigningKey::from_bytes(&seed))
    }

    /// A new key for `keygen`, named by the rule the key will be held to
    /// later: a role key by the entries' key-name rule (the one `init`
    /// applies), a log key by the origin rule. Refusing here saves making
    /// a key that `init` would refuse.
    ///
    /// # Errors
    /// [`KeyFileError::RoleKeyName`] or [`KeyFileError::LogKeyName`] for a
    /// name its rule refuses, then as [`KeyFile::new`].
    pub fn new_checked(name: &str, use_: KeyUse, key: SigningKey) -> Result<KeyFile, KeyFileError> {
        match use_ {
            KeyUse::Log => check_origin(name).map_err(|rule| KeyFileError::LogKeyName {
                name: name.to_string(),
                rule,
            })?,
            KeyUse::Role => {
                check_member_key_name(name).map_err(|rule| KeyFileError::RoleKeyName {
                    name: name.to_string(),
                    rule,
                })?
            }
        }
        KeyFile::new(name, key)
    }

    /// Parses a key file's text. Trailing `\n` characters are removed
    /// first; nothing else may surround the line.
    ///
    /// # Errors
    /// [`KeyFileError::NotAKey`] for text that is not a signer key, and
    /// [`KeyFileError::CosignerOnly`] for an alg 0x04 key. A reader that
    /// checks the file's permissions tells the two apart: a file that is
    /// not a key at all is named so before any advice to `chmod` it.
    pub fn parse(text: &str) -> Result<KeyFile, KeyFileError> {
        let signer =
            NoteSigner::parse(text.trim_end_matches('\n')).map_err(KeyFileError::NotAKey)?;
        if signer.alg() != KeyAlg::Ed25519 {
            return Err(KeyFileError::CosignerOnly);
        }
        Ok(KeyFile { signer })
    }

    /// The whole file: the key line and one `\n`. Secret.
    pub fn to_text(&self) -> String {
        format!("{}\n", self.signer.to_private_key_text())
    }

    pub fn name(&self) -> &str {
        self.signer.name()
    }

    pub fn signing_key(&self) -> &SigningKey {
        self.signer.signing_key()
    }

    /// The role key as a genesis lists it: 32 bytes, base64.
    pub fn public_key_base64(&self) -> String {
        BASE64.encode(self.signing_key().verifying_key().as_bytes())
    }

    /// The note verifier key (type 0x01), e.g. for a log key.
    pub fn verifier_key(&self) -> VerifierKey {
        self.signer.verifier_key()
    }

    /// The same key as a cosignature/v1 signer.
    ///
    /// # Errors
    /// None in practice: the name was accepted for the Ed25519 signer.
    pub fn cosigner(&self) -> Result<NoteSigner, KeyError> {
        NoteSigner::new(
            self.name(),
            KeyAlg::CosignatureV1,
            self.signing_key().clone(),
        )
    }
}

/// Signs a body with each key, as an entry lists signatures: sorted by key
/// name, one per name.
pub fn sign_body<'a>(
    body: &Body,
    keys: impl IntoIterator<Item = &'a KeyFile>,
) -> Vec<EntrySignature> {
    let message = body.signing_message();
    let mut signatures: Vec<EntrySignature> = keys
        .into_iter()
        .map(|k| {
            let signature = ed25519_dalek::Signer::sign(k.signing_key(), &message);
            EntrySignature::new(k.name(), &signature)
        })
        .collect();
    normalize_signatures(&mut signatures);
    signatures
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key's text parses back to the same key, with or without its
    /// trailing newlines.
    #[test]
    fn text_round_trips() {
        let key = KeyFile::from_seed("weiyuan-wang", [1; 32]).unwrap();
        let text = key.to_text();
        assert!(text.ends_with("\n") && !text.ends_with("\n\n"));
        for form in [
            text.clone(),
            text.trim_end().to_string(),
            format!("{text}\n"),
        ] {
            let back = KeyFile::parse(&form).unwrap();
            assert_eq!(back.verifier_key(), key.verifier_key());
            assert_eq!(back.name(), "weiyuan-wang");
        }
    }

    /// A cosigner-only key is told apart from text that is no key at all,
    /// so that a reader can name a non-key before advising `chmod`.
    #[test]
    fn cosigner_only_and_not_a_key_differ() {
        let key = KeyFile::from_seed("w", [2; 32]).unwrap();
        let cosigner = key.cosigner().unwrap().to_private_key_text();
        assert_eq!(
            KeyFile::parse(&cosigner).err(),
            Some(KeyFileError::CosignerOnly)
        );
        assert!(matches!(
            KeyFile::parse("origin = \"x\"\n"),
            Err(KeyFileError::NotAKey(_))
        ));
        assert!(matches!(
            KeyFile::parse(&format!(" {}", key.to_text())),
            Err(KeyFileError::NotAKey(_))
        ));
    }

    /// New keys are held to the rule of what they will sign as: a role key
    /// to the entries' key-name rule, a log key to the origin rule.
    #[test]
    fn new_keys_follow_their_name_rule() {
        let key = || SigningKey::from_bytes(&[3; 32]);
        assert!(KeyFile::new_checked("wuye-li", KeyUse::Role, key()).is_ok());
        assert!(matches!(
            KeyFile::new_checked("Wang Wei", KeyUse::Role, key()),
            Err(KeyFileError::RoleKeyName { .. })
        ));
        assert!(KeyFile::new_checked("example.org/xingguang", KeyUse::Log, key()).is_ok());
        assert!(matches!(
            KeyFile::new_checked("a+b", KeyUse::Log, key()),
            Err(KeyFileError::LogKeyName { .. })
        ));
        // The entries' rule does not allow '/', which an origin has.
        assert!(matches!(
            KeyFile::new_checked("example.org/xingguang", KeyUse::Role, key()),
            Err(KeyFileError::RoleKeyName { .. })
        ));
    }

    /// Signatures come out sorted by key name, one per key, whatever order
    /// the keys are given in.
    #[test]
    fn signatures_are_sorted_and_deduplicated() {
        let a = KeyFile::from_seed("a", [4; 32]).unwrap();
        let b = KeyFile::from_seed("b", [5; 32]).unwrap();
        let body = crate::genesis::GenesisTerms {
            origin: "example.org/test".into(),
            name: "test".into(),
            funds: Default::default(),
            roles: Default::default(),
            rules: None,
        }
        .body(
            crate::entry::Date::parse("2025-01-01").unwrap(),
            "00".repeat(16),
            &a.verifier_key(),
        );
        let signatures = sign_body(&body, [&b, &a, &b]);
        let names: Vec<&str> = signatures.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }
}
