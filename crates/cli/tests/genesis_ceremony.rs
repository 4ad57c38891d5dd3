//! The genesis ceremony (`genesis draft`, `genesis sign`, `init --draft`),
//! run with the real binary: each founder in their own directory, holding
//! only their own key file, and the coordinator holding none of theirs.

mod support;

use feeledger_core::hash::sha256;
use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use support::{field, keygen, log_keygen, names, run, Key, Output, COMMITTEE, COMPANY, ORIGIN};
use tempfile::TempDir;

/// One founder's machine: a directory with their own key and nothing else.
struct Founder {
    dir: TempDir,
    name: &'static str,
    key: Key,
}

impl Founder {
    fn new(name: &'static str) -> Founder {
        let dir = tempfile::tempdir().unwrap();
        let key = keygen(dir.path(), name);
        Founder { dir, name, key }
    }

    /// Copies the draft to this machine, and runs `genesis sign` on it
    /// with this founder's key.
    fn sign(&self, draft: &Path, extra: &[&str]) -> (Output, PathBuf) {
        let body = self.dir.path().join("genesis.json");
        std::fs::copy(draft, &body).unwrap();
        let out_path = self.dir.path().join(format!("{}.sig", self.name));
        let mut args: Vec<&OsStr> = vec![
            OsStr::new("genesis"),
            OsStr::new("sign"),
            OsStr::new("--body"),
            body.as_os_str(),
            OsStr::new("--key"),
            self.key.path.as_os_str(),
            OsStr::new("--out"),
            out_path.as_os_str(),
        ];
        args.extend(extra.iter().map(OsStr::new));
        let out = run(args);
        std::fs::remove_file(&body).unwrap();
        (out, out_path)
    }
}

/// The coordinator's machine (the server's): the description, the log
/// key, the drafts and the collected signature files.
struct Ceremony {
    dir: TempDir,
    founders: Vec<Founder>,
}

