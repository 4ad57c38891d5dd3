//! `feeledger`: the command line of a community's tamper-evident fee ledger.
//!
//! This binary is argument definitions plus glue: validation lives in
//! `feeledger-core`, storage in `feeledger-store`, data directories, key
//! files and `init` in `feeledger-ledgerdir`, the demo in `feeledger-demo`. Every failure prints one
//! line, `error: ...`, and exits non-zero.

mod audit;
mod backup;
mod clock;
mod cosign;
mod demo;
mod export;
mod genesis;
mod import;
mod inspect;
mod propose;
mod remote;
mod remote_ledger;
mod serve;
mod sign;
mod statement;

// The descriptions of entries are the report library's; the commands that
// print them name them `crate::describe`.
use feeledger_report::describe;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use feeledger_core::entry::{check_display_name, KeyDef};
use feeledger_core::keyfile::{KeyFileError, KeyUse};
use feeledger_ledgerdir::{DataDir, KeyFile, KeyFileIo as _, LogKeySource};
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

/// Where the ledger is: a local data directory or a server.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct Target {
    /// A local data directory.
    #[arg(long)]
    data: Option<PathBuf>,
    /// A feeledger server, e.g. http://127.0.0.1:8080
    #[arg(long)]
    url: Option<String>,
}

