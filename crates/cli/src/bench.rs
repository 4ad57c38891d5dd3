//! `feeledger bench`: measures every performance figure of the ledger
//! against a physical ceiling measured in the same run on the same machine.
//!
//! Signature checking (Ed25519 `verify_strict`) and fsync bound what the
//! ledger can do, so each figure is printed with the ceiling it is measured
//! against and the ratio to it. One line per figure:
//!
//! ```text
//! figure  <name>  <value> <unit>  ceiling <value> <unit>  ratio <r>
//! ```

use crate::datadir::DataDir;
use crate::init::sign_body;
use crate::keyfile::KeyFile;
use anyhow::{bail, Context, Result};
use feeledger_core::entry::{
    default_rules, Body, Content, Date, Expenditure, ExpenseCategory, FundDef, Genesis, Income,
    IncomeCategory, KeyDef, Leaf, Month, Role, RoleDef,
};
use feeledger_core::hash::Hash;
use feeledger_store::{Store, Submission, BATCH_ENTRIES_MAX};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Share of expenditures (3 signatures) among generated entries; the rest
/// are incomes (1 signature).
const EXPENDITURE_PERCENT: u64 = 20;

/// How long the raw `verify_strict` rate is measured.
const RAW_VERIFY_DURATION: Duration = Duration::from_millis(1_500);

/// Entries per generated batch handed to the store.
const IMPORT_BATCH: usize = BATCH_ENTRIES_MAX;

pub struct BenchArgs {
    pub entries: u64,
    pub dir: Option<PathBuf>,
}

/// One printed figure.
pub struct Figure {
    pub name: &'static str,
    pub value: f64,
    pub unit: &'static str,
    pub ceiling: Option<(f64, &'static str)>,
}

impl Figure {
    fn print(&self) {
        match self.ceiling {
            Some((ceiling, unit)) => println!(
                "figure  {:<28} {:>12.1} {:<10} ceiling {:>12.1} {:<10} ratio {:.2}",
                self.name,
                self.value,
                self.unit,
                ceiling,
                unit,
                self.value / ceiling
            ),
            None => println!(
                "figure  {:<28} {:>12.1} {}",
                self.name, self.value, self.unit
            ),
        }
    }
}

/// Fixed bench keys: derived from published seeds, for measurement only.
pub struct BenchKeys {
    pub company: KeyFile,
    pub committee: Vec<KeyFile>,
    pub log: KeyFile,
}

pub const ORIGIN: &str = "bench.feeledger.local/city";

impl BenchKeys {
    pub fn new() -> Result<BenchKeys> {
        let seed = |name: &str| {
            feeledger_core::hash::sha256(format!("feeledger bench key {name}").as_bytes()).0
        };
        Ok(BenchKeys {
            company: KeyFile::from_seed("wuye-1", seed("wuye-1"))?,
            committee: ["weiyuan-1", "weiyuan-2", "weiyuan-3"]
                .iter()
                .map(|n| KeyFile::from_seed(n, seed(n)))
                .collect::<Result<_>>()?,
            log: KeyFile::from_seed(ORIGIN, seed("log"))?,
        })
    }

    fn key_def(k: &KeyFile) -> KeyDef {
        KeyDef {
            name: k.name().to_string(),
            public_key: k.public_key_base64(),
        }
    }

