//! Where the read-only commands (`list`, `show`, `balances`, `proposals`,
//! `receipt`, `export`) read a ledger: `--data DIR`, or `--url URL` with
//! the `--log-key` a server's ledger is verified against. Either way they
//! get a [`LedgerView`]; the verification itself is
//! [`feeledger_audit::RemoteLedger`]'s.

use crate::{Place, Target};
use anyhow::{anyhow, bail, Context, Result};
use feeledger_audit::{LedgerView, RemoteLedger};
use feeledger_core::note::VerifierKey;
use feeledger_ledgerdir::DataDir;
use feeledger_store::Store;

/// Where a read-only command reads the ledger: `--data DIR`, or `--url URL`
/// with the `--log-key` that everything the server sends is checked
/// against.
#[derive(Debug, clap::Args)]
pub struct ReadFrom {
    #[command(flatten)]
    target: Target,
    /// The log's verifier key, as posted on the notice board
    /// (name+hex8+base64). Required with --url: the server itself is not
    /// trusted. With --data, the ledger must have this log key.
    #[arg(long)]
    log_key: Option<String>,
}

impl ReadFrom {
    /// Whether the ledger is read from a server.
    pub fn is_url(&self) -> bool {
        self.target.url.is_some()
    }

    /// The server's address, with --url.
    pub fn url(&self) -> Option<&str> {
        self.target.url.as_deref()
    }

    /// Opens the data directory, or fetches and verifies the server's
    /// ledger (with a progress bar while its entries are replayed).
    pub fn open(self) -> Result<Box<dyn LedgerView>> {
        let trusted = self
            .log_key
            .as_deref()
            .map(|k| VerifierKey::parse(k).map_err(|e| anyhow!("--log-key: {e}")))
            .transpose()?;
        match self.target.resolve()? {
            Place::Local(data) => {
                let store = data.open()?;
                if let Some(trusted) = trusted {
                    check_local_log_key(&data, &store, &trusted)?;
                }
                Ok(Box::new(store))
            }
            Place::Remote(remote) => {
                let trusted = trusted.context(
                    "--url needs --log-key KEY, the log key posted on the notice board: the server itself is not trusted, and everything it sends is checked against that key",
                )?;
                let mut bar = crate::audit::Bar::plain();
                let fetched =
                    RemoteLedger::fetch(remote.into_server(), &trusted, &mut |p| bar.update(p));
                bar.finish();
                Ok(Box::new(fetched?))
            }
        }
    }
}

/// `--log-key` with `--data`: the data directory must hold that ledger.
fn check_local_log_key(data: &DataDir, store: &Store, trusted: &VerifierKey) -> Result<()> {
    let state = store.state();
    if state.log_key() != trusted {
        bail!(
            "the ledger in {} has log key {}, not the --log-key given ({trusted}); compare it with the notice board",
            data.root.display(),
            state.log_key()
        );
    }
    Ok(())
}
