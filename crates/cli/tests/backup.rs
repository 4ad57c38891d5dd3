//! Backups, restores, damage and rebuilds, end to end: the real binary, a
//! realistic demo ledger (3,669 entries, made by `feeledger demo
//! --no-serve`), and damage done to the sled store with the `sled` crate
//! the way a bad disk or a stray write would.

mod support;

use serde_json::Value;
use std::ffi::OsStr;
use std::io::BufRead as _;
use std::path::Path;
use std::process::{Command, Stdio};
use support::demo::{copy_dir, Demo, DEMO_ENTRIES};
use support::verify::{verify_fails_with, verify_run};
use support::{export_tiles, restore, run, Output};

fn feeledger<S: AsRef<OsStr>>(args: &[S]) -> Output {
    run(args.iter().map(|a| a.as_ref().to_owned()))
}

/// `verify --data DATA --json`: (passed, report, output).
fn verify(data: &Path) -> (bool, Value, Output) {
    verify_run(&[OsStr::new("--data"), data.as_os_str()])
}

/// Runs `verify` and requires it to fail with a message holding `needles`
/// (and no root).
#[track_caller]
fn verify_fails(data: &Path, needles: &[&str]) -> String {
    verify_fails_with(&[OsStr::new("--data"), data.as_os_str()], needles, &[])
}

/// `verify` passes; returns (root, balances).
#[track_caller]
fn verify_passes(data: &Path) -> (String, Value) {
    let (ok, report, out) = verify(data);
    assert!(ok, "verify should pass: {out:#?}");
    assert_eq!(report["entries"], DEMO_ENTRIES);
    (
        report["root"].as_str().unwrap().to_string(),
        report["balances_fen"].clone(),
    )
}

fn rebuild(data: &Path) -> Output {
    feeledger(&[
        OsStr::new("rebuild"),
        OsStr::new("--data"),
        data.as_os_str(),
    ])
}

/// The latest checkpoint a data directory holds (read through the binary:
/// `verify --save-checkpoint`).
fn checkpoint_of(data: &Path, scratch: &Path) -> Vec<u8> {
    let out = feeledger(&[
        OsStr::new("verify"),
        OsStr::new("--data"),
        data.as_os_str(),
        OsStr::new("--save-checkpoint"),
        scratch.as_os_str(),
    ]);
    out.assert_ok();
    std::fs::read(scratch).unwrap()
}

/// `member` (a demo key) cosigns the demo's latest checkpoint, keeping its
/// cosigner state beside the demo.
fn cosign_checkpoint(demo: &Demo, member: &str) {
    feeledger(&[
        OsStr::new("cosign-checkpoint"),
        OsStr::new("--data"),
        demo.data.as_os_str(),
        OsStr::new("--key"),
        demo.data.join(format!("keys/{member}.key")).as_os_str(),
        OsStr::new("--state"),
        demo.path(&format!("{member}.json")).as_os_str(),
    ])
    .assert_ok();
}

// ------------------------------------------------------------ sled damage

/// Opens the data directory's sled store directly, as a bad disk or a
/// stray program would see it, and flushes after `f`.
fn with_db<T>(data: &Path, f: impl FnOnce(&sled::Db) -> T) -> T {
    let db = sled::open(data.join("ledger")).expect("open the sled store");
    let out = f(&db);
    db.flush().unwrap();
    out
}

