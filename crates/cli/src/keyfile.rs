//! Private key files.
//!
//! A key file holds one line: the C2SP/Go note signer form
//! `PRIVATE+KEY+<name>+<hex8>+<base64(0x01 || seed)>`. The same Ed25519 key
//! signs entries (as the role key `<name>`) and cosigns checkpoints (as the
//! cosignature/v1 key `<name>`); the messages are domain-separated.
//!
//! Files are created with mode 0600, and a key file that other users can
//! read is refused: a leaked key can sign for its role. A file that is not
//! a key at all (a genesis description, a directory) is named as such
//! first.

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use feeledger_core::entry::{check_member_key_name, check_origin};
use feeledger_core::note::{KeyAlg, NoteSigner, VerifierKey};
use std::io::Write as _;
use std::path::{Path, PathBuf};

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
    ///
    /// The checks run from "is this a key file at all" to "is it kept
    /// safe": a genesis description or a directory given as `--key` is
    /// named as such, not met with advice to chmod it.
    pub fn read(path: &Path) -> Result<KeyFile> {
        let meta = std::fs::metadata(path)
            .with_context(|| format!("cannot read key file {}", path.display()))?;
        if meta.is_dir() {
            bail!(
                "{} is a directory, not a feeledger key file; give the file `feeledger keygen --out` wrote",
                path.display()
            );
        }
        if meta.len() > KEY_FILE_BYTES_MAX {
            bail!(
                "{} is not a feeledger key file (over {KEY_FILE_BYTES_MAX} bytes; a key file is one line)",
                path.display()
            );
        }
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read key file {}: it is not a feeledger key file (not text)",
                path.display()
            )
        })?;
        let signer = NoteSigner::parse(text.trim_end_matches('\n')).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a feeledger key file: not a valid feeledger key ({e}); `feeledger keygen` makes key files",
                path.display()
            )
        })?;
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
        if signer.alg() != KeyAlg::Ed25519 {
            bail!("key file {} holds a cosigner-only key; feeledger key files hold Ed25519 (type 0x01) keys", path.display());
        }
        Ok(KeyFile { signer })
    }

    /// Reads several key files, refusing the same key given twice: it
    /// would count once, and saying nothing would look as if it counted
    /// twice.
    pub fn read_all(paths: &[PathBuf]) -> Result<Vec<KeyFile>> {
        let keys = paths
            .iter()
            .map(|p| KeyFile::read(p))
            .collect::<Result<Vec<_>>>()?;
        for (i, key) in keys.iter().enumerate() {
            if let Some(j) = keys[..i].iter().position(|k| k.name() == key.name()) {
                bail!(
                    "the same key was given twice: --key {} and --key {} are both {:?}; give each signer's key once",
                    paths[j].display(),
                    paths[i].display(),
                    key.name()
                );
            }
        }
        Ok(keys)
    }

    /// A new key for `keygen`, named by the rule the key will be held to
    /// later: a role key by the core's key-name rule (the one `init`
    /// applies), a log key by the origin rule. Refusing here saves making
    /// a key that `init` would refuse.
    pub fn generate_checked(name: &str, log: bool) -> Result<KeyFile> {
        if log {
            check_origin(name)
                .map_err(|rule| anyhow::anyhow!("--name {name:?} cannot name a log key: {rule}"))?;
        } else {
            check_member_key_name(name).map_err(|rule| {
                anyhow::anyhow!(
                    "--name {name:?} is not a valid key name: {rule}, e.g. wuye-li or weiyuan-wang (a person's Chinese name goes in the genesis, not the key name; for a log key named after the origin, add --log)"
                )
            })?;
        }
        KeyFile::generate(name)
    }
}
