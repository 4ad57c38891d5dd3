//! `feeledger demo`: builds (or reopens) the demo community's ledger with
//! `feeledger-demo`, prints how to inspect it, and serves it.

use crate::describe;
use anyhow::{anyhow, Result};
use feeledger_core::entry::Kind;
use feeledger_core::money::format_fen;
use feeledger_demo::{
    contract_path, key_path, Community, Demo, DemoError, Outcome, RETIRING_MEMBER, SAMPLE_UNIT,
    YEAR,
};
use feeledger_ledgerdir::DataDir;
use feeledger_store::{EntryFilter, Order};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// Builds or reopens 星光小区's demo in `data`, with the system clock.
fn open_or_build(data: &Path) -> Result<(Demo, Duration)> {
    let started = Instant::now();
    let demo = feeledger_demo::open_or_build(data, &Community::xingguang(), &crate::clock::now_ms)
        .map_err(|e| match e {
            DemoError::Refused { seq, body, error } => anyhow!(
                "demo entry {seq} ({} {}) was refused (a bug in the demo): {error}",
                body.date,
                describe::summary(&body)
            ),
            e => e.into(),
        })?;
    Ok((demo, started.elapsed()))
}

/// `feeledger demo`: creates or opens the demo, then shows how to inspect it.
/// With `serve_on`, then serves it (web page and API) until interrupted.
pub fn run(data: &Path, serve_on: Option<&str>) -> Result<()> {
    let (demo, elapsed) = open_or_build(data)?;
    print_guide(&demo, elapsed)?;
    let Some(listen) = serve_on else {
        demo.store.close()?;
        return Ok(());
    };
    let vkey = demo.log_key.verifier_key().to_string();
    println!();
    println!(
        "While it is served, the commands above need the data directory, which the server holds;"
    );
    println!("use the server instead, e.g.:");
    println!("  feeledger verify --url http://{listen} --log-key '{vkey}'");
    // An existing demo is reused: check it as `serve` does.
    crate::serve::check_store(&demo.store)?;
    println!("Press Ctrl-C to stop.");
    crate::serve::serve_store(demo.store, demo.log_key, listen)
}