fn leaf_key(seq: u64) -> Vec<u8> {
    let mut key = vec![b'L'];
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

fn node_key(level: u8, tile: u64) -> Vec<u8> {
    let mut key = vec![b'N', level];
    key.extend_from_slice(&tile.to_be_bytes());
    key
}

/// Flips one bit of the byte at `at` of the value of `key`.
fn flip(db: &sled::Db, key: &[u8], at: usize) {
    let mut value = db.get(key).unwrap().expect("the key exists").to_vec();
    value[at] ^= 0x01;
    db.insert(key, value).unwrap();
}

/// Cuts the value of `key` to `len` bytes.
fn truncate(db: &sled::Db, key: &[u8], len: usize) {
    let value = db.get(key).unwrap().expect("the key exists").to_vec();
    assert!(len < value.len());
    db.insert(key, &value[..len]).unwrap();
}

/// (a) A byte of entry `seq`'s leaf: one in its memo or payer text, so the
/// leaf still parses and only its hash gives it away.
fn damage_leaf(data: &Path, seq: u64) {
    with_db(data, |db| {
        let leaf = db.get(leaf_key(seq)).unwrap().unwrap();
        let at = leaf.len() / 2;
        flip(db, &leaf_key(seq), at);
    });
}

/// (d) Removes the third seq from the first bucket of the fund=operating
/// index; returns the seq removed.
fn damage_index(data: &Path) -> u64 {
    with_db(data, |db| {
        let mut key = vec![b'X', b'f'];
        key.extend_from_slice(b"operating");
        key.push(0);
        key.extend_from_slice(&0u64.to_be_bytes());
        let value = db.get(&key).unwrap().expect("the bucket exists").to_vec();
        let removed = u64::from_be_bytes(value[16..24].try_into().unwrap());
        let mut shorter = value[..16].to_vec();
        shorter.extend_from_slice(&value[24..]);
        db.insert(&key, shorter).unwrap();
        removed
    })
}

/// (e) Adds one fen to the income of the first stored totals value;
/// returns its month.
fn damage_totals(data: &Path) -> String {
    with_db(data, |db| {
        let (key, value) = db.scan_prefix(b"T").next().unwrap().unwrap();
        let (income, spending): (i128, i128) = serde_json::from_slice(&value).unwrap();
        db.insert(
            key.clone(),
            serde_json::to_vec(&(income + 1, spending)).unwrap(),
        )
        .unwrap();
        String::from_utf8(key[1..8].to_vec()).unwrap()
    })
}

/// (f) Adds one fen to the spending of the first stored all-time totals
/// value; returns its fund.
fn damage_all_time_totals(data: &Path) -> String {
    with_db(data, |db| {
        let (key, value) = db.scan_prefix(b"A").next().unwrap().unwrap();
        let (income, spending): (i128, i128) = serde_json::from_slice(&value).unwrap();
        db.insert(
            key.clone(),
            serde_json::to_vec(&(income, spending + 1)).unwrap(),
        )
        .unwrap();
        let fund_end = key[1..].iter().position(|b| *b == 0).unwrap() + 1;
        String::from_utf8(key[1..fund_end].to_vec()).unwrap()
    })
}

/// (g) Removes every stored all-time totals record; returns the fund of
/// the first. Opening the store must not quietly write them again.
fn remove_all_time_totals(data: &Path) -> String {
    with_db(data, |db| {
        let keys: Vec<_> = db.scan_prefix(b"A").map(|item| item.unwrap().0).collect();
        assert!(!keys.is_empty(), "the demo keeps all-time totals");
        for key in &keys {
            db.remove(key).unwrap();
        }
        let fund_end = keys[0][1..].iter().position(|b| *b == 0).unwrap() + 1;
        String::from_utf8(keys[0][1..fund_end].to_vec()).unwrap()
    })
}

// ------------------------------------------------------------------ tests

/// Proves the backup round trip: `export --format tiles` writes plain C2SP
/// tiles and the (cosigned) checkpoint; `restore` builds a new data
/// directory from them that verifies with the log key, has the original's
/// root, balances and checkpoint bytes (cosignature included), and that
/// `feeledger serve` serves the same checkpoint and tiles as the backup's
/// files.
#[test]
fn export_tiles_then_restore_gives_the_same_ledger() {
    let demo = Demo::new();
    // A committee member cosigns the checkpoint: the backup must keep it.
    cosign_checkpoint(&demo, "weiyuan-wang");
    let (root, balances) = verify_passes(&demo.data);
    let original = checkpoint_of(&demo.data, &demo.path("original.checkpoint"));
    assert!(
        String::from_utf8_lossy(&original).contains("weiyuan-wang"),
        "the checkpoint is cosigned"
    );

    let backup = demo.path("backup");
    export_tiles(&demo.data, &backup).assert_ok();
    assert_eq!(std::fs::read(backup.join("checkpoint")).unwrap(), original);
    assert_eq!(
        std::fs::read_to_string(backup.join("log.vkey"))
            .unwrap()
            .trim(),
        demo.log_key
    );
    // 3,669 entries: 14 full bundles and one of 85; level-0 hash tiles
    // alike; 14 level-1 hashes in one partial tile.
    for path in [
        "tile/entries/000",
        "tile/entries/013",
        "tile/entries/014.p/85",
        "tile/0/000",
        "tile/0/014.p/85",
        "tile/1/000.p/14",
    ] {
        assert!(backup.join(path).is_file(), "{path} is in the backup");
    }
    assert!(!backup.join("tile/entries/014").exists());
    assert!(!backup.join("tile/2").exists(), "no level-2 hashes yet");
    assert_eq!(
        std::fs::metadata(backup.join("tile/0/014.p/85"))
            .unwrap()
            .len(),
        85 * 32
    );
    // A second export never overwrites a backup.
    export_tiles(&demo.data, &backup).assert_one_line_error(&["exists"]);

    let restored = demo.path("restored");
    let out = restore(&backup, &restored, &demo.data.join("log.key"));
    out.assert_ok();
    assert!(out.stdout.contains("cosigned by: weiyuan-wang"), "{out:#?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(restored.join("log.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let out = feeledger(&[
        OsStr::new("verify"),
        OsStr::new("--data"),
        restored.as_os_str(),
        OsStr::new("--log-key"),
        OsStr::new(&demo.log_key),
    ]);
    out.assert_ok();
    assert!(out.stdout.contains("cosigned by: weiyuan-wang"), "{out:#?}");
    assert_eq!(verify_passes(&restored), (root, balances));
    assert_eq!(
        checkpoint_of(&restored, &demo.path("restored.checkpoint")),
        original,
        "the restored store serves the original checkpoint, byte for byte"
    );
    // A restore never overwrites a ledger.
    restore(&backup, &restored, &demo.data.join("log.key"))
        .assert_one_line_error(&["already holds a ledger"]);

    // The restored ledger, served: the same checkpoint and tiles.
    let mut child = Command::new(support::bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&restored)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .rsplit(" on ")
        .next()
        .expect("serving ... on http://ADDR/")
        .trim_end_matches('/')
        .to_string();
    let get = |path: &str| {
        let response = reqwest::blocking::get(format!("{base}/{path}")).unwrap();
        assert!(response.status().is_success(), "GET {path}");
        response.bytes().unwrap().to_vec()
    };
    let served_checkpoint = get("checkpoint");
    let tiles: Vec<(String, Vec<u8>)> = [
        "tile/0/003",
        "tile/1/000.p/14",
        "tile/entries/007",
        "tile/entries/014.p/85",
    ]
    .iter()
    .map(|p| (p.to_string(), get(p)))
    .collect();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(served_checkpoint, original);
    for (path, bytes) in tiles {
        assert_eq!(bytes, std::fs::read(backup.join(&path)).unwrap(), "{path}");
    }
}

/// Proves that a damaged backup is refused, whatever the damage (a flipped
/// byte in an entry bundle, a truncated hash tile or bundle, a missing
/// bundle, an altered checkpoint, the wrong log key), with a one-line error
/// naming the entry or file, and that a failed restore leaves no data
/// directory behind.
#[test]
fn a_damaged_backup_is_refused_and_leaves_nothing() {
    let demo = Demo::new();
    let backup = demo.path("backup");
    export_tiles(&demo.data, &backup).assert_ok();
    let key = demo.data.join("log.key");

    let attempt = |name: &str, damage: &dyn Fn(&Path), needles: &[&str]| {
        let copy = demo.path(&format!("backup-{name}"));
        copy_dir(&backup, &copy);
        damage(&copy);
        let target = demo.path(&format!("restored-{name}"));
        restore(&copy, &target, &key).assert_one_line_error(needles);
        assert!(!target.exists(), "{name}: a failed restore leaves nothing");
    };
    let flip_file = |path: &Path, at: usize| {
        let mut bytes = std::fs::read(path).unwrap();
        bytes[at] ^= 0x01;
        std::fs::write(path, bytes).unwrap();
    };
    let truncate_file = |path: &Path, len: u64| {
        std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .unwrap()
            .set_len(len)
            .unwrap();
    };

    // A byte inside entry 768's leaf (the first of bundle 003, after its
    // two-byte length).
    attempt(
        "flipped-entry",
        &|b| flip_file(&b.join("tile/entries/003"), 2 + 40),
        &["entry 768", "tile/entries/003", "tile/0/003", "damaged"],
    );
    // The length of entry 512 (first of bundle 002): the rest no longer parses.
    attempt(
        "flipped-length",
        &|b| flip_file(&b.join("tile/entries/002"), 0),
        &["tile/entries/002"],
    );
    attempt(
        "truncated-hash-tile",
        &|b| truncate_file(&b.join("tile/0/005"), 1000),
        &["tile/0/005 is truncated"],
    );
    attempt(
        "truncated-bundle",
        &|b| {
            let path = b.join("tile/entries/009");
            let len = std::fs::metadata(&path).unwrap().len();
            truncate_file(&path, len / 2)
        },
        &["tile/entries/009 is truncated"],
    );
    attempt(
        "missing-bundle",
        &|b| std::fs::remove_file(b.join("tile/entries/007")).unwrap(),
        &["tile/entries/007 is missing", "entries 1792..=2047"],
    );
    attempt(
        "missing-partial-hash-tile",
        &|b| std::fs::remove_file(b.join("tile/1/000.p/14")).unwrap(),
        &["tile/1/000.p/14 is missing"],
    );
    attempt(
        "altered-checkpoint",
        &|b| {
            let path = b.join("checkpoint");
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, text.replacen("3669", "3668", 1)).unwrap();
        },
        &["checkpoint does not verify"],
    );
    // Another key (a committee member's) is not the log key.
    let other = demo.data.join("keys/weiyuan-wang.key");
    let target = demo.path("restored-wrong-key");
    restore(&backup, &target, &other).assert_one_line_error(&["does not verify with the log key"]);
    assert!(!target.exists());
}

/// Proves that `verify` finds damage to each kind of stored data and names
/// it: (a) a flipped byte in a middle leaf, (b) a flipped byte in a level-0
/// and in a level-1 Merkle node tile, every node of the level-4 tile,
/// (c) a truncated node tile, a hash appended to a full one, tiles where
/// the tree has none, (d) a seq removed from an index bucket, (e) an
/// altered totals value.
#[test]
fn verify_names_each_kind_of_damage() {
    let demo = Demo::new();
    verify_passes(&demo.data);

    let a = demo.copy("a");
    damage_leaf(&a, 1834);
    verify_fails(&a, &["entry 1834 is damaged or was altered"]);

    let b0 = demo.copy("b0");
    with_db(&b0, |db| flip(db, &node_key(0, 5), 32 * 10 + 3));
    verify_fails(
        &b0,
        &[
            "Merkle node tile level 0 index 5 differs at node 1290",
            "entry 1290 is intact",
        ],
    );

    let b1 = demo.copy("b1");
    with_db(&b1, |db| flip(db, &node_key(1, 2), 32 * 7 + 31));
    verify_fails(
        &b1,
        &[
            "Merkle node tile level 1 index 2 differs at node 519",
            "entries 1038..=1039",
        ],
    );

    // Every node of level 4 (16 leaves each, the lowest level a store reads
    // from tiles) but the last, which the head check at open reads. The
    // demo's reversal, whose target is proved while its chunk is audited,
    // must not meet the damage first and call its target missing.
    let b4 = demo.copy("b4");
    with_db(&b4, |db| {
        let nodes = db
            .get(node_key(4, 0))
            .unwrap()
            .expect("a level-4 tile")
            .len()
            / 32;
        for node in 0..nodes - 1 {
            flip(db, &node_key(4, 0), 32 * node + 5);
        }
    });
    verify_fails(&b4, &["Merkle node tile level 4 index 0 differs at node 0"]);

    let c = demo.copy("c");
    with_db(&c, |db| truncate(db, &node_key(0, 3), 32 * 100));
    verify_fails(
        &c,
        &[
            "Merkle node tile level 0 index 3 is truncated",
            "node 868 is missing",
        ],
    );

    let c2 = demo.copy("c2");
    with_db(&c2, |db| truncate(db, &node_key(2, 0), 32 * 100 + 5));
    verify_fails(
        &c2,
        &[
            "Merkle node tile level 2 index 0 is truncated",
            "not a whole number",
        ],
    );

    // A hash appended to a full tile in the tree, and tiles where the tree
    // has none (past a level's last tile, and on a level above the top).
    let c3 = demo.copy("c3");
    with_db(&c3, |db| {
        let mut tile = db.get(node_key(0, 2)).unwrap().expect("tile").to_vec();
        assert_eq!(tile.len(), 32 * 256, "a full tile");
        tile.extend_from_slice(&[7; 32]);
        db.insert(node_key(0, 2), tile).unwrap();
    });
    verify_fails(
        &c3,
        &[
            "Merkle node tile level 0 index 2 holds 8224 bytes",
            "has 256 hashes there",
        ],
    );
    for (level, tile) in [(0, 1_000), (40, 0), (64, 0), (255, 0)] {
        let extra = demo.copy(&format!("c4-{level}"));
        with_db(&extra, |db| {
            db.insert(node_key(level, tile), &[7; 32][..]).unwrap()
        });
        verify_fails(
            &extra,
            &[
                &format!("Merkle node tile level {level} index {tile} holds 32 bytes"),
                "has 0 hashes there",
            ],
        );
    }

    let d = demo.copy("d");
    let removed = damage_index(&d);
    verify_fails(
        &d,
        &[&format!(
            "index fund=operating bucket 0 is missing entry {removed}"
        )],
    );

    let e = demo.copy("e");
    let month = damage_totals(&e);
    verify_fails(&e, &[&format!("totals of {month}"), "differ"]);

    let f = demo.copy("f");
    let fund = damage_all_time_totals(&f);
    verify_fails(&f, &[&format!("all-time totals (fund {fund}"), "differ"]);

    let g = demo.copy("g");
    let fund = remove_all_time_totals(&g);
    verify_fails(
        &g,
        &[&format!("all-time totals (fund {fund}"), "stored none"],
    );
}

/// Proves that damage at the head (the last leaf, its Merkle node) is
/// refused by `Store::open`: `verify` names it, and `balances` and `serve`
/// stop with a one-line error naming it, so the server never starts and
/// never serves a checkpoint the data no longer supports.
#[test]
fn a_damaged_head_is_refused_at_open_and_the_server_does_not_start() {
    let demo = Demo::new();
    let last = DEMO_ENTRIES - 1;

    let leaf = demo.copy("head-leaf");
    damage_leaf(&leaf, last);
    let node = demo.copy("head-node");
    with_db(&node, |db| truncate(db, &node_key(0, last / 256), 32 * 84));

    for (data, needle) in [
        (&leaf, format!("leaf {last} hashes to")),
        (
            &node,
            format!("Merkle node level 0 index {last} is missing"),
        ),
    ] {
        let message = verify_fails(data, &["damaged", &needle]);
        assert!(!message.contains('\n'));
        feeledger(&[
            OsStr::new("balances"),
            OsStr::new("--data"),
            data.as_os_str(),
        ])
        .assert_one_line_error(&["the store is damaged", &needle]);
        let out = Command::new(support::bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .output()
            .expect("serve runs");
        let out = Output::from_std(vec!["serve".into()], out);
        out.assert_one_line_error(&["the store is damaged", &needle]);
        assert!(
            !out.stdout.contains("serving"),
            "the server must not start: {out:#?}"
        );
    }
}

/// Proves the recovery path for derived data: after damage to node tiles
/// (b), a truncated tile (c, here the head's, which `Store::open`
/// refuses), an index bucket (d) or totals (e), `feeledger rebuild`
/// reports the damage, rebuilds, keeps the damaged store aside, and the
/// ledger then verifies with the same root, balances and checkpoint.
#[test]
fn rebuild_repairs_damaged_derived_data() {
    let demo = Demo::new();
    let (root, balances) = verify_passes(&demo.data);
    let original = checkpoint_of(&demo.data, &demo.path("original.checkpoint"));

    type Damage = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Damage, &str)> = vec![
        (
            "b",
            Box::new(|d| {
                with_db(d, |db| {
                    flip(db, &node_key(0, 5), 32 * 10 + 3);
                    flip(db, &node_key(1, 2), 32 * 7 + 31);
                })
            }),
            "Merkle node tile level 0 index 5",
        ),
        (
            "c",
            Box::new(|d| with_db(d, |db| truncate(db, &node_key(0, 14), 32 * 84))),
            "Merkle node level 0 index 3668 is missing",
        ),
        (
            "d",
            Box::new(|d| {
                damage_index(d);
            }),
            "index fund=operating bucket 0",
        ),
        (
            "e",
            Box::new(|d| {
                damage_totals(d);
            }),
            "totals of",
        ),
    ];
    for (name, damage, found) in cases {
        let data = demo.copy(name);
        damage(&data);
        assert!(!verify(&data).0, "{name}: verify should fail");
        let out = rebuild(&data);
        eprintln!("rebuild {name}:\n{}", out.stdout);
        out.assert_ok();
        assert!(
            out.stdout.contains("damage found") && out.stdout.contains(found),
            "{name}: rebuild reports the damage: {out:#?}"
        );
        assert!(
            out.stdout.contains("kept the latest signed checkpoint"),
            "{out:#?}"
        );
        assert_eq!(
            verify_passes(&data),
            (root.clone(), balances.clone()),
            "{name}"
        );
        assert_eq!(
            checkpoint_of(&data, &demo.path(&format!("{name}.checkpoint"))),
            original,
            "{name}: the same signed checkpoint"
        );
        let kept: Vec<String> = std::fs::read_dir(&data)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("ledger.damaged-"))
            .collect();
        assert_eq!(kept.len(), 1, "{name}: the damaged store is kept aside");
        assert!(!data.join("ledger.rebuild").exists());
    }
}