/// Where `verify` reads the ledger: a data directory, a server, or a
/// backup made with `export --format tiles`.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct VerifyTarget {
    /// A local data directory.
    #[arg(long)]
    data: Option<PathBuf>,
    /// A feeledger server, e.g. http://127.0.0.1:8080
    #[arg(long)]
    url: Option<String>,
    /// A tiles backup (`export --format tiles`): its directory, or the http(s) URL of a static mirror of it. Needs only the public --log-key.
    #[arg(long)]
    tiles: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make a new Ed25519 key: writes the private key file (mode 0600) and prints the public keys.
    Keygen {
        /// The key's name: a-z 0-9 . _ -, e.g. weiyuan-wang (with --log: the ledger's origin).
        #[arg(long)]
        name: String,
        /// Where to write the private key.
        #[arg(long)]
        out: PathBuf,
        /// A log (checkpoint) key: the name is the ledger's origin, e.g. example.org/xingguang.
        #[arg(long)]
        log: bool,
        /// Whom the key stands for, as residents will read it (e.g. 王建国): at most 16 Chinese characters. Printed in the key's description (`key def:`) for the genesis or the enrolment, where the roles sign it.
        #[arg(long, conflicts_with = "log")]
        display_name: Option<String>,
    },
    /// Create a ledger from a genesis description (TOML or JSON), or from a signed genesis draft (--draft, --signature).
    Init {
        /// The new ledger's data directory (or use --platform and --slug).
        #[arg(
            long,
            required_unless_present = "platform",
            conflicts_with = "platform"
        )]
        data: Option<PathBuf>,
        /// Add the ledger to this platform directory (many ledgers in one server), under --slug; a running `serve --platform` serves it within a second.
        #[arg(long, requires = "slug")]
        platform: Option<PathBuf>,
        /// The ledger's name in the platform and its address /c/SLUG/: lowercase letters, digits, hyphens.
        #[arg(long, requires = "platform")]
        slug: Option<String>,
        /// A genesis description whose `signers` are the private key files that sign it.
        #[arg(long, required_unless_present = "draft", conflicts_with = "draft")]
        genesis: Option<PathBuf>,
        /// A genesis draft (`feeledger genesis draft`), signed by the founders apart (needs --signature and --log-key).
        #[arg(long, requires = "log_key")]
        draft: Option<PathBuf>,
        /// A founder's signature file of the draft (`feeledger genesis sign`); one per founder.
        #[arg(long = "signature", requires = "draft")]
        signatures: Vec<PathBuf>,
        /// The checkpoint key; by default a new one named after the origin is made in DATA/log.key. With --draft: the one the draft names.
        #[arg(long)]
        log_key: Option<PathBuf>,
    },
    /// A genesis ceremony without moving private keys: `genesis draft`, then `genesis sign` by each founder, then `init --draft`.
    Genesis {
        #[command(subcommand)]
        command: genesis::GenesisCommand,
    },
    /// Record an income, expenditure, transfer, reversal or governance change, signed with your key(s).
    Propose {
        #[command(flatten)]
        target: Target,
        /// Private key file(s) to sign with.
        #[arg(long = "key", required = true)]
        keys: Vec<PathBuf>,
        /// Business date, YYYY-MM-DD, 2000 or later (default: today, UTC).
        #[arg(long, global = true)]
        date: Option<String>,
        /// Record without asking (for scripts); the proposal is still printed.
        #[arg(long, global = true)]
        yes: bool,
        #[command(subcommand)]
        kind: propose::ProposeKind,
    },
    /// Record a month of fee payments from a CSV file (房号,金额,类别,缴费日期,...; docs/import.md), in one commit.
    Import {
        #[command(flatten)]
        target: Target,
        /// The CSV file: UTF-8 (with or without BOM) or GBK, as Excel saves it.
        #[arg(long)]
        csv: PathBuf,
        /// Private key file(s) to sign every row with; together they must meet the income rule.
        #[arg(long = "key", required = true)]
        keys: Vec<PathBuf>,
        /// Record without asking (for scripts); the preview is still printed.
        #[arg(long)]
        yes: bool,
    },
    /// Show a pending proposal in plain words (who proposed and signed it, the balance after), then co-sign it.
    Sign {
        #[command(flatten)]
        target: Target,
        #[arg(long = "key", required = true)]
        keys: Vec<PathBuf>,
        /// The proposal id: its 64 hex digits, or any unique prefix of at least 8.
        id: String,
        /// Sign without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Withdraw a pending proposal: by its proposer, or by as many members of a role its rule names as the role's threshold.
    Withdraw {
        #[command(flatten)]
        target: Target,
        #[arg(long = "key", required = true)]
        keys: Vec<PathBuf>,
        /// The proposal id: its 64 hex digits, or any unique prefix of at least 8.
        id: String,
        /// Withdraw without asking.
        #[arg(long)]
        yes: bool,
    },
    /// List pending proposals, who signed them and who still must.
    Proposals {
        #[command(flatten)]
        from: remote_ledger::ReadFrom,
        #[arg(long)]
        json: bool,
    },
    /// Cosign the latest checkpoint, after checking it is consistent with the last one this key cosigned.
    CosignCheckpoint {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        key: PathBuf,
        /// Remembers the last checkpoint this key cosigned (created on first use).
        #[arg(long)]
        state: PathBuf,
        /// With --url: if the server records another last size for this key (a restored ledger), cosign from the size it records.
        #[arg(long, requires = "url")]
        resync: bool,
    },
    /// Show one entry.
    Show {
        #[command(flatten)]
        from: remote_ledger::ReadFrom,
        seq: u64,
        #[arg(long)]
        json: bool,
    },
    /// List entries, newest first.
    List {
        #[command(flatten)]
        from: remote_ledger::ReadFrom,
        #[command(flatten)]
        filter: inspect::FilterArgs,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Fund balances.
    Balances {
        #[command(flatten)]
        from: remote_ledger::ReadFrom,
        #[arg(long)]
        json: bool,
    },
    /// Audit a ledger: every leaf, the chain, every signature and rule, every balance, the signed root.
    Verify {
        #[command(flatten)]
        target: VerifyTarget,
        /// The log's verifier key, as posted on the notice board (name+hex8+base64). Required with --url and --tiles.
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
        #[command(flatten)]
        from: remote_ledger::ReadFrom,
        seq: u64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Export the ledger for accounting tools (an hledger journal, CSV, JSON), or back it up as C2SP tiles.
    Export {
        #[command(flatten)]
        from: remote_ledger::ReadFrom,
        #[arg(long, value_enum)]
        format: export::ExportFormat,
        /// Output file (default: standard output); for tiles, a new directory (required).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Write the notice-board statement (公示) of a month, quarter or year as a printable A4 HTML file.
    Statement(statement::StatementArgs),
    /// Rebuild a data directory from a backup made with `export --format tiles`, or from a server's mirror in object storage.
    Restore {
        /// The backup directory, or s3://BUCKET/PREFIX (a bucket `serve --mirror` writes; endpoint, region and credentials from AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
        #[arg(long)]
        from: String,
        /// The new data directory (must not hold a ledger).
        #[arg(long)]
        data: PathBuf,
        /// The log's private key file; its verifier key must be the genesis log key. Copied to DATA/log.key.
        #[arg(long)]
        log_key: PathBuf,
    },
    /// Rebuild a store's derived data (Merkle tiles, indexes, totals, snapshot) from its entries, after damage.
    Rebuild {
        #[arg(long)]
        data: PathBuf,
    },
    /// Make a realistic sample community ledger (about 300 units, a year of activity) and serve it.
    Demo {
        /// Where to create it (default: ./demo-data). An existing demo there is reused.
        #[arg(long, default_value = "demo-data")]
        data: PathBuf,
        /// Address to serve it on (web page and API).
        #[arg(long, default_value = serve::LISTEN_DEFAULT)]
        listen: String,
        /// Create it and print how to inspect it, but do not serve it.
        #[arg(long)]
        no_serve: bool,
        /// Make a district platform of this many communities in DATA instead, each under /c/SLUG/.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        district: Option<u32>,
        /// With --district: entries per community (default: each community's whole year).
        #[arg(long, requires = "district", value_parser = clap::value_parser!(u32).range(1..))]
        entries: Option<u32>,
    },
    /// Serve one ledger over HTTP (API, C2SP tiles, checkpoints, witness endpoint).
    Serve {
        /// The ledger's data directory.
        #[arg(
            long,
            required_unless_present = "platform",
            conflicts_with = "platform"
        )]
        data: Option<PathBuf>,
        /// Serve every ledger of this platform directory, each under /c/SLUG/, with an index at /.
        #[arg(long)]
        platform: Option<PathBuf>,
        /// Address to listen on; loopback unless you say otherwise.
        #[arg(long, default_value = serve::LISTEN_DEFAULT)]
        listen: String,
        /// Skip the full audit of the store (every leaf, signature, hash,
        /// index and total), which otherwise runs in the background while
        /// reads are served, writes waiting for it. The head is checked
        /// before serving either way. With --platform: every ledger's.
        #[arg(long)]
        no_check: bool,
        /// Mirror the log's C2SP tiles and checkpoint to s3://BUCKET/PREFIX after every commit (with --platform: each ledger under PREFIX/c/SLUG), for readers with no server in the path (endpoint, region and credentials from AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; AWS_ALLOW_HTTP=true for plain HTTP). Tiles are never overwritten; add ?forbid_overwrite=oss or =cos for Aliyun OSS's or Tencent COS's own header.
        #[arg(long)]
        mirror: Option<String>,
    },
    /// Retire a ledger of a platform: it is no longer served (410), and its records are kept.
    Retire {
        #[arg(long)]
        platform: PathBuf,
        #[arg(long)]
        slug: String,
    },
    /// Register an independent witness's cosigner key (type 0x04), whose cosignatures the ledger collects.
    AddWitness {
        #[arg(long)]
        data: PathBuf,
        /// The witness's verifier key: name+hex8+base64 with type 0x04.
        key: String,
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

/// glibc gives each thread that allocates concurrently its own arena, up to
/// 8 per core, and each keeps its freed memory. Under read load the
/// server's tokio and blocking-pool threads spread over many arenas, and
/// two arenas cut its peak memory markedly (docs/performance.md, "Server
/// memory", has the figures). Only the server is limited, since the audit
/// ran slower with two arenas. An environment's `MALLOC_ARENA_MAX` still
/// wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        const ARENAS: libc::c_int = 2;
        // SAFETY: called before any other thread starts; mallopt only sets
        // a parameter of the allocator.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        }
    }
}

fn main() {
    let cli = Cli::parse();
    let serves = matches!(cli.command, Command::Serve { .. } | Command::Demo { .. });
    // Die quietly when stdout is closed (`feeledger list | head`), as Unix
    // tools do, instead of panicking on the write. Not in a server: there
    // SIGPIPE also comes from sockets (a vectored write, which takes no
    // MSG_NOSIGNAL, to a peer that closed: an S3 server answering the
    // mirror's create-only PUT with 412 before reading its body), and
    // would kill the process; ignored, as Rust leaves it, it is an EPIPE
    // on that one connection.
    #[cfg(unix)]
    if !serves {
        // SAFETY: restoring the default disposition of SIGPIPE before any
        // thread starts has no preconditions.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    if serves {
        limit_malloc_arenas();
    }
    if let Err(e) = run(cli) {
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        let mut message = chain.join(": ");
        message = message.replace('\n', " ");
        eprintln!("error: {message}");
        std::process::exit(1);
    }
}

fn read_keys(paths: &[PathBuf]) -> Result<Vec<KeyFile>> {
    Ok(KeyFile::read_all(paths)?)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Keygen {
            name,
            out,
            log,
            display_name,
        } => {
            // Checked before any key is made or file written.
            if let Some(person) = &display_name {
                check_display_name(person).map_err(|e| {
                    anyhow::anyhow!("--display-name {person:?}: {e}; e.g. --display-name 王建国")
                })?;
            }
            let use_ = if log { KeyUse::Log } else { KeyUse::Role };
            let key = match KeyFile::new_checked(&name, use_, clock::new_signing_key()) {
                Err(e @ (KeyFileError::RoleKeyName { .. } | KeyFileError::LogKeyName { .. })) => {
                    anyhow::bail!("--name {e}")
                }
                made => made?,
            };
            key.write_new(&out)?;
            println!(
                "wrote {} (private: keep it secret; mode 0600)",
                out.display()
            );
            println!("name:          {}", key.name());
            if let Some(person) = &display_name {
                println!("display_name:  {person}");
            }
            println!("public_key:    {}", key.public_key_base64());
            println!("verifier key:  {}", key.verifier_key());
            println!("cosigner key:  {}", key.cosigner()?.verifier_key());
            if !log {
                // The role key as a genesis description, a roles file or the
                // page's enrolment takes it, name and all.
                let def = KeyDef {
                    display_name,
                    name: key.name().to_string(),
                    public_key: key.public_key_base64(),
                };
                println!("key def:       {}", serde_json::to_string(&def)?);
            }
        }
        Command::Init {
            data,
            platform,
            slug,
            genesis,
            draft,
            signatures,
            log_key,
        } => {
            let data = match (data, &platform, &slug) {
                (Some(data), _, _) => data,
                (None, Some(platform), Some(slug)) => serve::platform_ledger_dir(platform, slug)?,
                _ => unreachable!("clap requires --data, or --platform with --slug"),
            };
            let store = match (&genesis, &draft, &log_key) {
                (_, Some(draft), Some(log_key)) => feeledger_ledgerdir::init_from_draft(
                    &data,
                    draft,
                    &signatures,
                    log_key,
                    clock::now_ms(),
                )?,
                (Some(genesis), _, _) => {
                    let log_key = match &log_key {
                        Some(path) => LogKeySource::File(path),
                        None => LogKeySource::New(Box::new(clock::new_signing_key())),
                    };
                    feeledger_ledgerdir::init(&data, genesis, log_key, clock::fresh())?
                }
                _ => unreachable!("clap requires --genesis, or --draft with --log-key"),
            };
            let state = store.state();
            match (&platform, &slug) {
                (Some(platform), Some(slug)) => println!(
                    "added ledger {} to the platform {} as {slug}; a running `feeledger serve --platform` serves it at /c/{slug}/ within a second",
                    state.origin(),
                    platform.display()
                ),
                _ => println!("created ledger {} in {}", state.origin(), data.display()),
            }
            println!("log key (post it on the notice board): {}", state.log_key());
            println!(
                "fingerprint (residents compare it with the web page): {}",
                state.log_key().fingerprint()
            );
        }
        Command::Genesis { command } => genesis::run(command)?,
        Command::Propose {
            target,
            keys,
            date,
            yes,
            kind,
        } => {
            let keys = read_keys(&keys)?;
            match target.resolve()? {
                Place::Local(data) => {
                    propose::propose_local(&data, &keys, date.as_deref(), yes, &kind)?
                }
                Place::Remote(remote) => {
                    propose::propose_remote(&remote, &keys, date.as_deref(), yes, &kind)?
                }
            }
        }
        Command::Import {
            target,
            csv,
            keys,
            yes,
        } => {
            let keys = read_keys(&keys)?;
            match target.resolve()? {
                Place::Local(data) => import::import_local(&data, &keys, &csv, yes)?,
                Place::Remote(remote) => import::import_remote(&remote, &keys, &csv, yes)?,
            }
        }
        Command::Sign {
            target,
            keys,
            id,
            yes,
        } => {
            let keys = read_keys(&keys)?;
            match target.resolve()? {
                Place::Local(data) => sign::sign_local(&data, &keys, &id, yes)?,
                Place::Remote(remote) => sign::sign_remote(&remote, &keys, &id, yes)?,
            }
        }
        Command::Withdraw {
            target,
            keys,
            id,
            yes,
        } => {
            let keys = read_keys(&keys)?;
            match target.resolve()? {
                Place::Local(data) => sign::withdraw_local(&data, &keys, &id, yes)?,
                Place::Remote(remote) => sign::withdraw_remote(&remote, &keys, &id, yes)?,
            }
        }
        Command::Proposals { from, json: true } => inspect::proposals(&*from.open()?, true)?,
        Command::Proposals { from, json: false } => sign::list_proposals(&*from.open()?)?,
        Command::CosignCheckpoint {
            target,
            key,
            state,
            resync,
        } => {
            let key = KeyFile::read(&key)?;
            match target.resolve()? {
                Place::Local(data) => cosign::cosign_local(&data, &key, &state)?,
                Place::Remote(remote) => cosign::cosign_remote(&remote, &key, &state, resync)?,
            }
        }
        Command::Show { from, seq, json } => inspect::show(&*from.open()?, seq, json)?,
        Command::List {
            from,
            filter,
            limit,
            json,
        } => {
            let filter = filter.build()?;
            inspect::list(&*from.open()?, &filter, limit, json)?
        }
        Command::Balances { from, json } => inspect::balances(&*from.open()?, json)?,
        Command::Verify {
            target,
            log_key,
            checkpoint,
            save_checkpoint,
            json,
        } => {
            let (saved, save_to) = (checkpoint.as_deref(), save_checkpoint.as_deref());
            let VerifyTarget { data, url, tiles } = target;
            let ok = match tiles {
                Some(tiles) => {
                    let log_key = log_key.context(
                        "--tiles needs --log-key (the log's verifier key from the notice board): the backup itself is not trusted",
                    )?;
                    inspect::verify_tiles(&tiles, &log_key, saved, save_to, json)?
                }
                None => match (Target { data, url }).resolve()? {
                    Place::Local(data) => {
                        inspect::verify_local(&data.root, log_key.as_deref(), saved, save_to, json)?
                    }
                    Place::Remote(remote) => {
                        let log_key = log_key
                            .context("--url needs --log-key: the server itself is not trusted")?;
                        inspect::verify_remote(&remote, &log_key, saved, save_to, json)?
                    }
                },
            };
            if !ok {
                std::process::exit(1);
            }
        }
        Command::Receipt { from, seq, out } => {
            let text = inspect::receipt(&*from.open()?, seq)?;
            std::fs::write(&out, text)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("wrote receipt for entry {seq} to {}", out.display());
        }
        Command::Export { from, format, out } => export::run_from(from, format, out.as_deref())?,
        Command::Statement(args) => statement::run(args)?,
        Command::Restore {
            from,
            data,
            log_key,
        } => backup::restore(&from, &data, &log_key)?,
        Command::Rebuild { data } => backup::rebuild(&data)?,
        Command::Demo {
            data,
            listen,
            no_serve,
            district: Some(communities),
            entries,
        } => demo::run_district(
            &data,
            communities,
            entries,
            (!no_serve).then_some(listen.as_str()),
        )?,
        Command::Demo {
            data,
            listen,
            no_serve,
            district: None,
            ..
        } => demo::run(&data, (!no_serve).then_some(listen.as_str()))?,
        Command::Serve {
            data: Some(data),
            listen,
            no_check,
            mirror,
            ..
        } => serve::run(&DataDir::new(&data), &listen, !no_check, mirror.as_deref())?,
        Command::Serve {
            platform: Some(platform),
            listen,
            no_check,
            mirror,
            ..
        } => serve::run_platform(&platform, &listen, !no_check, mirror.as_deref())?,
        Command::Serve { .. } => unreachable!("clap requires --data or --platform"),
        Command::Retire { platform, slug } => {
            let since = feeledger_report::describe::format_time_ms(clock::now_ms());
            feeledger_ledgerdir::PlatformDir::new(&platform).retire(&slug, &since)?;
            println!(
                "retired {slug}: a running `feeledger serve --platform` stops serving it within a second and answers 410; its records stay in {}",
                platform.display()
            );
        }
        Command::AddWitness { data, key } => {
            let key = feeledger_core::note::VerifierKey::parse(&key)
                .map_err(|e| anyhow::anyhow!("witness key: {e}"))?;
            DataDir::new(&data).open()?.add_witness(&key)?;
            println!("registered witness {}", key.name());
        }
        Command::VerifyReceipt {
            file,
            log_key,
            cosigners,
        } => inspect::verify_receipt(&file, &log_key, &cosigners)?,
    }
    Ok(())
}

enum Place {
    Local(DataDir),
    Remote(remote::Remote),
}

impl Target {
    fn resolve(self) -> Result<Place> {
        match (self.data, self.url) {
            (Some(data), None) => Ok(Place::Local(DataDir::new(&data))),
            (None, Some(url)) => Ok(Place::Remote(remote::Remote::new(&url)?)),
            _ => anyhow::bail!("give exactly one of --data and --url"),
        }
    }
}