/// A path as a shell word.
fn shell(path: &Path) -> String {
    let text = path.display().to_string();
    if text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@".contains(&b))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Where the demo is, its log key and balances, and what to try.
pub fn guide(demo: &Demo, elapsed: Duration) -> Result<String> {
    let state = demo.store.state();
    let data = shell(&demo.data);
    let vkey = demo.log_key.verifier_key().to_string();
    let mut out = String::new();
    let w = &mut out;
    writeln!(
        w,
        "{} — a demo ledger (DEMO ONLY: its keys come from published seeds)",
        demo.community.name
    )?;
    match demo.outcome {
        Outcome::Created => writeln!(
            w,
            "created {} entries in {:.1} s",
            demo.appended,
            elapsed.as_secs_f64()
        )?,
        Outcome::Finished => writeln!(
            w,
            "finished an interrupted demo: {} more entries in {:.1} s",
            demo.appended,
            elapsed.as_secs_f64()
        )?,
        Outcome::Reused => writeln!(w, "reusing the demo already in {}", demo.data.display())?,
    }
    writeln!(w)?;
    writeln!(
        w,
        "ledger:   {}  (origin {})",
        DataDir::new(&demo.data).store_path().display(),
        state.origin()
    )?;
    writeln!(w, "entries:  {}", state.size())?;
    writeln!(w, "log key:  {vkey}")?;
    writeln!(
        w,
        "fingerprint: {}",
        demo.log_key.verifier_key().fingerprint()
    )?;
    writeln!(
        w,
        "          (the verifier key: a real community posts it on the notice board)"
    )?;
    writeln!(w, "balances:")?;
    for fund in &state.genesis().funds {
        let fen = state.balances().get(&fund.id).copied().unwrap_or(0);
        writeln!(
            w,
            "  {:<16} {:>14} CNY  {}",
            fund.id,
            format_fen(fen),
            fund.name
        )?;
    }
    writeln!(
        w,
        "keys:     {} (mode 0600)",
        key_path(&demo.data, "NAME").display()
    )?;
    for (role, def) in state.roles() {
        // Whom each key stands for, then the key name --key files are named by.
        let names: Vec<String> = def
            .keys
            .iter()
            .map(feeledger_core::entry::KeyDef::person_and_key)
            .collect();
        writeln!(
            w,
            "  {}: {} of {}: {}",
            describe::role_label(*role),
            def.threshold,
            names.len(),
            names.join(", ")
        )?;
    }
    if state.role_of(RETIRING_MEMBER).is_none() {
        writeln!(
            w,
            "  ({RETIRING_MEMBER} left the committee in July: its key no longer signs)"
        )?;
    }

    let repair = demo
        .store
        .list(
            &EntryFilter {
                fund: Some("maintenance".into()),
                kind: Some(Kind::Expenditure),
                ..EntryFilter::default()
            },
            Order::Ascending,
            None,
            1,
        )?
        .entries
        .first()
        .map_or(1, |(seq, _)| *seq);
    let key = |name: &str| shell(&key_path(&demo.data, name));
    let contract = shell(&contract_path(&demo.data));
    writeln!(w)?;
    writeln!(w, "Look around:")?;
    writeln!(w, "  feeledger balances --data {data}")?;
    writeln!(w, "  feeledger list --data {data} --payer {SAMPLE_UNIT}")?;
    writeln!(w, "  feeledger list --data {data} --kind reversal")?;
    writeln!(w, "  feeledger list --data {data} --fund maintenance")?;
    writeln!(
        w,
        "  feeledger show --data {data} {repair}    # the owner-approved elevator repair"
    )?;
    writeln!(w, "  sha256sum {contract}    # the contract it binds")?;
    writeln!(w, "Check it:")?;
    writeln!(w, "  feeledger verify --data {data} --log-key '{vkey}'")?;
    writeln!(
        w,
        "  feeledger receipt --data {data} {repair} --out receipt.txt"
    )?;
    writeln!(
        w,
        "  feeledger verify-receipt receipt.txt --log-key '{vkey}'"
    )?;
    writeln!(w, "  feeledger export --data {data} --format hledger")?;
    writeln!(
        w,
        "Record something (the company proposes, the committee co-signs):"
    )?;
    writeln!(
        w,
        "  feeledger propose --data {data} --key {} income --amount 275.25 --category property_fee --payer {SAMPLE_UNIT} --period {}-01 --memo 预缴",
        key("wuye-zhou"),
        YEAR + 1
    )?;
    writeln!(
        w,
        "  feeledger propose --data {data} --key {} expenditure --amount 1200 --category repairs --payee 宏达机电维修服务部 --memo 单元门禁维修",
        key("wuye-li")
    )?;
    writeln!(
        w,
        "  feeledger sign --data {data} --key {} --key {} PROPOSAL_ID",
        key("weiyuan-wang"),
        key("weiyuan-zhao")
    )?;
    Ok(out)
}

/// Writes the guide to standard output; a closed pipe (`| head`) is not an error.
fn print_guide(demo: &Demo, elapsed: Duration) -> Result<()> {
    let text = guide(demo, elapsed)?;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// `feeledger demo --district N`: a district platform in `data` of `count`
/// demo communities (`feeledger_demo::district`), each a ledger of the
/// shared database under its slug, with `entries` entries each (or each
/// one's whole year); then, with `serve_on`, serves them all as `serve
/// --platform` does.
pub fn run_district(
    data: &Path,
    count: u32,
    entries: Option<u32>,
    serve_on: Option<&str>,
) -> Result<()> {
    let started = Instant::now();
    let platform = feeledger_ledgerdir::PlatformDir::new(data);
    platform.create()?;
    let communities = feeledger_demo::district(count as usize);
    {
        let db = platform.open_db(feeledger_server::platform::PLATFORM_CACHE_BYTES)?;
        // Several communities at once: each commit waits for its flush,
        // and ledgers built side by side share those waits.
        const BUILDERS: usize = 8;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let built: std::sync::Mutex<Vec<(usize, u64)>> = std::sync::Mutex::new(Vec::new());
        let failed: std::sync::Mutex<Option<anyhow::Error>> = std::sync::Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..BUILDERS.min(communities.len()) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some((slug, community)) = communities.get(i) else {
                        return;
                    };
                    let keys_dir = platform.ledger_dir(slug).root;
                    match feeledger_demo::build_shared(
                        &db,
                        slug,
                        &keys_dir,
                        community,
                        entries.map(|n| n as usize),
                        &crate::clock::now_ms,
                    ) {
                        Ok(demo) => built
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((i, demo.store.size())),
                        Err(e) => {
                            let mut failed = failed.lock().unwrap_or_else(|p| p.into_inner());
                            failed.get_or_insert(anyhow!("{slug}: {e}"));
                            // The others stop at their next community.
                            next.store(communities.len(), std::sync::atomic::Ordering::SeqCst);
                            return;
                        }
                    }
                });
            }
        });
        if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        let mut built = built.into_inner().unwrap_or_else(|p| p.into_inner());
        built.sort_unstable();
        // Only the first few are listed; a large district would flood the
        // terminal.
        let lines: Vec<String> = built
            .iter()
            .take(10)
            .map(|(i, size)| {
                let (slug, community) = &communities[*i];
                format!("  /c/{slug}/  {}  ({size} entries)", community.name)
            })
            .collect();
        db.flush()?;
        println!(
            "a district of {} demo communities (DEMO ONLY: their keys come from published seeds) in {}, made in {:.1} s:",
            communities.len(),
            data.display(),
            started.elapsed().as_secs_f64()
        );
        for line in lines {
            println!("{line}");
        }
        if communities.len() > 10 {
            println!("  … and {} more", communities.len() - 10);
        }
        println!(
            "each community's keys are in {}/SLUG/keys/",
            shell(&platform.ledgers_path())
        );
    }
    let Some(listen) = serve_on else {
        return Ok(());
    };
    println!("Press Ctrl-C to stop.");
    crate::serve::run_platform(data, listen, true, None)
}