/// Proves that `rebuild` checks the cosignature lines it keeps. On the
/// latest checkpoint, cosigned by two committee members, one member's line
/// with one altered signature byte is dropped, with a note, and the other
/// member's is kept; a line by a key the ledger does
/// not know is kept unchecked (verifiers ignore it) and not counted as a
/// cosignature; and the rebuilt ledger verifies. Before, the altered line
/// was copied, the rebuilt store failed its own audit, and the rebuild gave
/// up.
#[test]
fn rebuild_drops_cosignature_lines_that_do_not_verify() {
    let demo = Demo::new();
    for member in ["weiyuan-wang", "weiyuan-zhao"] {
        cosign_checkpoint(&demo, member);
    }
    let (root, balances) = verify_passes(&demo.data);

    let stranger_line = format!("\u{2014} stranger {}\n", "QUJD".repeat(19));
    with_db(&demo.data, |db| {
        let size = db.get(b"K").unwrap().expect("the latest size");
        let key = [&b"C"[..], &size].concat();
        let note = String::from_utf8(db.get(&key).unwrap().unwrap().to_vec()).unwrap();
        let mut altered = String::new();
        for line in note.split_inclusive('\n') {
            match line.strip_prefix("\u{2014} weiyuan-wang ") {
                Some(sig) => {
                    // One base64 digit of the signature, not of the key id.
                    let mut sig = sig.as_bytes().to_vec();
                    sig[20] = if sig[20] == b'A' { b'B' } else { b'A' };
                    let sig = String::from_utf8(sig).unwrap();
                    altered.push_str(&format!("\u{2014} weiyuan-wang {sig}"));
                }
                None => altered.push_str(line),
            }
        }
        assert_ne!(altered, note, "the cosignature line was found");
        altered.push_str(&stranger_line);
        db.insert(&key, altered.as_bytes()).unwrap();
    });
    verify_fails(&demo.data, &["weiyuan-wang"]);

    let out = rebuild(&demo.data);
    eprintln!("rebuild:\n{}", out.stdout);
    out.assert_ok();
    for needle in [
        "1 cosignature line(s) by a key this ledger knows did not verify; dropped",
        "kept the latest signed checkpoint",
        "cosigned by: weiyuan-zhao)",
        // The stranger's line is no cosignature; the demo's own November
        // confirmation is the other cosigned checkpoint.
        "kept:       2 cosigned checkpoint(s)",
    ] {
        assert!(out.stdout.contains(needle), "{needle:?}: {out:#?}");
    }
    assert_eq!(verify_passes(&demo.data), (root, balances));
    let rebuilt =
        String::from_utf8(checkpoint_of(&demo.data, &demo.path("rebuilt.checkpoint"))).unwrap();
    assert!(!rebuilt.contains("weiyuan-wang"), "{rebuilt}");
    assert!(rebuilt.contains("\u{2014} weiyuan-zhao "), "{rebuilt}");
    assert!(rebuilt.ends_with(&stranger_line), "{rebuilt}");
}

