//! `feeledger`: the command line of a community's tamper-evident fee ledger.
//!
//! This binary is argument definitions plus glue: validation lives in
//! `feeledger-core`, storage in `feeledger-store`. Every failure prints one
//! line, `error: ...`, and exits non-zero.

mod audit;
mod cosign;
mod datadir;
mod demo;
mod describe;
mod export;
mod init;
mod inspect;
mod keyfile;
mod propose;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use datadir::DataDir;
use keyfile::KeyFile;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "feeledger",
    version,
    about = "A public, tamper-evident ledger of a residential community's money"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a new Ed25519 key: writes the private key file (mode 0600) and prints the public keys.
    Keygen {
        /// The key's name, e.g. committee-wang (for a log key: the ledger's origin).
        #[arg(long)]
        name: String,
        /// Where to write the private key.
        #[arg(long)]
        out: PathBuf,
    },
    /// Create a ledger from a genesis description (TOML or JSON).
    Init {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        genesis: PathBuf,
        /// The checkpoint key; by default a new one named after the origin is made in DATA/log.key.
        #[arg(long)]
        log_key: Option<PathBuf>,
    },
    /// Record an income, expenditure, transfer, reversal or governance change, signed with your key(s).
    Propose {
        #[arg(long)]
        data: PathBuf,
        /// Private key file(s) to sign with.
        #[arg(long = "key", required = true)]
        keys: Vec<PathBuf>,
        /// Business date, YYYY-MM-DD (default: today, UTC).
        #[arg(long)]
        date: Option<String>,
        #[command(subcommand)]
        kind: propose::ProposeKind,
    },
    /// Show a pending proposal in plain words, then co-sign it.
    Sign {
        #[arg(long)]
        data: PathBuf,
        #[arg(long = "key", required = true)]
        keys: Vec<PathBuf>,
        /// The proposal id (64 hex digits).
        id: String,
        /// Sign without asking.
        #[arg(long)]
        yes: bool,
    },
    /// List pending proposals.
    Proposals {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Cosign the latest checkpoint, after checking it is consistent with the last one this key cosigned.
    CosignCheckpoint {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        key: PathBuf,
        /// Remembers the last checkpoint this key cosigned (created on first use).
        #[arg(long)]
        state: PathBuf,
    },
    /// Show one entry.
    Show {
        #[arg(long)]
        data: PathBuf,
        seq: u64,
        #[arg(long)]
        json: bool,
    },
    /// List entries, newest first.
    List {
        #[arg(long)]
        data: PathBuf,
        #[command(flatten)]
        filter: inspect::FilterArgs,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Fund balances.
    Balances {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Audit a ledger: every leaf, the chain, every signature and rule, every balance, the signed root.
    Verify {
        #[arg(long)]
        data: PathBuf,
        /// The log's verifier key, as posted on the notice board (name+hex8+base64).
        #[arg(long)]
        log_key: Option<String>,
        /// A checkpoint saved earlier: the log must extend it.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Save the verified latest checkpoint here, for next time.
        #[arg(long)]
        save_checkpoint: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Write a C2SP tlog-proof receipt for one entry.
    Receipt {
        #[arg(long)]
        data: PathBuf,
        seq: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Export the ledger for accounting tools: an hledger journal, CSV (one row per entry) or JSON.
    Export {
        #[arg(long)]
        data: PathBuf,
        #[arg(long, value_enum)]
        format: export::ExportFormat,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Make a realistic sample community ledger (about 300 units, a year of activity) and show how to inspect it.
    Demo {
        /// Where to create it (default: ./demo-data). An existing demo there is reused.
        #[arg(long, default_value = "demo-data")]
        data: PathBuf,
    },
    /// Check a receipt offline against the trusted log key.
    VerifyReceipt {
        file: PathBuf,
        #[arg(long)]
        log_key: String,
        /// Cosigner verifier keys (type 0x04) whose cosignatures to check.
        #[arg(long = "cosigner")]
        cosigners: Vec<String>,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        let mut message = chain.join(": ");
        message = message.replace('\n', " ");
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn read_keys(paths: &[PathBuf]) -> Result<Vec<KeyFile>> {
    paths.iter().map(|p| KeyFile::read(p)).collect()
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Keygen { name, out } => {
            let key = KeyFile::generate(&name)?;
            key.write_new(&out)?;
            println!(
                "wrote {} (private: keep it secret; mode 0600)",
                out.display()
            );
            println!("name:          {}", key.name());
            println!("public_key:    {}", key.public_key_base64());
            println!("verifier key:  {}", key.verifier_key());
            println!("cosigner key:  {}", key.cosigner()?.verifier_key());
        }
        Command::Init {
            data,
            genesis,
            log_key,
        } => {
            let store = init::init(&data, &genesis, log_key.as_deref())?;
            let state = store.state();
            println!("created ledger {} in {}", state.origin(), data.display());
            println!("log key (post it on the notice board): {}", state.log_key());
        }
        Command::Propose {
            data,
            keys,
            date,
            kind,
        } => {
            let keys = read_keys(&keys)?;
            let outcome =
                propose::propose_local(&DataDir::new(&data), &keys, date.as_deref(), &kind)?;
            propose::report(&outcome);
        }
        Command::Sign {
            data,
            keys,
            id,
            yes,
        } => {
            let keys = read_keys(&keys)?;
            let outcome = propose::sign_local(&DataDir::new(&data), &keys, &id, yes)?;
            propose::report(&outcome);
        }
        Command::Proposals { data, json } => {
            inspect::proposals(&DataDir::new(&data).open()?, json)?
        }
        Command::CosignCheckpoint { data, key, state } => {
            cosign::cosign_local(&DataDir::new(&data), &KeyFile::read(&key)?, &state)?
        }
        Command::Show { data, seq, json } => {
            inspect::show(&DataDir::new(&data).open()?, seq, json)?
        }
        Command::List {
            data,
            filter,
            limit,
            json,
        } => inspect::list(&DataDir::new(&data).open()?, &filter.build()?, limit, json)?,
        Command::Balances { data, json } => inspect::balances(&DataDir::new(&data).open()?, json)?,
        Command::Verify {
            data,
            log_key,
            checkpoint,
            save_checkpoint,
            json,
        } => {
            let ok = inspect::verify_local(
                &data,
                log_key.as_deref(),
                checkpoint.as_deref(),
                save_checkpoint.as_deref(),
                json,
            )?;
            if !ok {
                std::process::exit(1);
            }
        }
        Command::Receipt { data, seq, out } => {
            let store = DataDir::new(&data).open()?;
            let text = inspect::receipt(&store, seq)?;
            std::fs::write(&out, text)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("wrote receipt for entry {seq} to {}", out.display());
        }
        Command::Export { data, format, out } => {
            let store = DataDir::new(&data).open()?;
            export::run(&store, format, out.as_deref())?
        }
        Command::Demo { data } => demo::run(&data)?,
        Command::VerifyReceipt {
            file,
            log_key,
            cosigners,
        } => inspect::verify_receipt(&file, &log_key, &cosigners)?,
    }
    Ok(())
}
