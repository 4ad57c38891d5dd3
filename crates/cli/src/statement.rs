//! `feeledger statement`: the notice-board statement (公示) of a month,
//! quarter or year, as one printable A4 HTML file. The figures, the digest
//! and the page are `feeledger_report::statement`'s; from `--url`, the
//! whole ledger is verified against the log key before anything is
//! computed (`feeledger_audit::RemoteLedger`), so no unverified number is
//! printed.

use crate::remote_ledger::ReadFrom;
use anyhow::{Context, Result};
use feeledger_report::statement::{Lang, Period, Statement};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LangArg {
    /// 中文
    Zh,
    /// English
    En,
}

#[derive(Debug, clap::Args)]
pub struct StatementArgs {
    #[command(flatten)]
    from: ReadFrom,
    /// The period: a month (2025-12), a quarter (2025-Q4) or a year (2025).
    #[arg(long)]
    period: String,
    /// The HTML file to write.
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "zh")]
    lang: LangArg,
    /// The address of the ledger's page that the QR code opens (default:
    /// the --url read from).
    #[arg(long)]
    link_base: Option<String>,
}

/// Checks the period and the link first, then reads (and from a server,
/// verifies) the ledger, and writes the statement beside `--out` before
/// renaming it into place.
pub fn run(args: StatementArgs) -> Result<()> {
    let period = Period::parse(&args.period)?;
    let link_base = match (args.link_base, args.from.url()) {
        (Some(base), _) => base,
        (None, Some(url)) => url.to_string(),
        (None, None) => anyhow::bail!(
            "--data needs --link-base URL: the address of the ledger's page that the statement's QR code opens, e.g. --link-base https://ledger.example"
        ),
    };
    if !(link_base.starts_with("https://") || link_base.starts_with("http://")) {
        anyhow::bail!(
            "--link-base {link_base:?} is not a web address: give the ledger page's address, starting with https:// or http://"
        );
    }
    let lang = match args.lang {
        LangArg::Zh => Lang::Zh,
        LangArg::En => Lang::En,
    };
    let view = args.from.open()?;
    let statement = Statement::for_period(&*view, period)?;
    let html = statement.to_html(lang, &link_base)?;
    let out = &args.out;
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, html)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, out)
        .with_context(|| format!("cannot rename {} to {}", partial.display(), out.display()))?;
    println!(
        "wrote the {period} statement of entries 0..{} to {} (check code {})",
        statement.figures.size,
        out.display(),
        statement.figures.digest()?
    );
    Ok(())
}