impl Ceremony {
    /// Four founders (the company's key, three committee keys; the
    /// committee's threshold is 2), each on their own machine, and a
    /// description naming their public keys and no signers.
    fn new() -> Ceremony {
        let dir = tempfile::tempdir().unwrap();
        log_keygen(dir.path(), ORIGIN);
        let founders: Vec<Founder> = [COMPANY, COMMITTEE[0], COMMITTEE[1], COMMITTEE[2]]
            .into_iter()
            .map(Founder::new)
            .collect();
        let line = |f: &Founder| {
            format!(
                "{{ name = \"{}\", public_key = \"{}\" }}",
                f.name, f.key.public_key
            )
        };
        let description = format!(
            "origin = \"{ORIGIN}\"\nname = \"星光小区 X Star District\"\n\n\
             [roles.company]\nthreshold = 1\nkeys = [{}]\n\n\
             [roles.committee]\nthreshold = 2\nkeys = [{}, {}, {}]\n",
            line(&founders[0]),
            line(&founders[1]),
            line(&founders[2]),
            line(&founders[3]),
        );
        std::fs::write(dir.path().join("terms.toml"), description).unwrap();
        Ceremony { dir, founders }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn founder(&self, name: &str) -> &Founder {
        self.founders.iter().find(|f| f.name == name).unwrap()
    }

    /// `genesis draft --description terms.toml --log-key log.key --out NAME`.
    fn draft(&self, name: &str) -> Output {
        let out = self.path(name);
        run([
            OsStr::new("genesis"),
            OsStr::new("draft"),
            OsStr::new("--description"),
            self.path("terms.toml").as_os_str(),
            OsStr::new("--log-key"),
            self.path("log.key").as_os_str(),
            OsStr::new("--out"),
            out.as_os_str(),
        ])
    }

    /// `name` signs `draft` (yes), and the signature file is carried to the
    /// coordinator as `as_file`.
    fn collect(&self, name: &str, draft: &str, as_file: &str) -> PathBuf {
        let (out, sig) = self.founder(name).sign(&self.path(draft), &["--yes"]);
        out.assert_ok();
        let to = self.path(as_file);
        std::fs::rename(sig, &to).unwrap();
        to
    }

    /// `init --data data --draft DRAFT --log-key LOG --signature ...`.
    fn init(&self, draft: &str, log_key: &str, signatures: &[&str]) -> Output {
        let mut args: Vec<std::ffi::OsString> = vec![
            "init".into(),
            "--data".into(),
            self.path("data").into(),
            "--draft".into(),
            self.path(draft).into(),
            "--log-key".into(),
            self.path(log_key).into(),
        ];
        for s in signatures {
            args.push("--signature".into());
            args.push(self.path(s).into());
        }
        run(args)
    }
}

/// Proves the whole ceremony: a draft is written (its id is SHA-256 of the
/// file, and it is summarised in Chinese and English); three founders, each
/// with only their own key on their own machine, see it in words and sign
/// it; `init` from the draft and the three signature files makes a ledger
/// whose genesis is exactly the draft and which `verify` passes; and the
/// signature files hold no private key.
#[test]
fn three_founders_sign_apart_and_init_makes_a_verified_ledger() {
    let c = Ceremony::new();
    let drafted = c.draft("genesis.json");
    drafted.assert_ok();
    let draft_bytes = std::fs::read(c.path("genesis.json")).unwrap();
    let id = sha256(&draft_bytes).to_hex();
    assert!(drafted.stdout.contains(&id), "{drafted:#?}");
    for words in [
        "业主委员会 committee: 3 人中须 2 人签署 2 of 3 must sign",
        "物业公司 company",
        "专项维修资金",
        "支出 expenditure 须 needs",
        "feeledger genesis sign --body",
        "下一步",
        "feeledger init --data DIR --draft",
    ] {
        assert!(drafted.stdout.contains(words), "{words}: {drafted:#?}");
    }

    let mut files = Vec::new();
    for (name, file) in [
        (COMPANY, "a.sig"),
        (COMMITTEE[0], "b.sig"),
        (COMMITTEE[1], "c.sig"),
    ] {
        let founder = c.founder(name);
        assert_eq!(names(founder.dir.path()), [format!("{name}.key")]);
        let (out, sig) = founder.sign(&c.path("genesis.json"), &["--yes"]);
        out.assert_ok();
        assert!(out.stdout.contains(&id), "the signer sees the id: {out:#?}");
        assert!(out.stdout.contains("星光小区"), "{out:#?}");
        let text = std::fs::read_to_string(&sig).unwrap();
        assert!(!text.contains("PRIVATE"), "{text}");
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["id"], Value::String(id.clone()));
        assert_eq!(json["key"], Value::String(name.to_string()));
        std::fs::copy(&sig, c.path(file)).unwrap();
        files.push(file);
    }

    let made = c.init("genesis.json", "log.key", &files);
    made.assert_ok();
    let log_key = field(&made.stdout, "log key (post it on the notice board):").unwrap();

    let shown = run([
        OsStr::new("show"),
        OsStr::new("--data"),
        c.path("data").as_os_str(),
        OsStr::new("0"),
        OsStr::new("--json"),
    ]);
    shown.assert_ok();
    let leaf = shown.json()["leaf"].clone();
    let signed: Vec<&str> = leaf["signatures"]
        .as_array()
        .unwrap_or_else(|| panic!("{leaf}"))
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(signed, [COMMITTEE[0], COMMITTEE[1], COMPANY]);
    assert_eq!(
        support::canonical_json(&leaf["body"]).as_bytes(),
        draft_bytes.as_slice(),
        "the genesis is the draft, byte for byte"
    );

    let verified = run([
        OsStr::new("verify"),
        OsStr::new("--data"),
        c.path("data").as_os_str(),
        OsStr::new("--log-key"),
        OsStr::new(&log_key),
        OsStr::new("--json"),
    ]);
    assert!(
        verified.success() && verified.json()["ok"] == Value::Bool(true),
        "{verified:#?}"
    );
}

/// Proves that `genesis sign` signs only what a founder confirmed, and
/// only with a key the draft lists: without `--yes` and with no answer it
/// writes nothing, and a key the draft does not list is refused.
#[test]
fn sign_needs_a_yes_and_a_listed_key() {
    let c = Ceremony::new();
    c.draft("genesis.json").assert_ok();
    let wang = c.founder(COMMITTEE[0]);
    let (out, sig) = wang.sign(&c.path("genesis.json"), &[]);
    // The question goes to stderr too; the answer (none) is the last line.
    out.assert_failed();
    assert!(out.stderr.contains("Sign this genesis? [y/N]"), "{out:#?}");
    assert!(
        out.stderr.lines().last().is_some_and(
            |l| l == "error: not signed: not confirmed (answer y, or pass --yes in scripts)"
        ),
        "{out:#?}"
    );
    assert!(!sig.exists());

    let outsider = Founder::new(support::OUTSIDER);
    let (out, sig) = outsider.sign(&c.path("genesis.json"), &["--yes"]);
    out.assert_one_line_error(&["the draft lists no key \"outsider-zhou\""]);
    assert!(!sig.exists());
}