    pub fn genesis_leaf(&self) -> Vec<u8> {
        let mut roles = feeledger_core::entry::Roles::new();
        roles.insert(
            Role::Company,
            RoleDef {
                threshold: 1,
                keys: vec![Self::key_def(&self.company)],
            },
        );
        roles.insert(
            Role::Committee,
            RoleDef {
                threshold: 2,
                keys: self.committee.iter().map(Self::key_def).collect(),
            },
        );
        let body = Body {
            ledger: ORIGIN.into(),
            date: Date {
                year: 2020,
                month: 1,
                day: 1,
            },
            nonce: "genesis".into(),
            content: Content::Genesis(Genesis {
                name: "基准小区 Bench Community".into(),
                currency: "CNY".into(),
                minor_unit: "fen".into(),
                minor_units_per_major: 100,
                funds: ["maintenance", "operating", "public_revenue"]
                    .iter()
                    .map(|id| FundDef {
                        id: id.to_string(),
                        name: id.to_string(),
                    })
                    .collect(),
                roles,
                rules: default_rules(false),
                log_key: self.log.verifier_key().to_string(),
            }),
        };
        let mut keys: Vec<&KeyFile> = vec![&self.company];
        keys.extend(self.committee.iter().take(2));
        let signatures = sign_refs(&body, &keys);
        Leaf {
            seq: 0,
            prev: Hash::ZERO,
            time_ms: 1,
            body,
            signatures,
        }
        .to_canonical_bytes()
    }
}

fn sign_refs(body: &Body, keys: &[&KeyFile]) -> Vec<feeledger_core::entry::EntrySignature> {
    let owned: Vec<KeyFile> = keys
        .iter()
        .map(|k| KeyFile::from_seed(k.name(), k.signing_key().to_bytes()).expect("valid key"))
        .collect();
    sign_body(body, &owned)
}

/// The i-th generated entry (1-based): about 80% property fees signed by the
/// company, 20% expenditures signed by the company and two committee members.
/// Incomes run ahead of spending so no fund is ever overdrawn.
pub fn generated_entry(keys: &BenchKeys, i: u64) -> Submission {
    let day = (i / 100) % 28 + 1;
    let month = ((i / 2_800) % 12 + 1) as u8;
    let year = 2020 + (i / 33_600).min(7_000) as u16;
    let date = Date {
        year,
        month,
        day: day as u8,
    };
    let is_expenditure = i % 100 < EXPENDITURE_PERCENT && i > 100;
    let (content, signers): (Content, Vec<&KeyFile>) = if is_expenditure {
        (
            Content::Expenditure(Expenditure {
                fund: "operating".into(),
                amount_fen: 10_000 + i % 5_000,
                category: ExpenseCategory::Cleaning,
                payee: "洁美保洁服务有限公司".into(),
                memo: format!("第{i}号 保洁服务"),
                attachments: vec![],
                owners_approval: None,
            }),
            vec![
                &keys.company,
                &keys.committee[(i % 3) as usize],
                &keys.committee[((i + 1) % 3) as usize],
            ],
        )
    } else {
        (
            Content::Income(Income {
                fund: "operating".into(),
                amount_fen: 25_000 + i % 10_000,
                category: IncomeCategory::PropertyFee,
                payer: format!("{}-{}{:02}", i % 20 + 1, i % 30 + 1, i % 4 + 1),
                period: Month { year, month },
                memo: String::new(),
            }),
            vec![&keys.company],
        )
    };
    let body = Body {
        ledger: ORIGIN.into(),
        date,
        nonce: format!("n{i}"),
        content,
    };
    let signatures = sign_refs(&body, &signers);
    Submission { body, signatures }
}

/// Generates entries 1..=n on every core (not timed).
pub fn generate(keys: &BenchKeys, n: u64) -> Vec<Submission> {
    let cores = cores() as u64;
    let chunk = n.div_ceil(cores);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..cores)
            .map(|c| {
                let lo = c * chunk + 1;
                let hi = ((c + 1) * chunk).min(n);
                scope.spawn(move || {
                    (lo..=hi)
                        .map(|i| generated_entry(keys, i))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("generator thread"))
            .collect()
    })
}

pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Raw `verify_strict` verifications per second on one core.
pub fn raw_verify_rate() -> f64 {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let message = vec![0x5a_u8; 400];
    let signature = ed25519_dalek::Signer::sign(&key, &message);
    let verifying = key.verifying_key();
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < RAW_VERIFY_DURATION {
        for _ in 0..100 {
            assert!(verifying
                .verify_strict(std::hint::black_box(&message), &signature)
                .is_ok());
        }
        count += 100;
    }
    count as f64 / start.elapsed().as_secs_f64()
}

fn dir_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

pub fn run(args: BenchArgs) -> Result<()> {
    let n = args.entries;
    if n < 1_000 {
        bail!("--entries must be at least 1000");
    }
    let scratch = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("feeledger-bench-{}", std::process::id())),
    };
    if scratch.exists() {
        bail!("{} exists; give an empty directory", scratch.display());
    }
    let cores = cores();
    println!(
        "machine  {} cores; entries {n}; data {}",
        cores,
        scratch.display()
    );
    let r = raw_verify_rate();
    Figure {
        name: "raw_verify_strict_1core",
        value: r,
        unit: "sig/s",
        ceiling: None,
    }
    .print();
    let keys = BenchKeys::new()?;
    let started = Instant::now();
    let submissions = generate(&keys, n);
    let signatures: usize = submissions.iter().map(|s| s.signatures.len()).sum();
    let sigs_per_entry = signatures as f64 / n as f64;
    println!(
        "generated {n} signed entries ({sigs_per_entry:.2} signatures each) in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let ceiling = cores as f64 * r / sigs_per_entry;

    // 1. Bulk import, durable.
    let data = DataDir::new(&scratch);
    std::fs::create_dir_all(&scratch)?;
    keys.log.write_new(&data.log_key_path())?;
    let store = Store::create(&data.store_path(), &keys.genesis_leaf(), &keys.log.signer)?;
    let start = Instant::now();
    let mut batch_rates = Vec::new();
    let mut remaining = submissions;
    let mut now_ms = 1_000;
    while !remaining.is_empty() {
        let rest = remaining.split_off(remaining.len().min(IMPORT_BATCH));
        let batch = std::mem::replace(&mut remaining, rest);
        let count = batch.len();
        let batch_start = Instant::now();
        now_ms += 1;
        for (i, result) in store
            .append_batch(batch, now_ms, &keys.log.signer)?
            .into_iter()
            .enumerate()
        {
            result.with_context(|| format!("generated entry {i} of a batch was refused"))?;
        }
        batch_rates.push(count as f64 / batch_start.elapsed().as_secs_f64());
    }
    let import_s = start.elapsed().as_secs_f64();
    let import_rate = n as f64 / import_s;
    Figure {
        name: "bulk_import_durable",
        value: import_rate,
        unit: "entry/s",
        ceiling: Some((ceiling, "entry/s")),
    }
    .print();
    let early = batch_rates.iter().take(3).sum::<f64>() / batch_rates.len().min(3) as f64;
    let late = batch_rates.iter().rev().take(3).sum::<f64>() / batch_rates.len().min(3) as f64;
    Figure {
        name: "append_rate_last_vs_first",
        value: late,
        unit: "entry/s",
        ceiling: Some((early, "entry/s")),
    }
    .print();
    let size = store.size();
    let leaf_bytes: u64 = store
        .iter_leaves(0)
        .map(|r| r.map(|(_, b)| b.len() as u64).unwrap_or(0))
        .sum();
    store.close()?;
    let disk = dir_bytes(&data.store_path());
    Figure {
        name: "disk_bytes_per_entry",
        value: disk as f64 / size as f64,
        unit: "B",
        ceiling: Some((3.0 * leaf_bytes as f64 / size as f64, "B (3x leaf)")),
    }
    .print();

    // 2. Audit.
    let start = Instant::now();
    let store = data.open()?;
    let mut audit = crate::audit::Audit::new(None, vec![]);
    crate::inspect::run_local_audit(&store, &mut audit, None)
        .map_err(|f| anyhow::anyhow!("audit failed: {}", f.message))?;
    let audit_rate = size as f64 / start.elapsed().as_secs_f64();
    Figure {
        name: "audit",
        value: audit_rate,
        unit: "entry/s",
        ceiling: Some((ceiling, "entry/s")),
    }
    .print();
    drop(store);
    if args.dir.is_none() {
        std::fs::remove_dir_all(&scratch).ok();
    }
    Ok(())
}
