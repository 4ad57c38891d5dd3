//! Private key files.
//!
//! A key file holds one line: the C2SP/Go note signer form
//! `PRIVATE+KEY+<name>+<hex8>+<base64(0x01 || seed)>`. The same Ed25519 key
//! signs entries (as the role key `<name>`) and cosigns checkpoints (as the
//! cosignature/v1 key `<name>`); the messages are domain-separated.
//!
//! Files are created with mode 0600, and a file that other users can read
//! is refused: a leaked key can sign for its role.

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use feeledger_core::note::{KeyAlg, NoteSigner, VerifierKey};
use std::io::Write as _;
use std::path::Path;

/// Largest key file read: a key line is about 100 bytes.
const KEY_FILE_BYTES_MAX: u64 = 4_096;

/// A signing key and its name.
pub struct KeyFile {
    pub signer: NoteSigner,
}

impl KeyFile {
    pub fn generate(name: &str) -> Result<KeyFile> {
        let key = SigningKey::generate(&mut rand_core::OsRng);
        let signer = NoteSigner::new(name, KeyAlg::Ed25519, key).context("key name")?;
        Ok(KeyFile { signer })
    }

    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<KeyFile> {
        let signer = NoteSigner::new(name, KeyAlg::Ed25519, SigningKey::from_bytes(&seed))?;
        Ok(KeyFile { signer })
    }

    pub fn name(&self) -> &str {
        self.signer.name()
    }

    pub fn signing_key(&self) -> &SigningKey {
        self.signer.signing_key()
    }

    /// The role key as genesis lists it: 32 bytes, base64.
    pub fn public_key_base64(&self) -> String {
        BASE64.encode(self.signing_key().verifying_key().as_bytes())
    }

    /// The note verifier key (type 0x01), e.g. for a log key.
    pub fn verifier_key(&self) -> VerifierKey {
        self.signer.verifier_key()
    }

    /// The same key as a cosignature/v1 signer.
    pub fn cosigner(&self) -> Result<NoteSigner> {
        Ok(NoteSigner::new(
            self.name(),
            KeyAlg::CosignatureV1,
            self.signing_key().clone(),
        )?)
    }

    /// Writes the key with mode 0600, refusing to overwrite.
    pub fn write_new(&self, path: &Path) -> Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options.open(path).with_context(|| {
            format!(
                "cannot create key file {} (does it exist already?)",
                path.display()
            )
        })?;
        writeln!(file, "{}", self.signer.to_private_key_text())?;
        file.sync_all()?;
        Ok(())
    }

    /// Reads a key file. Never prints the key in an error.
    pub fn read(path: &Path) -> Result<KeyFile> {
        let meta = std::fs::metadata(path)
            .with_context(|| format!("cannot read key file {}", path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                bail!(
                    "key file {} is readable by other users (mode {:o}); run `chmod 600 {}`",
                    path.display(),
                    mode & 0o777,
                    path.display()
                );
            }
        }
        if meta.len() > KEY_FILE_BYTES_MAX {
            bail!(
                "key file {} is not a feeledger key (too large)",
                path.display()
            );
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read key file {}", path.display()))?;
        let signer = NoteSigner::parse(text.trim_end_matches('\n')).map_err(|e| {
            anyhow::anyhow!(
                "key file {} is not a valid feeledger key: {e}",
                path.display()
            )
        })?;
        if signer.alg() != KeyAlg::Ed25519 {
            bail!("key file {} holds a cosigner-only key; feeledger key files hold Ed25519 (type 0x01) keys", path.display());
        }
        Ok(KeyFile { signer })
    }
}
