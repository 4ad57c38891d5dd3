//! Signing a genesis draft in the page (web/genesis.js, docs/format.md
//! §11.7), in real headless Chromium with one profile per founder's phone
//! (support/cdp.rs), against the real binary's `genesis draft` and `init
//! --draft`.
//!
//! What is proved: one founder's key is made in the page for the new
//! ledger and goes into the description; another founder imports a key
//! file in the page; each sees the draft's terms and its id and downloads
//! a `NAME.sig`; with a third signature made by `feeledger genesis sign`,
//! `feeledger init --draft` makes a ledger whose genesis carries all three
//! and which verifies. A draft with one byte changed is refused in the
//! page in plain words, with no sign button.

mod support;

use feeledger_core::hash::sha256;
use serde_json::{json, Value};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Instant;
use support::cdp::{Phone, WAIT_MAX};
use support::http::Server;
use support::{keygen, log_keygen, run, Community, COMMITTEE, COMPANY};

/// The new ledger's origin: another than the one whose server shows the
/// page, so the keys kept for it are apart from that ledger's.
const NEW_ORIGIN: &str = "example.org/yuehu";

fn phone(dir: &Path, name: &str) -> Phone {
    let mut p = Phone::start(name, &dir.join(format!("phone-{name}")), &[]);
    let downloads = dir.join(format!("downloads-{name}"));
    std::fs::create_dir_all(&downloads).unwrap();
    p.call(
        "Browser.setDownloadBehavior",
        json!({"behavior": "allow", "downloadPath": downloads.display().to_string()}),
    );
    p
}

/// Waits for `file` to be downloaded whole (Chromium writes a
/// `.crdownload` first, then renames it).
fn downloaded(dir: &Path, phone: &str, file: &str) -> String {
    let path = dir.join(format!("downloads-{phone}")).join(file);
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(&path) {
            if text.ends_with('\n') {
                return text;
            }
        }
        assert!(
            started.elapsed() < WAIT_MAX,
            "{phone}: {file} was not downloaded"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Opens the draft at `draft` in `phone`'s genesis view; what the page shows.
fn open_draft(phone: &mut Phone, draft: &Path) -> Value {
    phone.eval("document.getElementById('genesis-draft')?.removeAttribute('data-id'); document.getElementById('genesis-refused')?.remove(); true");
    phone.choose_file("#genesis-file", draft);
    phone.wait_for(
        "(() => { const r = document.getElementById('genesis-refused'); if (r) return {refused: r.dataset.reason, text: r.innerText};
                  const d = document.getElementById('genesis-draft'); const k = document.getElementById('genesis-key');
                  return d && d.dataset.id && k ? {id: d.dataset.id, key: k.dataset.state, role: k.dataset.role || null,
                    shown_id: document.getElementById('genesis-id').textContent, text: document.getElementById('genesis-terms').innerText,
                    sign: Boolean(document.getElementById('genesis-sign'))} : null; })()",
        "the page's answer to the draft",
    )
}

/// Signs the open draft in the page; the downloaded file's text.
fn sign_in_page(phone: &mut Phone, dir: &Path, name: &str, key: &str) -> String {
    phone.click("#genesis-sign");
    let shown = phone.wait_for(
        "document.getElementById('genesis-sig')?.textContent",
        "the signature",
    );
    let text = downloaded(dir, name, &format!("{key}.sig"));
    assert_eq!(json!(text), shown, "the page shows what it downloaded");
    text
}

