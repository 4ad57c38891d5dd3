//! The demo ledger (`feeledger demo --no-serve`) in a temporary directory:
//! a year of a community's money, 3,669 entries, with every role's keys.

use super::bodies::{read_signer, signing_key};
use super::{field, run};
use ed25519_dalek::SigningKey;
use feeledger_core::note::NoteSigner;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Entries in the demo ledger.
pub const DEMO_ENTRIES: u64 = 3_669;

/// The demo ledger's origin.
pub const DEMO_ORIGIN: &str = "demo.feeledger.local/xingguang";

/// A demo ledger in a temporary directory.
pub struct Demo {
    pub dir: tempfile::TempDir,
    /// DIR/demo-data: the data directory.
    pub data: PathBuf,
    /// The log key the demo printed, for the notice board.
    pub log_key: String,
}

impl Demo {
    pub fn new() -> Demo {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("demo-data");
        let started = Instant::now();
        let out = run([
            "demo",
            "--no-serve",
            "--data",
            data.to_str().expect("UTF-8 temp path"),
        ]);
        out.assert_ok();
        let log_key = field(&out.stdout, "log key:").expect("demo prints the log key");
        println!(
            "demo ledger created in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Demo { dir, data, log_key }
    }

    /// A path in the temporary directory, beside the data directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A copy of the data directory, to damage.
    pub fn copy(&self, name: &str) -> PathBuf {
        let to = self.path(name);
        copy_dir(&self.data, &to);
        to
    }

    /// The key file of a demo role key.
    pub fn key_path(&self, name: &str) -> PathBuf {
        self.data.join("keys").join(format!("{name}.key"))
    }

    /// The Ed25519 key of a demo role key file.
    pub fn signing_key(&self, name: &str) -> SigningKey {
        signing_key(&self.key_path(name))
    }

    /// The log key (DATA/log.key): only the operator holds it.
    pub fn log_signer(&self) -> NoteSigner {
        read_signer(&self.data.join("log.key"))
    }
}

/// Copies a directory tree, files byte for byte.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