/// Proves that `init --draft` refuses, with a one-line error naming the
/// rule and the fix, and leaves no data directory (nor anything else) for
/// each of: a signature of another draft, a key the draft does not list, a
/// signature that does not verify, too few signatures for the genesis
/// rule, a log key other than the one the draft names, and a draft that is
/// not canonical. The same files, put right, then make the ledger.
#[test]
fn init_refuses_wrong_signatures_and_drafts_and_changes_nothing() {
    let c = Ceremony::new();
    c.draft("genesis.json").assert_ok();
    c.draft("other.json").assert_ok();
    c.collect(COMPANY, "genesis.json", "a.sig");
    c.collect(COMMITTEE[0], "genesis.json", "b.sig");
    c.collect(COMMITTEE[1], "genesis.json", "c.sig");
    c.collect(COMMITTEE[1], "other.json", "c-other.sig");

    // A signature file whose key name was changed to one the draft does
    // not list, and one whose signature is another founder's.
    let b: Value =
        serde_json::from_str(&std::fs::read_to_string(c.path("b.sig")).unwrap()).unwrap();
    let c_sig: Value =
        serde_json::from_str(&std::fs::read_to_string(c.path("c.sig")).unwrap()).unwrap();
    let mut unknown = b.clone();
    unknown["key"] = Value::String(support::OUTSIDER.into());
    std::fs::write(c.path("unknown.sig"), support::canonical_json(&unknown)).unwrap();
    let mut swapped = c_sig.clone();
    swapped["sig"] = b["sig"].clone();
    std::fs::write(c.path("swapped.sig"), support::canonical_json(&swapped)).unwrap();

    // Another log key of the same origin, and a draft an editor touched.
    let elsewhere = tempfile::tempdir().unwrap();
    log_keygen(elsewhere.path(), ORIGIN);
    std::fs::copy(elsewhere.path().join("log.key"), c.path("other-log.key")).unwrap();
    let mut touched = std::fs::read(c.path("genesis.json")).unwrap();
    touched.push(b'\n');
    std::fs::write(c.path("touched.json"), touched).unwrap();

    let before = names(c.dir.path());
    for (draft, log_key, signatures, needles) in [
        (
            "genesis.json",
            "log.key",
            &["a.sig", "b.sig", "c-other.sig"][..],
            &["weiyuan-zhao signs another draft", "genesis sign"][..],
        ),
        (
            "genesis.json",
            "log.key",
            &["a.sig", "b.sig", "c.sig", "unknown.sig"],
            &["outsider-zhou is not a key the draft lists"],
        ),
        (
            "genesis.json",
            "log.key",
            &["a.sig", "b.sig", "swapped.sig"],
            &["weiyuan-zhao does not verify over this draft", "sign again"],
        ),
        (
            "genesis.json",
            "log.key",
            &["a.sig", "b.sig"],
            &[
                "needs 2 signature(s) of the committee role and 1 were given",
                "weiyuan-chen, weiyuan-zhao",
                "collect their signature files",
            ],
        ),
        (
            "genesis.json",
            "other-log.key",
            &["a.sig", "b.sig", "c.sig"],
            &["the draft names", "--log-key"],
        ),
        (
            "touched.json",
            "log.key",
            &["a.sig", "b.sig", "c.sig"],
            &["not a canonical genesis body", "genesis draft"],
        ),
    ] {
        let out = c.init(draft, log_key, signatures);
        out.assert_one_line_error(needles);
        assert_eq!(names(c.dir.path()), before, "nothing is left: {out:#?}");
    }

    c.init("genesis.json", "log.key", &["a.sig", "b.sig", "c.sig"])
        .assert_ok();
    assert!(c.path("data").join("log.key").exists());
}
