//! Printing what the auditor ([`feeledger_audit`]) found, and its progress
//! bar.

use feeledger_audit::{Progress, Report};

/// A progress bar on stderr, drawn from an audit's [`Progress`] reports
/// (hidden when stderr is not a terminal). Made when the first report
/// gives the total.
#[derive(Default)]
pub struct Bar {
    bar: Option<indicatif::ProgressBar>,
    /// With the template a data directory's audit draws (entries, rate and
    /// time left).
    styled: bool,
}

impl Bar {
    /// A plain bar, as `verify --url` and `--tiles` draw.
    pub fn plain() -> Bar {
        Bar::default()
    }

    /// A bar with entries, rate and time left, as `verify --data` draws.
    pub fn styled() -> Bar {
        Bar {
            bar: None,
            styled: true,
        }
    }

    /// Moves the bar to `progress`.
    pub fn update(&mut self, progress: Progress) {
        let styled = self.styled;
        let bar = self.bar.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new(progress.entries_total);
            if styled {
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{bar:40} {pos}/{len} entries ({per_sec}, {eta})",
                    )
                    .expect("template parses"),
                );
            }
            bar
        });
        bar.set_position(progress.entries_checked);
    }

    /// Clears the bar once the audit is over.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

pub fn print_report(report: &Report, json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(report).expect("report serializes")
        );
        return;
    }
    match &report.failure {
        None => println!("OK: the ledger verifies"),
        Some(f) => match f.seq {
            Some(seq) => println!("FAILED at entry {seq}: {}", f.cause),
            None => println!("FAILED: {}", f.cause),
        },
    }
    if let Some(origin) = &report.origin {
        println!("ledger:      {origin}");
    }
    if report.failure.is_some() {
        // Only what was verified: the entries before the failure. Their
        // root and balances were never signed, so they are not shown.
        if report.entries > 0 {
            println!("entries:     {} checked before the failure", report.entries);
        }
        return;
    }
    println!("entries:     {} checked", report.entries);
    if let Some(root) = &report.root {
        println!("root:        {root}");
    }
    if let Some(c) = &report.checkpoint {
        println!(
            "checkpoint:  size {} signed by the log key; cosigned by: {}",
            c.size,
            if c.cosigned_by.is_empty() {
                "nobody yet".to_string()
            } else {
                c.cosigned_by.join(", ")
            }
        );
        for u in &c.unverified_cosignatures {
            println!(
                "unverified:  a cosignature line by {} (key id {}), a key this verifier does not know (not a role key at size {}, not a witness key given); not checked, not counted",
                u.name, u.key_id, c.size
            );
        }
    }
    if let Some(size) = report.consistent_with_saved_size {
        println!("consistent:  extends the saved checkpoint of size {size}");
    }
    for (fund, fen) in &report.balances_fen {
        println!(
            "balance:     {fund:<16} {:>16} CNY",
            feeledger_core::money::format_fen(*fen)
        );
    }
}