/// Proves that a damaged leaf is not "repaired": `rebuild` refuses, names
/// the entry and points to a backup, and changes nothing; a backup made
/// before the damage then restores the ledger with the original root and
/// checkpoint.
#[test]
fn rebuild_refuses_a_damaged_leaf_and_a_backup_restores_it() {
    let demo = Demo::new();
    let (root, balances) = verify_passes(&demo.data);
    let original = checkpoint_of(&demo.data, &demo.path("original.checkpoint"));
    let backup = demo.path("backup");
    export_tiles(&demo.data, &backup).assert_ok();

    damage_leaf(&demo.data, 1834);
    let out = rebuild(&demo.data);
    eprintln!("rebuild: {}{}", out.stdout, out.stderr);
    out.assert_one_line_error(&[
        "entry 1834 is damaged or was altered",
        "feeledger restore",
        "nothing was changed",
    ]);
    assert!(!demo.data.join("ledger.rebuild").exists());
    let names: Vec<String> = std::fs::read_dir(&demo.data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("ledger.damaged-")),
        "nothing was swapped: {names:?}"
    );
    verify_fails(&demo.data, &["entry 1834 is damaged or was altered"]);
    // An export of the damaged store is refused too: a backup is never
    // made of entries that do not give the signed root.
    export_tiles(&demo.data, &demo.path("bad-backup"))
        .assert_one_line_error(&["signed checkpoint"]);
    assert!(!demo.path("bad-backup").exists());

    let restored = demo.path("restored");
    restore(&backup, &restored, &demo.data.join("log.key")).assert_ok();
    assert_eq!(verify_passes(&restored), (root, balances));
    assert_eq!(
        checkpoint_of(&restored, &demo.path("restored.checkpoint")),
        original
    );
}

