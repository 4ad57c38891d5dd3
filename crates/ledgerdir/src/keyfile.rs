//! Key files on disk: the text of `feeledger_core::keyfile`, read with its
//! size and permission checks and written with mode 0600.
//!
//! A key file that other users can read is refused: a leaked key can sign
//! for its role. A file that is not a key at all (a genesis description, a
//! directory) is named as such first, not met with advice to `chmod` it.

use feeledger_core::keyfile::{KeyFile, KeyFileError, KEY_FILE_BYTES_MAX};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Why a key file could not be read or written. Never holds the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileIoError {
    /// The file cannot be looked at (missing, no permission).
    #[error("cannot read key file {}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is a directory, not a feeledger key file; give the file `feeledger keygen --out` wrote", path.display())]
    Directory { path: PathBuf },
    #[error("{} is not a feeledger key file (over {KEY_FILE_BYTES_MAX} bytes; a key file is one line)", path.display())]
    TooLarge { path: PathBuf },
    #[error("cannot read key file {}: it is not a feeledger key file (not text)", path.display())]
    NotText {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The text is not a signer key; `reason` is the core's
    /// [`KeyFileError`] (never the key itself).
    #[error("{} is not a feeledger key file: {reason}; `feeledger keygen` makes key files", path.display())]
    NotAKey { path: PathBuf, reason: KeyFileError },
    /// Group or other bits are set (`mode & 0o077 != 0`).
    #[error("key file {} is readable by other users (mode {mode:o}); run `chmod 600 {}`", path.display(), path.display())]
    Exposed { path: PathBuf, mode: u32 },
    #[error("key file {} holds a cosigner-only key; feeledger key files hold Ed25519 (type 0x01) keys", path.display())]
    CosignerOnly { path: PathBuf },
    /// Two paths of one list hold keys of the same name: the key would
    /// count once, and saying nothing would look as if it counted twice.
    #[error("the same key was given twice: --key {} and --key {} are both {name:?}; give each signer's key once", first.display(), second.display())]
    GivenTwice {
        first: PathBuf,
        second: PathBuf,
        name: String,
    },
    /// [`KeyFileIo::write_new`] found the path taken, or cannot create it.
    #[error("cannot create key file {} (does it exist already?)", path.display())]
    CannotCreate {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Writing or syncing a new key file failed.
    #[error(transparent)]
    Write(std::io::Error),
}

/// Reading and writing [`KeyFile`]s.
pub trait KeyFileIo: Sized {
    /// Reads a key file. The checks run from "is this a key file at all" to
    /// "is it kept safe".
    ///
    /// # Errors
    /// [`KeyFileIoError`], naming the file and what to do.
    fn read(path: &Path) -> Result<Self, KeyFileIoError>;

    /// Reads several key files, refusing the same key given twice.
    ///
    /// # Errors
    /// As [`KeyFileIo::read`], and [`KeyFileIoError::GivenTwice`].
    fn read_all(paths: &[PathBuf]) -> Result<Vec<Self>, KeyFileIoError>;

    /// Writes the key with mode 0600, refusing to overwrite.
    ///
    /// # Errors
    /// [`KeyFileIoError::CannotCreate`] if the path exists or cannot be
    /// created, [`KeyFileIoError::Write`] if writing fails.
    fn write_new(&self, path: &Path) -> Result<(), KeyFileIoError>;
}

impl KeyFileIo for KeyFile {
    fn read(path: &Path) -> Result<KeyFile, KeyFileIoError> {
        let meta = std::fs::metadata(path).map_err(|source| KeyFileIoError::Unreadable {
            path: path.to_path_buf(),
            source,
        })?;
        if meta.is_dir() {
            return Err(KeyFileIoError::Directory {
                path: path.to_path_buf(),
            });
        }
        if meta.len() > KEY_FILE_BYTES_MAX {
            return Err(KeyFileIoError::TooLarge {
                path: path.to_path_buf(),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| KeyFileIoError::NotText {
            path: path.to_path_buf(),
            source,
        })?;
        // Not a key at all is said before the mode; a cosigner-only key,
        // after it.
        let parsed = match KeyFile::parse(&text) {
            Err(reason @ KeyFileError::NotAKey(_)) => {
                return Err(KeyFileIoError::NotAKey {
                    path: path.to_path_buf(),
                    reason,
                })
            }
            parsed => parsed,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(KeyFileIoError::Exposed {
                    path: path.to_path_buf(),
                    mode: mode & 0o777,
                });
            }
        }
        parsed.map_err(|reason| match reason {
            KeyFileError::CosignerOnly => KeyFileIoError::CosignerOnly {
                path: path.to_path_buf(),
            },
            reason => KeyFileIoError::NotAKey {
                path: path.to_path_buf(),
                reason,
            },
        })
    }

    fn read_all(paths: &[PathBuf]) -> Result<Vec<KeyFile>, KeyFileIoError> {
        let keys = paths
            .iter()
            .map(|p| KeyFile::read(p))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, key) in keys.iter().enumerate() {
            if let Some(j) = keys[..i].iter().position(|k| k.name() == key.name()) {
                return Err(KeyFileIoError::GivenTwice {
                    first: paths[j].clone(),
                    second: paths[i].clone(),
                    name: key.name().to_string(),
                });
            }
        }
        Ok(keys)
    }

    fn write_new(&self, path: &Path) -> Result<(), KeyFileIoError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let mut file = options
            .open(path)
            .map_err(|source| KeyFileIoError::CannotCreate {
                path: path.to_path_buf(),
                source,
            })?;
        file.write_all(self.to_text().as_bytes())
            .map_err(KeyFileIoError::Write)?;
        file.sync_all().map_err(KeyFileIoError::Write)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, seed: u8) -> KeyFile {
        KeyFile::from_seed(name, [seed; 32]).unwrap()
    }

    /// A key written by `write_new` reads back as the same key, with mode
    /// 0600, and is never overwritten.
    #[test]
    fn written_keys_read_back_and_are_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        key("wuye-li", 1).write_new(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let back = KeyFile::read(&path).unwrap();
        assert_eq!(back.verifier_key(), key("wuye-li", 1).verifier_key());
        assert!(matches!(
            key("wuye-li", 2).write_new(&path),
            Err(KeyFileIoError::CannotCreate { .. })
        ));
        assert_eq!(
            KeyFile::read(&path).unwrap().verifier_key(),
            back.verifier_key()
        );
    }

    /// A file that is no key is named so even when others can read it; a
    /// real key others can read is refused with the chmod advice; a
    /// directory and an oversized file are named as what they are.
    #[cfg(unix)]
    #[test]
    fn refusals_name_what_the_file_is() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let open = |path: &Path| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap()
        };
        let toml = dir.path().join("genesis.toml");
        std::fs::write(&toml, "origin = \"x\"\n").unwrap();
        open(&toml);
        assert!(matches!(
            KeyFile::read(&toml),
            Err(KeyFileIoError::NotAKey { .. })
        ));
        let exposed = dir.path().join("exposed.key");
        key("wuye-li", 1).write_new(&exposed).unwrap();
        open(&exposed);
        let err = KeyFile::read(&exposed).err().unwrap();
        assert!(matches!(err, KeyFileIoError::Exposed { mode: 0o644, .. }));
        assert!(err.to_string().contains("chmod 600"), "{err}");
        assert!(matches!(
            KeyFile::read(dir.path()),
            Err(KeyFileIoError::Directory { .. })
        ));
        let big = dir.path().join("big.key");
        std::fs::write(&big, vec![b'a'; KEY_FILE_BYTES_MAX as usize + 1]).unwrap();
        assert!(matches!(
            KeyFile::read(&big),
            Err(KeyFileIoError::TooLarge { .. })
        ));
    }

    /// The same key given twice is refused, naming both paths.
    #[test]
    fn the_same_key_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.key"), dir.path().join("b.key"));
        key("weiyuan-wang", 1).write_new(&a).unwrap();
        key("weiyuan-wang", 1).write_new(&b).unwrap();
        let err = KeyFile::read_all(&[a.clone(), b.clone()]).err().unwrap();
        assert!(
            matches!(&err, KeyFileIoError::GivenTwice { first, second, .. } if *first == a && *second == b)
        );
    }
}