/// Proves the ceremony with founders in the page: 王's key is made in
/// phone W's genesis view for the new ledger (its KeyDef text goes into the
/// description), 赵 imports a key file in phone Z's; the draft shows in
/// each with its id (SHA-256 of the file, in groups of four), the
/// community's name and the committee's 2 of 3, and whose role the key is
/// in; each downloads `NAME.sig` in the §11.7 form; with the company's
/// signature from `feeledger genesis sign`, `init --draft` succeeds and
/// `verify` passes, and the genesis lists the three signatures. The same
/// draft with one byte of its log key changed is refused in W's page with a
/// plain reason and no sign button.
#[test]
fn founders_sign_a_draft_in_their_phones_and_init_takes_their_files() {
    // Any feeledger server shows the page; this one serves another ledger.
    let host = Community::new();
    let server = Server::start(&host.data);
    let page = format!("{}/#genesis", server.url);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let mut w = phone(d, "w");
    w.open(&page);
    w.wait_for(
        "document.getElementById('genesis-make-form')",
        "the genesis view at #genesis",
    );
    w.type_into("#genesis-origin", NEW_ORIGIN);
    w.type_into("#genesis-key-name", COMMITTEE[0]);
    w.click("#genesis-make");
    let key_def = w.wait_for(
        "document.getElementById('genesis-keydef')?.textContent",
        "the new key's KeyDef",
    );
    let key_def: Value = serde_json::from_str(key_def.as_str().unwrap()).unwrap();
    assert_eq!(key_def["name"], json!(COMMITTEE[0]));
    let wang_public = key_def["public_key"].as_str().unwrap().to_string();

    // The coordinator's machine: the log key and the founders' public keys.
    let coordinator = d.join("coordinator");
    std::fs::create_dir_all(&coordinator).unwrap();
    log_keygen(&coordinator, NEW_ORIGIN);
    let zhao = keygen(&machine(d.join("zhao")), COMMITTEE[1]);
    let chen = keygen(&machine(d.join("chen")), COMMITTEE[2]);
    let company = keygen(&machine(d.join("company")), COMPANY);
    let line = |name: &str, key: &str| format!("{{ name = \"{name}\", public_key = \"{key}\" }}");
    let description = format!(
        "origin = \"{NEW_ORIGIN}\"\nname = \"月湖小区 Moon Lake\"\n\n\
         [roles.company]\nthreshold = 1\nkeys = [{}]\n\n\
         [roles.committee]\nthreshold = 2\nkeys = [{}, {}, {}]\n",
        line(COMPANY, &company.public_key),
        line(COMMITTEE[2], &chen.public_key),
        line(COMMITTEE[0], &wang_public),
        line(COMMITTEE[1], &zhao.public_key),
    );
    std::fs::write(coordinator.join("terms.toml"), description).unwrap();
    let draft = coordinator.join("genesis.json");
    run([
        OsStr::new("genesis"),
        OsStr::new("draft"),
        OsStr::new("--description"),
        coordinator.join("terms.toml").as_os_str(),
        OsStr::new("--log-key"),
        coordinator.join("log.key").as_os_str(),
        OsStr::new("--out"),
        draft.as_os_str(),
    ])
    .assert_ok();
    let draft_bytes = std::fs::read(&draft).unwrap();
    let id = sha256(&draft_bytes).to_hex();

    // W: the draft in words, then signed.
    let shown = open_draft(&mut w, &draft);
    assert_eq!(shown["id"], json!(id), "{shown}");
    let grouped: Vec<String> = id
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    assert_eq!(
        shown["shown_id"],
        json!(grouped.join(" ")),
        "the id in groups of four: {shown}"
    );
    assert_eq!(
        (shown["key"].clone(), shown["role"].clone()),
        (json!("listed"), json!("committee")),
        "{shown}"
    );
    let terms = shown["text"].as_str().unwrap();
    for words in [
        "月湖小区 Moon Lake",
        NEW_ORIGIN,
        "业主委员会：3 人中须 2 人签署",
        "物业公司：1 人中须 1 人签署",
        "专项维修资金",
    ] {
        assert!(terms.contains(words), "{words}: {terms}");
    }
    let wang_sig = sign_in_page(&mut w, d, "w", COMMITTEE[0]);

    // Z: no key kept for the new ledger yet; the key file is imported here.
    let mut z = phone(d, "z");
    z.open(&page);
    z.wait_for(
        "document.getElementById('genesis-file')",
        "the genesis view",
    );
    let before = open_draft(&mut z, &draft);
    assert_eq!(before["key"], json!("none"), "{before}");
    assert_eq!(before["sign"], json!(false), "{before}");
    z.choose_file("#genesis-key-file", &zhao.path);
    z.wait_for(
        "document.querySelector('#genesis-key[data-state=listed][data-role=committee]')",
        "the imported key, listed",
    );
    let zhao_sig = sign_in_page(&mut z, d, "z", COMMITTEE[1]);

    // The files are the §11.7 form: canonical {id, key, sig} and one "\n".
    for (text, key) in [(&wang_sig, COMMITTEE[0]), (&zhao_sig, COMMITTEE[1])] {
        let value: Value = serde_json::from_str(text).unwrap();
        assert_eq!(value["id"], json!(id), "{text}");
        assert_eq!(value["key"], json!(key), "{text}");
        assert_eq!(format!("{}\n", support::canonical_json(&value)), *text);
        assert!(!text.contains("PRIVATE"), "{text}");
    }
    let files: Vec<PathBuf> = [("wang.sig", &wang_sig), ("zhao.sig", &zhao_sig)]
        .into_iter()
        .map(|(name, text)| {
            let path = coordinator.join(name);
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();

    // The company signs with the CLI, on its own machine.
    let company_sig = coordinator.join("company.sig");
    run([
        OsStr::new("genesis"),
        OsStr::new("sign"),
        OsStr::new("--body"),
        draft.as_os_str(),
        OsStr::new("--key"),
        company.path.as_os_str(),
        OsStr::new("--out"),
        company_sig.as_os_str(),
        OsStr::new("--yes"),
    ])
    .assert_ok();

    let data = coordinator.join("data");
    let mut args: Vec<&OsStr> = vec![
        OsStr::new("init"),
        OsStr::new("--data"),
        data.as_os_str(),
        OsStr::new("--draft"),
        draft.as_os_str(),
        OsStr::new("--log-key"),
    ];
    let log_key = coordinator.join("log.key");
    args.push(log_key.as_os_str());
    for f in files.iter().chain([&company_sig]) {
        args.push(OsStr::new("--signature"));
        args.push(f.as_os_str());
    }
    run(args).assert_ok();
    let verified = run([
        OsStr::new("verify"),
        OsStr::new("--data"),
        data.as_os_str(),
        OsStr::new("--json"),
    ]);
    verified.assert_ok();
    assert_eq!(verified.json()["ok"], json!(true), "{verified:#?}");
    let genesis = run([
        OsStr::new("show"),
        OsStr::new("--data"),
        data.as_os_str(),
        OsStr::new("0"),
        OsStr::new("--json"),
    ]);
    genesis.assert_ok();
    let leaf = genesis.json()["leaf"].clone();
    assert_eq!(
        support::canonical_json(&leaf["body"]).as_bytes(),
        &draft_bytes[..],
        "the genesis is the draft"
    );
    let signers: Vec<&str> = leaf["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(signers, [COMMITTEE[0], COMMITTEE[1], COMPANY]);

    // One byte of the log key changed: refused in plain words.
    let text = String::from_utf8(draft_bytes.clone()).unwrap();
    let at = text.find(&format!("\"log_key\":\"{NEW_ORIGIN}+")).unwrap()
        + "\"log_key\":\"".len()
        + NEW_ORIGIN.len()
        + 1
        + 8
        + 1
        + 20;
    let mut changed = draft_bytes.clone();
    changed[at] = if changed[at] == b'A' { b'B' } else { b'A' };
    let changed_path = d.join("changed.json");
    std::fs::write(&changed_path, &changed).unwrap();
    let refused = open_draft(&mut w, &changed_path);
    assert_eq!(refused["refused"], json!("log-key"), "{refused}");
    assert!(
        refused["text"].as_str().unwrap().contains("日志钥匙已损坏"),
        "{refused}"
    );
    assert_eq!(
        w.eval("Boolean(document.getElementById('genesis-sign'))"),
        json!(false)
    );

    // One byte that breaks the canonical form (a space for a comma's neighbour).
    let mut spaced = draft_bytes.clone();
    let comma = text.find(",\"date\"").unwrap();
    spaced[comma + 1] = b' ';
    let spaced_path = d.join("spaced.json");
    std::fs::write(&spaced_path, &spaced).unwrap();
    let refused = open_draft(&mut w, &spaced_path);
    assert!(
        matches!(
            refused["refused"].as_str(),
            Some("not-json" | "not-canonical")
        ),
        "{refused}"
    );
}

/// `path`, made first: a founder's own machine.
fn machine(path: PathBuf) -> PathBuf {
    std::fs::create_dir_all(&path).unwrap();
    path
}
