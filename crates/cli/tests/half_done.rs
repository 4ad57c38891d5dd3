//! Nothing half-done, and environment errors that say what to do: a failed
//! `init` leaves nothing, a directory an older `init` left half-made is
//! named as such by every command, a store sled finds damaged, a store held
//! by a server, a cosignature refused by a restored copy, and a `--url`
//! without its scheme each get one line naming the rule and the fix, and
//! change nothing on disk.

mod support;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use support::http::Server;
use support::{keygen, names, restore, run, Community, Key, Output, COMMITTEE, COMPANY};

/// Every file under `dir` (relative path → bytes), or `None` if `dir`
/// does not exist: what "changes nothing on disk" compares.
fn tree(dir: &Path) -> Option<BTreeMap<PathBuf, Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(root).unwrap().to_path_buf();
            if path.is_dir() {
                out.insert(relative.join(""), Vec::new());
                walk(root, &path, out);
            } else {
                out.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    if !dir.exists() {
        return None;
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    Some(out)
}

/// What a refused command must leave as it was in a data directory: every
/// file's bytes, except sled's own bookkeeping inside the store. Opening a
/// sled store (to tell a ledger from an empty store an old `init` left)
/// may write sled's page-table snapshot (`snap.*`) and its log (`db`);
/// the keys the store holds are what stays the same, and a store with no
/// genesis is told apart by every later command all the same.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    tree(dir)
        .expect("the directory exists")
        .into_iter()
        .filter(|(path, _)| {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            !(path.starts_with("ledger") && (name.starts_with("snap.") || name == "db"))
        })
        .collect()
}

/// Keys for a company and two committee members, and a way to write a
/// genesis description naming them.
struct Keys {
    dir: tempfile::TempDir,
    keys: BTreeMap<&'static str, Key>,
}

impl Keys {
    fn new() -> Keys {
        let dir = tempfile::tempdir().unwrap();
        let keys = [COMPANY, COMMITTEE[0], COMMITTEE[1]]
            .into_iter()
            .map(|name| (name, keygen(dir.path(), name)))
            .collect();
        Keys { dir, keys }
    }