/// Proves that damage to the reversal index is named by `verify`: the demo's
/// one record pointing at another entry, truncated, or removed (each named
/// with the reversal and its target), and an extra record for an entry
/// nothing reversed (named by the count check, with the entry it claims).
#[test]
fn verify_names_a_damaged_reversal_index() {
    let demo = Demo::new();
    verify_passes(&demo.data);
    let reversal_key = |target: u64| [&b"R"[..], &target.to_be_bytes()].concat();
    // The demo reverses one fee entered twice.
    let (target, reversal) = with_db(&demo.data, |db| {
        let mut records = db.scan_prefix(b"R");
        let (key, value) = records
            .next()
            .expect("the demo has a reversal")
            .expect("sled reads");
        assert!(records.next().is_none(), "the demo has one reversal");
        let seq = |bytes: &[u8]| u64::from_be_bytes(bytes.try_into().expect("8 bytes"));
        (seq(&key[1..]), seq(&value))
    });
    assert!(target < reversal);
    let not_reversed = target + 1;
    type Damage<'a> = Box<dyn Fn(&sled::Db) + 'a>;
    let cases: Vec<(&str, Damage, String)> = vec![
        (
            "points-elsewhere",
            Box::new(|db: &sled::Db| {
                db.insert(reversal_key(target), &(reversal + 1).to_be_bytes())
                    .unwrap();
            }),
            format!("says entry {target} is reversed by entry {}, not by entry {reversal}", reversal + 1),
        ),
        (
            "truncated",
            Box::new(|db: &sled::Db| truncate(db, &reversal_key(target), 5)),
            format!("the reversal index record of entry {target} is damaged"),
        ),
        (
            "removed",
            Box::new(|db: &sled::Db| {
                db.remove(reversal_key(target)).unwrap();
            }),
            format!("the reversal index is missing entry {reversal} (the reversal of entry {target})"),
        ),
        (
            "extra",
            Box::new(|db: &sled::Db| {
                db.insert(reversal_key(not_reversed), &reversal.to_be_bytes())
                    .unwrap();
            }),
            format!("says entry {not_reversed} is reversed by entry {reversal}, which does not reverse it"),
        ),
    ];
    for (name, damage, needle) in cases {
        let copy = demo.copy(&format!("reversal-{name}"));
        with_db(&copy, |db| damage(db));
        verify_fails(&copy, &[&needle]);
    }
}