    /// A genesis description; `company_key` is the company's public key
    /// as written in it, `signers` the key files that sign it.
    fn genesis(&self, company_key: &str, signers: &[&str]) -> PathBuf {
        let line =
            |name: &str, key: &str| format!("{{ name = \"{name}\", public_key = \"{key}\" }}");
        let signers: Vec<String> = signers.iter().map(|s| format!("\"{s}\"")).collect();
        let text = format!(
            r#"origin = "example.org/xingguang"
name = "星光小区"
date = "2026-01-01"
signers = [{signers}]

[roles.company]
threshold = 1
keys = [{company}]

[roles.committee]
threshold = 2
keys = [{k0}, {k1}]
"#,
            signers = signers.join(", "),
            company = line(COMPANY, company_key),
            k0 = line(COMMITTEE[0], &self.keys[COMMITTEE[0]].public_key),
            k1 = line(COMMITTEE[1], &self.keys[COMMITTEE[1]].public_key),
        );
        let path = self.dir.path().join("genesis.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn good_genesis(&self) -> PathBuf {
        self.genesis(
            &self.keys[COMPANY].public_key,
            &[
                &format!("{COMPANY}.key"),
                &format!("{}.key", COMMITTEE[0]),
                &format!("{}.key", COMMITTEE[1]),
            ],
        )
    }
}

fn init(data: &Path, genesis: &Path) -> Output {
    run([
        OsStr::new("init"),
        OsStr::new("--data"),
        data.as_os_str(),
        OsStr::new("--genesis"),
        genesis.as_os_str(),
    ])
}

/// Proves that `init` is all or nothing: whatever makes it fail (the
/// README's literal "..." keys, a missing signer key file, a genesis the
/// core refuses for too few signatures), into a directory that does not
/// exist (with a missing parent) or one that exists and is empty, it leaves
/// the directory as it was (no log.key, no empty store, no temporary
/// directory beside it), and a retry with the genesis fixed succeeds and
/// verifies.
#[test]
fn a_failed_init_leaves_nothing_and_a_retry_succeeds() {
    let keys = Keys::new();
    let signers_all = [
        format!("{COMPANY}.key"),
        format!("{}.key", COMMITTEE[0]),
        format!("{}.key", COMMITTEE[1]),
    ];
    let signers_all: Vec<&str> = signers_all.iter().map(String::as_str).collect();
    let company = keys.keys[COMPANY].public_key.clone();
    let cases: [(&str, String, Vec<&str>, &str); 3] = [
        (
            "literal ... keys",
            "...".to_string(),
            signers_all.clone(),
            "public_key: not a 32-byte Ed25519 public key",
        ),
        (
            "a signer key file that is not there",
            company.clone(),
            vec!["nobody.key"],
            "nobody.key",
        ),
        (
            "too few signatures",
            company.clone(),
            vec![signers_all[0]],
            "genesis refused",
        ),
    ];
    for (what, company_key, signers, needle) in cases {
        for existing in [false, true] {
            let place = tempfile::tempdir().unwrap();
            let data = place.path().join("new-parent").join("ledger-data");
            if existing {
                std::fs::create_dir_all(&data).unwrap();
            }
            let before = tree(place.path());
            let genesis = keys.genesis(&company_key, &signers);
            init(&data, &genesis).assert_one_line_error(&[needle]);
            assert_eq!(
                tree(place.path()),
                before,
                "{what} (directory existed: {existing}): a failed init changes nothing"
            );
            let out = init(&data, &keys.good_genesis());
            out.assert_ok();
            assert!(out.stdout.contains("created ledger example.org/xingguang"));
            assert_eq!(names(&data), ["ledger", "log.key"], "{what}");
            assert_eq!(
                names(place.path()),
                ["new-parent"],
                "{what}: no temporary directory is left"
            );
            assert_eq!(names(&place.path().join("new-parent")), ["ledger-data"]);
            let verify = run([
                OsStr::new("verify"),
                OsStr::new("--data"),
                data.as_os_str(),
                OsStr::new("--json"),
            ]);
            verify.assert_ok();
            assert_eq!(verify.json()["entries"], 1, "{what}");
        }
    }
}

/// Proves that `init` refuses a directory that is not new or empty, says
/// what is there (a ledger, other files, or what an older version's failed
/// `init` left: a log key alone, or with a store that has no genesis), and
/// changes nothing; and that `serve` and `list` describe a half-made
/// directory in the same words, with the same fix.
#[test]
fn init_and_serve_say_what_an_occupied_directory_holds() {
    let keys = Keys::new();
    let genesis = keys.good_genesis();
    let community = Community::new();
    let place = tempfile::tempdir().unwrap();
    let other = place.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "minutes").unwrap();
    let key_only = place.path().join("key-only");
    std::fs::create_dir(&key_only).unwrap();
    std::fs::copy(keys.keys[COMPANY].path.clone(), key_only.join("log.key")).unwrap();
    // What feeledger before the all-or-nothing init left when the genesis
    // was refused: log.key and a sled store with nothing in it.
    let half_made = place.path().join("half-made");
    std::fs::create_dir(&half_made).unwrap();
    std::fs::copy(keys.keys[COMPANY].path.clone(), half_made.join("log.key")).unwrap();
    drop(sled::open(half_made.join("ledger")).unwrap());

    let unfinished = [
        "holds no complete ledger",
        "unfinished 'feeledger init'",
        "rm -r",
        "run 'feeledger init",
    ];
    // What an init killed while building in an existing empty directory
    // leaves: its staging directory.
    let killed = place.path().join("killed");
    std::fs::create_dir_all(killed.join(".feeledger-init.999")).unwrap();
    std::fs::copy(
        keys.keys[COMPANY].path.clone(),
        killed.join(".feeledger-init.999/log.key"),
    )
    .unwrap();
    // The same beside a file of the user's: the advice is not to remove
    // the whole directory.
    let shared = place.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("notes.txt"), "minutes").unwrap();
    drop(sled::open(shared.join("ledger")).unwrap());
    let shared_store = format!(
        "{} is a store with no genesis",
        shared.join("ledger").display()
    );
    let cases: [(&Path, Vec<&str>, bool); 6] = [
        (
            &shared,
            vec![
                "holds no complete ledger",
                &shared_store,
                "beside ledger, notes.txt",
                "if an unfinished 'feeledger init' left it, remove",
            ],
            true,
        ),
        (
            &killed,
            [
                &unfinished[..],
                &["only what it left (.feeledger-init.999)"],
            ]
            .concat(),
            true,
        ),
        (
            &community.data,
            vec![
                "already holds the ledger example.org/xingguang (1 entries)",
                "init needs a new or empty directory",
            ],
            false,
        ),
        (
            &other,
            vec![
                "is not empty (it holds notes.txt)",
                "init needs a new or empty directory",
            ],
            false,
        ),
        (
            &key_only,
            [&unfinished[..], &["only what it left (log.key)"]].concat(),
            true,
        ),
        (
            &half_made,
            [
                &unfinished[..],
                &["a store with no genesis", "and a log key"],
            ]
            .concat(),
            true,
        ),
    ];
    for (dir, needles, half) in cases {
        let before = files(dir);
        let refused = init(dir, &genesis);
        refused.assert_one_line_error(&needles);
        if dir == shared {
            assert!(!refused.stderr.contains("rm -r"), "{refused:#?}");
        }
        assert_eq!(files(dir), before, "{}", dir.display());
        if half {
            for sub in ["serve", "list"] {
                run([OsStr::new(sub), OsStr::new("--data"), dir.as_os_str()])
                    .assert_one_line_error(&needles);
            }
            assert_eq!(files(dir), before, "{}", dir.display());
        }
    }
    // A directory that does not exist is named as such, with how to make
    // one, by serve as by any other command.
    let missing = place.path().join("missing");
    for sub in ["serve", "list", "balances"] {
        run([OsStr::new(sub), OsStr::new("--data"), missing.as_os_str()])
            .assert_one_line_error(&["does not exist", "feeledger init --data"]);
    }
    assert!(!missing.exists());
}

/// Proves that a store sled itself finds damaged (its log file overwritten
/// in the middle) is reported as damage, not as I/O: naming the store, that
/// `rebuild` cannot read it either, and how to restore a backup, by every
/// command that opens it (and by `rebuild`, which refuses it). sled's own
/// recovery, at the first open, zeroes its log from the damaged message on
/// (sled 0.34; nothing feeledger can stop); after that, no refusal changes
/// a byte.
#[test]
fn a_store_sled_finds_damaged_says_how_to_recover() {
    let c = Community::new();
    for i in 0..40 {
        c.income("2026-01-02", "100.00", &format!("unit-{i}"), "fee");
    }
    let log = c.data.join("ledger").join("db");
    let mut bytes = std::fs::read(&log).unwrap();
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 4096] {
        *b ^= 0x5a;
    }
    std::fs::write(&log, &bytes).unwrap();
    let store = c.data.join("ledger");
    let data = c.data.display().to_string();
    let needles = [
        "the store is damaged: sled found corrupted data",
        &format!("in {}", store.display()),
        "sled cannot read it, so 'feeledger rebuild' cannot either",
        &format!("'feeledger restore --from BACKUP --data NEWDIR --log-key {data}/log.key'"),
        "docs/reliability.md",
    ];
    c.cmd("list", &[]).assert_one_line_error(&needles);
    let before = tree(&c.data);
    for sub in ["balances", "serve", "export"] {
        let args: &[&str] = if sub == "export" {
            &["--format", "json"]
        } else {
            &[]
        };
        c.cmd(sub, args).assert_one_line_error(&needles);
    }
    c.cmd("rebuild", &[])
        .assert_one_line_error(&["the store is damaged: sled found corrupted data"]);
    assert!(before == tree(&c.data), "a refused open changes nothing");
}

/// Proves that a command run on a data directory a server holds names the
/// directory, says a server probably holds it, and gives both fixes (stop
/// it, or use --url); and that nothing is written (no --out file, the
/// served ledger unchanged).
#[test]
fn a_store_in_use_names_the_directory_and_the_fix() {
    let c = Community::new();
    let server = Server::start(&c.data);
    let checkpoint = server.http().checkpoint();
    let out_file = c.path("fees.journal");
    let needles = [
        &format!(
            "the data directory {} is in use by another feeledger process",
            c.data.display()
        )[..],
        "most likely a server",
        "stop it first",
        "--url (e.g. --url http://127.0.0.1:8080) in place of --data",
    ];
    for args in [
        vec!["list"],
        vec!["balances"],
        vec![
            "export",
            "--format",
            "hledger",
            "--out",
            out_file.to_str().unwrap(),
        ],
    ] {
        c.cmd(args[0], &args[1..]).assert_one_line_error(&needles);
    }
    assert!(!out_file.exists(), "nothing is written");
    assert_eq!(server.http().checkpoint(), checkpoint);
}

/// Proves that cosigning over HTTP against a ledger restored from a tiles
/// backup, with the state file from before the restore, is refused with
/// one line that explains the 409 (the restored copy records no
/// cosignature by this key, though its checkpoint carries it) and the fix,
/// leaving the state file and the checkpoint as they were; and that the fix
/// it names, `--resync`, then cosigns.
#[test]
fn cosign_against_a_restored_copy_explains_and_resync_cosigns() {
    let c = Community::new();
    c.income("2026-01-02", "1280.50", "unit-1", "fee");
    let member = c.key_path(COMMITTEE[0]).to_str().unwrap().to_string();
    let state = c.path("wang.state");
    let cosign = |url: &str, extra: &[&str]| {
        let mut args = vec![
            "cosign-checkpoint",
            "--url",
            url,
            "--key",
            &member,
            "--state",
            state.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run(args)
    };
    let server = Server::start(&c.data);
    cosign(&server.url, &[]).assert_ok();
    server.stop();
    let backup = c.path("backup");
    c.cmd(
        "export",
        &["--format", "tiles", "--out", backup.to_str().unwrap()],
    )
    .assert_ok();
    let restored = c.path("restored");
    restore(&backup, &restored, &c.data.join("log.key")).assert_ok();
    let server = Server::start(&restored);
    let state_before = std::fs::read(&state).unwrap();
    let checkpoint_before = server.http().checkpoint();
    cosign(&server.url, &[]).assert_one_line_error(&[
        "the server records no cosignature for \"weiyuan-wang\"",
        "says this key last cosigned size 2",
        "restored from a tiles backup",
        "its checkpoint of size 2",
        "extends the one you cosigned (checked here)",
        "it already carries a cosignature by \"weiyuan-wang\" from before the restore",
        "--resync",
    ]);
    assert_eq!(std::fs::read(&state).unwrap(), state_before);
    assert_eq!(server.http().checkpoint(), checkpoint_before);
    let out = cosign(&server.url, &["--resync"]);
    out.assert_ok();
    assert!(
        out.stdout.contains("resync: the server records size 0"),
        "{out:#?}"
    );
    // Recorded now: the next run needs no resync.
    cosign(&server.url, &[]).assert_ok();
}

/// Proves that a `--url` the client cannot use is refused before any
/// request, with what it needs and an example: no scheme, another scheme,
/// no host, a query; for every command that takes --url.
#[test]
fn a_url_without_http_says_what_it_needs() {
    let c = Community::new();
    let member = c.key_path(COMMITTEE[0]).to_str().unwrap().to_string();
    let state = c.path("wang.state");
    let cases = [
        (
            "127.0.0.1:8080",
            "--url needs http:// or https://, e.g. http://127.0.0.1:8080",
        ),
        (
            "localhost:8080",
            "--url needs http:// or https://, e.g. http://127.0.0.1:8080",
        ),
        ("ftp://127.0.0.1:8080", "--url needs http:// or https://"),
        ("http://", "is not a valid URL"),
        ("http://127.0.0.1:8080/?x=1", "must not carry a query"),
    ];
    for (url, needle) in cases {
        let with_url = |args: &[&str]| {
            let mut all = args.to_vec();
            all.extend_from_slice(&["--url", url]);
            run(all)
        };
        with_url(&["verify", "--log-key", &c.log_key]).assert_one_line_error(&[needle]);
        with_url(&[
            "cosign-checkpoint",
            "--key",
            &member,
            "--state",
            state.to_str().unwrap(),
        ])
        .assert_one_line_error(&[needle]);
        let id = "0".repeat(64);
        with_url(&["sign", "--key", &member, "--yes", &id]).assert_one_line_error(&[needle]);
    }
    assert!(!state.exists(), "no state file is written");
}
