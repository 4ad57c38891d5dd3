//! The signing view of the residents' page (签署), driven in real headless
//! Chromium through the DevTools protocol (support/cdp.rs), with one
//! profile directory per phone, against the real server on loopback and a
//! ledger made by the real binary.
//!
//! What is proved: a key made in the page is kept (IndexedDB), cannot be
//! exported, and can be enrolled by a governance entry the CLI makes; key
//! files made by `feeledger keygen` import and sign; two members co-sign in
//! two phones and the entry commits; a second signature says "already
//! signed"; a server that shows another amount than the bytes to sign gets
//! no signature; a page on an insecure origin says why it cannot sign; the
//! proposer withdraws in the page (and only the withdrawal changes), a
//! committee member's withdrawal waits for a second and says so, a role
//! the rule does not name is offered no withdrawal, withdrawn proposals
//! stay listed with who withdrew them and when; and the English view holds
//! no Chinese.

mod support;

use serde_json::{json, Value};
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use support::cdp::Phone;
use support::http::{Http, Server};
use support::page::cosign;
use support::proxy::{forward_get, loopback, path_of, Answer};
use support::{run, Community, COMMITTEE, COMPANY, ORIGIN};

/// A community with 5,000 yuan of income, served on loopback.
struct Fixture {
    c: Community,
    server: Server,
}

impl Fixture {
    fn new() -> Fixture {
        let c = Community::new();
        c.income("2026-02-01", "5000", "3-1502", "二月物业费");
        let server = Server::start(&c.data);
        Fixture { c, server }
    }

    fn http(&self) -> Http {
        self.server.http()
    }

    /// The page's URL on the server (localhost: a secure origin).
    fn page(&self) -> String {
        format!("{}/", self.server.url)
    }

    /// `feeledger propose --url` signed by `signers`; the output.
    fn propose(&self, signers: &[&str], kind: &[&str]) -> support::Output {
        let mut args = vec![
            "propose".to_string(),
            "--url".to_string(),
            self.server.url.clone(),
        ];
        for s in signers {
            args.push("--key".into());
            args.push(self.c.key_path(s).display().to_string());
        }
        args.extend([
            "--date".to_string(),
            "2026-02-10".to_string(),
            "--yes".to_string(),
        ]);
        args.extend(kind.iter().map(|s| s.to_string()));
        run(args)
    }

    /// An expenditure of ¥1,280.50 from the operating fund, proposed by the
    /// company with the CLI; its pending id.
    fn pending_expenditure(&self) -> String {
        let out = self.propose(
            &[COMPANY],
            &[
                "expenditure",
                "--amount",
                "1280.50",
                "--category",
                "repairs",
                "--payee",
                "星光电梯维修有限公司",
                "--memo",
                "3号楼电梯更换钢丝绳",
            ],
        );
        out.assert_ok();
        out.pending_id()
            .unwrap_or_else(|| panic!("the expenditure waits for the committee: {out:#?}"))
    }

    fn proposal(&self, id: &str) -> Value {
        self.http()
            .get(&format!("/api/v1/proposals/{id}"))
            .ok_json()
    }
}

/// A new phone: Chromium with a profile directory of its own under `dir`.
fn phone(dir: &Path, name: &str, extra: &[&str]) -> Phone {
    Phone::start(name, &dir.join(format!("phone-{name}")), extra)
}

/// Imports the key file of `member` in `phone`'s page and waits until the
/// page shows the key; checks it is the key the file holds.
fn import_key(phone: &mut Phone, c: &Community, member: &str) {
    phone.wait_for(
        "document.getElementById('key-file')",
        "the key import field",
    );
    phone.choose_file("#key-file", c.key_path(member));
    phone.wait_for(
        "document.querySelector('#key-card[data-state=ready]')",
        "the imported key",
    );
    let card = key_card(phone);
    assert_eq!(card["name"], json!(member), "{card}");
    assert_eq!(
        card["public_key"],
        json!(c.key(member).public_key),
        "{card}"
    );
    assert_eq!(card["source"], json!("imported"), "{card}");
    assert_eq!(
        card["delete_warning"],
        json!(true),
        "the page says to delete the file: {card}"
    );
}

/// What the key card shows.
fn key_card(phone: &mut Phone) -> Value {
    phone.eval(
        "(() => { const c = document.getElementById('key-card'); const q = document.querySelector('#key-qr path');
          return { state: c.dataset.state, name: c.dataset.name, public_key: c.dataset.publicKey, source: c.dataset.source,
            shown: document.getElementById('key-public')?.textContent, qr_path_len: q ? q.getAttribute('d').length : 0,
            enrolment: document.getElementById('key-enrolment')?.dataset.state, role: document.getElementById('key-enrolment')?.dataset.role,
            delete_warning: Boolean(document.getElementById('key-delete-file')) }; })()",
    )
}

/// Proves that a key made in phone A's page is kept across a reload
/// (IndexedDB, keyed by the ledger's origin), is non-extractable
/// (`crypto.subtle.exportKey` fails, `extractable` is false), is shown as
/// the KeyDef text and a QR code, and that the public key shown is one a
/// governance entry made with `feeledger propose governance` enrolls: after
/// it, the page says the key is the committee's.
#[test]
fn a_key_made_in_the_page_is_kept_is_not_extractable_and_can_be_enrolled() {
    let f = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let mut a = phone(dir.path(), "a", &[]);
    a.open(&f.page());
    a.wait_for(
        "document.getElementById('key-make')",
        "the make-a-key button",
    );
    // A name that breaks the key-name rule is refused, in Chinese, and nothing is kept.
    a.type_into("#key-name", "Wang Wei");
    a.click("#key-make");
    let code = a.wait_for(
        "document.getElementById('key-error')?.dataset.code",
        "the bad-name error",
    );
    assert_eq!(code, json!("bad-name"));
    let message = a.eval("document.getElementById('key-error').textContent");
    assert!(
        message.as_str().unwrap().contains("钥匙名不合规矩"),
        "{message}"
    );

    a.type_into("#key-name", "weiyuan-sun");
    a.click("#key-make");
    a.wait_for(
        "document.querySelector('#key-card[data-state=ready]')",
        "the new key",
    );
    let made = key_card(&mut a);
    assert_eq!(made["name"], json!("weiyuan-sun"), "{made}");
    assert_eq!(made["source"], json!("made"), "{made}");
    assert_eq!(made["enrolment"], json!("not-enrolled"), "{made}");
    let public_key = made["public_key"].as_str().unwrap().to_string();
    assert_eq!(
        made["shown"],
        json!(json!({"name": "weiyuan-sun", "public_key": public_key}).to_string()),
        "the page shows the key as a genesis or governance entry lists it"
    );
    assert!(
        made["qr_path_len"].as_u64().unwrap() > 100,
        "a QR code is drawn: {made}"
    );

    a.reload();
    a.wait_for(
        "document.querySelector('#key-card[data-state=ready]')",
        "the kept key after a reload",
    );
    assert_eq!(
        key_card(&mut a)["public_key"],
        json!(public_key),
        "the same key after a reload"
    );
    let export = a.eval(&format!(
        "new Promise((resolve) => {{ const req = indexedDB.open('feeledger-keys');
           req.onsuccess = () => {{ const get = req.result.transaction('keys').objectStore('keys').get({origin});
             get.onsuccess = async () => {{ const k = get.result.private_key; let exported = true;
               try {{ await crypto.subtle.exportKey('pkcs8', k); }} catch (e) {{ exported = false; }}
               let jwk = true; try {{ await crypto.subtle.exportKey('jwk', k); }} catch (e) {{ jwk = false; }}
               resolve({{ extractable: k.extractable, exported, jwk, type: k.type, alg: k.algorithm.name }}); }}; }}; }})",
        origin = json!(ORIGIN)
    ));
    assert_eq!(
        export,
        json!({"extractable": false, "exported": false, "jwk": false, "type": "private", "alg": "Ed25519"}),
        "the kept private key cannot be read out"
    );

    // Enrol it: the committee with the new member, by governance (company
    // and committee sign under the default rules).
    let line = |name: &str, key: &str| format!("{{ name = \"{name}\", public_key = \"{key}\" }}");
    let mut committee: Vec<(String, String)> = COMMITTEE
        .iter()
        .map(|n| (n.to_string(), f.c.key(n).public_key.clone()))
        .collect();
    committee.push(("weiyuan-sun".to_string(), public_key.clone()));
    committee.sort();
    let roles = format!(
        "[company]\nthreshold = 1\nkeys = [{}]\n\n[committee]\nthreshold = 2\nkeys = [{}]\n",
        line(COMPANY, &f.c.key(COMPANY).public_key),
        committee
            .iter()
            .map(|(n, k)| line(n, k))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let roles_path = f.c.path("roles-with-sun.toml");
    std::fs::write(&roles_path, roles).unwrap();
    let out = f.propose(
        &[COMPANY, COMMITTEE[0], COMMITTEE[1]],
        &[
            "governance",
            "--roles",
            roles_path.to_str().unwrap(),
            "--memo",
            "增补委员孙某",
        ],
    );
    out.assert_ok();
    assert!(
        out.committed_seq().is_some(),
        "the governance entry commits: {out:#?}"
    );
    let ledger = f.http().get("/api/v1/ledger").ok_json();
    let enrolled = ledger["roles"]["committee"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["name"] == "weiyuan-sun" && k["public_key"] == json!(public_key));
    assert!(enrolled, "the ledger lists the page's key: {ledger}");

    a.reload();
    a.wait_for(
        "document.querySelector('#key-enrolment[data-state=enrolled][data-role=committee]')",
        "the page to say the key is the committee's",
    );
    let text = a.eval("document.getElementById('key-enrolment').textContent");
    assert!(text.as_str().unwrap().contains("业主委员会"), "{text}");
}

/// Proves the co-signing flow across phones: key files made by `feeledger
/// keygen` import in phones B and C (each page shows the file's key and
/// says to delete the file); an expenditure proposed with the CLI is shown
/// in B with its payee, amount in yuan, fund, balance before and after, and
/// rule; B co-signs (the server then lists B's signature) and a second tap
/// says "already signed" with no second POST; C co-signs, the page says
/// "committed" with the entry's seq, and the API serves that entry with the
/// amount and both members' signatures.
#[test]
fn members_cosign_in_their_own_phones_and_it_commits() {
    let f = Fixture::new();
    let id = f.pending_expenditure();
    let dir = tempfile::tempdir().unwrap();
    let mut b = phone(dir.path(), "b", &[]);
    let mut c = phone(dir.path(), "c", &[]);
    b.open(&f.page());
    import_key(&mut b, &f.c, COMMITTEE[1]);
    c.open(&f.page());
    import_key(&mut c, &f.c, COMMITTEE[2]);

    b.wait_for(
        &format!("document.querySelector('[data-sign-card=\"{id}\"] [data-sign]')"),
        "the pending expenditure in B",
    );
    let shown = b.eval(&format!(
        "(() => {{ const c = document.querySelector('[data-sign-card=\"{id}\"]');
           return {{ text: c.innerText, amount: c.dataset.amountFen, after: c.querySelector('.balance-after')?.dataset.fen }}; }})()"
    ));
    let text = shown["text"].as_str().unwrap();
    for needle in [
        "¥1,280.50",
        "星光电梯维修有限公司",
        "物业服务费",
        "维修",
        "3号楼电梯更换钢丝绳",
        "2026年2月10日",
        "¥5,000.00",
        "¥3,719.50",
        "物业公司 1 人、业主委员会 2 人",
        "wuye-li（物业公司）",
    ] {
        assert!(text.contains(needle), "B's card shows {needle:?}:\n{text}");
    }
    assert_eq!(shown["amount"], json!("128050"));
    assert_eq!(shown["after"], json!("371950"));

    let (status, text) = cosign(&mut b, &id);
    assert_eq!(status, "pending", "{text}");
    assert!(text.contains("已签署"), "{text}");
    let signers: Vec<Value> = f.proposal(&id)["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].clone())
        .collect();
    assert!(
        signers.contains(&json!(COMMITTEE[1])),
        "the server holds B's signature: {signers:?}"
    );
    assert_eq!(b.requests("POST").len(), 1, "one signature posted");

    // A second tap in B: the page sees B's signature and posts nothing.
    let (status, text) = cosign(&mut b, &id);
    assert_eq!(status, "already", "{text}");
    assert!(text.contains("您已签过"), "{text}");
    assert_eq!(b.requests("POST").len(), 1, "no second POST");

    c.reload();
    let (status, text) = cosign(&mut c, &id);
    assert_eq!(status, "committed", "{text}");
    assert!(text.contains("已入账"), "{text}");
    let seq = c.eval(&format!(
        "Number(document.querySelector('[data-committed=\"{id}\"]').dataset.seq)"
    ));
    let seq = seq.as_u64().expect("the page shows the entry's seq");
    let entry = f.http().get(&format!("/api/v1/entries/{seq}")).ok_json();
    assert_eq!(
        entry["leaf"]["body"]["amount_fen"],
        json!(128050),
        "{entry}"
    );
    let keys: Vec<&str> = entry["leaf"]["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [COMMITTEE[2], COMMITTEE[1], COMPANY],
        "both members' signatures are in the entry"
    );
    assert!(f.http().get("/api/v1/proposals").ok_json()["proposals"]
        .as_array()
        .unwrap()
        .is_empty());
}

/// Proves that a second signature by the same key is answered "you already
/// signed": the member's key file signs with the CLI while the page is
/// open, then a tap on co-sign in the page says so and posts nothing.
#[test]
fn signing_what_the_same_key_already_signed_says_so() {
    let f = Fixture::new();
    let id = f.pending_expenditure();
    let dir = tempfile::tempdir().unwrap();
    let mut b = phone(dir.path(), "b", &[]);
    b.open(&f.page());
    import_key(&mut b, &f.c, COMMITTEE[1]);
    b.wait_for(
        &format!("document.querySelector('[data-sign-card=\"{id}\"] [data-sign]')"),
        "the pending expenditure",
    );
    let out = run([
        "sign",
        "--url",
        &f.server.url,
        "--key",
        f.c.key_path(COMMITTEE[1]).to_str().unwrap(),
        "--yes",
        &id,
    ]);
    out.assert_ok();
    let before = f.proposal(&id);
    let (status, text) = cosign(&mut b, &id);
    assert_eq!(status, "already", "{text}");
    assert!(text.contains("您已签过"), "{text}");
    assert!(b.requests("POST").is_empty(), "nothing posted");
    assert_eq!(f.proposal(&id), before, "the proposal is unchanged");
}

/// How the lying proxy changes the proposals it passes on.
const HONEST: u8 = 0;
/// The served `body` shows 1 yuan more; `body_jcs` and `id` are the real ones.
const BODY_AMOUNT: u8 = 1;
/// `body` and `body_jcs` both show 1 yuan more; `id` is the real one.
const BYTES_AMOUNT: u8 = 2;

fn lie(view: &mut Value, how: u8) {
    let real = view["body"]["amount_fen"].as_u64().unwrap();
    view["body"]["amount_fen"] = json!(real + 100);
    if how == BYTES_AMOUNT {
        let jcs = view["body_jcs"].as_str().unwrap().replace(
            &format!("\"amount_fen\":{real}"),
            &format!("\"amount_fen\":{}", real + 100),
        );
        view["body_jcs"] = json!(jcs);
    }
}

/// Proves that the page signs only what it decoded and showed: through a
/// proxy that changes the amount the server shows (in the served `body`
/// alone, then in `body_jcs` too so the id no longer matches), the page
/// refuses to sign and says why in Chinese, offers no co-sign button, and
/// sends no POST; the proposal on the server has no new signature. The
/// honest proxy path shows the button, and a lie that starts after the card
/// was shown is caught by the fresh fetch on "co-sign".
#[test]
fn a_server_that_shows_another_amount_gets_no_signature() {
    let f = Fixture::new();
    let id = f.pending_expenditure();
    let before = f.proposal(&id);
    let mode = Arc::new(AtomicU8::new(HONEST));
    let upstream = f.server.url.clone();
    let how = mode.clone();
    let client = reqwest::blocking::Client::new();
    let proxy = loopback(move |target| {
        let mut answer = forward_get(&client, &upstream, target)?;
        let how = how.load(Ordering::SeqCst);
        let path = path_of(target);
        if how != HONEST && answer.status == 200 && path.starts_with("/api/v1/proposals") {
            let mut value: Value =
                serde_json::from_slice(&answer.body).map_err(std::io::Error::other)?;
            if let Some(list) = value["proposals"].as_array_mut() {
                list.iter_mut().for_each(|v| lie(v, how));
            } else {
                lie(&mut value, how);
            }
            answer = Answer::ok("application/json", value.to_string());
        }
        Ok(answer)
    });
    let dir = tempfile::tempdir().unwrap();
    let mut b = phone(dir.path(), "b", &[]);
    let page = format!("{}/", proxy.url);
    b.open(&page);
    import_key(&mut b, &f.c, COMMITTEE[1]);
    b.wait_for(
        &format!("document.querySelector('[data-sign-card=\"{id}\"] [data-sign]')"),
        "the honest card's button",
    );

    // The server starts lying after the card was shown: the fresh copy
    // fetched on "co-sign" disagrees, and the page refuses.
    mode.store(BODY_AMOUNT, Ordering::SeqCst);
    let (status, text) = cosign(&mut b, &id);
    assert_eq!(status, "refused", "{text}");
    assert!(text.contains("本页拒绝签署"), "{text}");

    for (how, reason, words) in [
        (BODY_AMOUNT, "body-mismatch", "金额"),
        (BYTES_AMOUNT, "id-mismatch", "编号"),
    ] {
        mode.store(how, Ordering::SeqCst);
        b.reload();
        let refused = b.wait_for(
            &format!("document.querySelector('[data-sign-card=\"{id}\"]')?.dataset.refused"),
            "the page to refuse the lying proposal",
        );
        assert_eq!(refused, json!(reason));
        let card = b.eval(&format!(
            "(() => {{ const c = document.querySelector('[data-sign-card=\"{id}\"]'); return {{ text: c.innerText, button: Boolean(c.querySelector('[data-sign]')) }}; }})()"
        ));
        let text = card["text"].as_str().unwrap();
        assert!(
            text.contains("本页拒绝签署") && text.contains(words),
            "{text}"
        );
        assert!(
            !text.contains("¥1,281.50"),
            "the lie is not shown as the amount: {text}"
        );
        assert_eq!(card["button"], json!(false), "no co-sign button: {card}");
    }
    assert!(b.requests("POST").is_empty(), "nothing was posted");
    assert_eq!(
        f.proposal(&id),
        before,
        "the proposal on the server is unchanged"
    );
}

/// Proves that on an origin that is not secure (plain HTTP to a name that
/// is not localhost, here resolved to 127.0.0.1 by Chromium), the signing
/// section says in Chinese why it cannot sign and what to do, and offers
/// neither making nor importing a key.
#[test]
fn on_an_insecure_origin_the_page_says_why_it_cannot_sign() {
    let f = Fixture::new();
    let port = f.server.url.rsplit(':').next().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let mut p = phone(
        dir.path(),
        "insecure",
        &["--host-resolver-rules=MAP feeledger.test 127.0.0.1"],
    );
    p.open(&format!("http://feeledger.test:{port}/"));
    let text = p.wait_for(
        "document.getElementById('sign-insecure')?.innerText",
        "the insecure-origin message",
    );
    let text = text.as_str().unwrap();
    assert!(
        text.contains("不能用来签名") && text.contains("https://"),
        "{text}"
    );
    let offers = p.eval(
        "Boolean(document.getElementById('key-make') || document.getElementById('key-file'))",
    );
    assert_eq!(offers, json!(false), "no key can be made or imported here");
    assert_eq!(p.eval("window.isSecureContext"), json!(false));
}

/// Proves that a maintenance-fund spend is shown with the owners' vote it
/// cites, and that one the fund can no longer pay (another spend committed
/// after it was proposed) says why in yuan and plain Chinese, with the
/// balance after shown below zero (the residents' pending list gives the
/// reason in Chinese too, not the server's English); a tap on co-sign then
/// posts nothing and says so, and the proposal on the server is unchanged.
#[test]
fn a_blocked_maintenance_spend_says_why_in_yuan_and_shows_the_owners_vote() {
    let f = Fixture::new();
    let maintenance = |signers: &[&str], amount: &str, memo: &str| {
        let out = f.propose(
            signers,
            &[
                "expenditure",
                "--fund",
                "maintenance",
                "--amount",
                amount,
                "--category",
                "elevator",
                "--payee",
                "星光电梯维修有限公司",
                "--memo",
                memo,
            ],
        );
        out.assert_ok();
        out
    };
    f.propose(
        &[COMPANY],
        &[
            "income",
            "--fund",
            "maintenance",
            "--amount",
            "10000",
            "--category",
            "other",
            "--payer",
            "3-1502",
            "--memo",
            "维修资金续筹",
        ],
    )
    .assert_ok();
    let out = f.propose(
        &[COMPANY],
        &[
            "expenditure",
            "--fund",
            "maintenance",
            "--amount",
            "8000",
            "--category",
            "elevator",
            "--payee",
            "星光电梯维修有限公司",
            "--memo",
            "2号楼电梯大修",
            "--decision-ref",
            "2026年第1次业主大会",
            "--participating-area-bp",
            "8120",
            "--participating-headcount-bp",
            "7900",
            "--approving-area-bp",
            "7050",
            "--approving-headcount-bp",
            "6880",
        ],
    );
    out.assert_ok();
    let id = out
        .pending_id()
        .unwrap_or_else(|| panic!("the spend waits: {out:#?}"));
    // Another spend commits first and leaves ¥5,000.00.
    let other = maintenance(
        &[COMPANY, COMMITTEE[0], COMMITTEE[2]],
        "5000",
        "1号楼电梯更换主板",
    );
    assert!(other.committed_seq().is_some(), "{other:#?}");
    let before = f.proposal(&id);
    assert_eq!(
        before["status"]["blocked"]["code"],
        json!("overdraft"),
        "{before}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut b = phone(dir.path(), "b", &[]);
    b.open(&f.page());
    import_key(&mut b, &f.c, COMMITTEE[1]);
    let card = format!("[data-sign-card=\"{id}\"]");
    b.wait_for(
        &format!("document.querySelector('{card} .sign-blocked')"),
        "the blocked spend",
    );
    let text = b.eval(&format!("document.querySelector('{card}').innerText"));
    let text = text.as_str().unwrap();
    for needle in [
        "专项维修资金现在只有 ¥5,000.00，这笔要 ¥8,000.00，钱不够",
        "2026年第1次业主大会",
        "同意：专有面积 70.50%、人数 68.80%",
        "钱不够",
    ] {
        assert!(text.contains(needle), "the card shows {needle:?}:\n{text}");
    }
    assert!(
        !text.contains("overdraft"),
        "no English server text on the Chinese page:\n{text}"
    );
    let after = b.eval(&format!(
        "document.querySelector('{card} .balance-after').dataset.fen"
    ));
    assert_eq!(after, json!("-300000"));

    // The residents' list of pending proposals says it in Chinese too, with
    // the server's amounts in yuan.
    let listed = b.eval(&format!(
        "document.querySelector('[data-proposal=\"{id}\"]').innerText"
    ));
    let listed = listed.as_str().unwrap();
    assert!(
        listed.contains("暂不能入账：专项维修资金余额 ¥5,000.00，本笔需 ¥8,000.00")
            && !listed.contains("overdraft"),
        "{listed}"
    );

    let (status, text) = cosign(&mut b, &id);
    assert_eq!(status, "blocked", "{text}");
    assert!(
        text.contains("本页没有签署") && text.contains("¥8,000.00"),
        "{text}"
    );
    assert!(b.requests("POST").is_empty(), "nothing posted");
    assert_eq!(f.proposal(&id), before, "the proposal is unchanged");
}

/// Clicks "withdraw" on proposal `id`, accepting the confirmation the page
/// asks for; the answer's data-status, its text, and the confirmation's
/// words.
fn withdraw(phone: &mut Phone, id: &str) -> (String, String, String) {
    let card = format!("[data-sign-card=\"{id}\"]");
    phone.wait_for(
        &format!("document.querySelector('{card} [data-withdraw]')"),
        "the proposal's withdraw button",
    );
    // Headless Chromium has no one to tap "OK": the page's question is
    // kept for the test to read, and answered yes.
    phone.eval(
        "window.__confirmed = null; window.confirm = (m) => { window.__confirmed = m; return true; }; true",
    );
    phone.click(&format!("{card} [data-withdraw]"));
    let status = phone.wait_for(
        &format!(
            "(() => {{ if (document.querySelector('[data-withdrawn=\"{id}\"]')) return 'withdrawn';
               const r = document.querySelector('{card} .withdraw-result') || document.querySelector('[data-withdraw-result=\"{id}\"]'); if (!r) return null;
               return r.dataset.status === 'withdrawing' ? null : r.dataset.status; }})()"
        ),
        "the page's answer to withdraw",
    );
    let text = phone.eval(&format!(
        "(document.querySelector('[data-withdrawn=\"{id}\"]') || document.querySelector('{card} .withdraw-result') || document.querySelector('[data-withdraw-result=\"{id}\"]')).textContent"
    ));
    let confirmed = phone.eval("window.__confirmed");
    (
        status.as_str().unwrap().to_string(),
        text.as_str().unwrap_or("").to_string(),
        confirmed.as_str().unwrap_or("").to_string(),
    )
}

/// The log's size, from the checkpoint the server serves.
fn log_size(f: &Fixture) -> u64 {
    let checkpoint = f.http().get("/checkpoint").text();
    checkpoint
        .lines()
        .nth(1)
        .and_then(|l| l.parse().ok())
        .unwrap_or_else(|| panic!("a checkpoint: {checkpoint}"))
}

/// Epoch milliseconds as the Chinese page writes a time (Beijing time,
/// UTC+8 all year): "2026年2月10日 09:05".
fn beijing_time_zh(ms: u64) -> String {
    let secs = ms / 1000 + 8 * 3600;
    // Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let in_day = secs % 86_400;
    format!(
        "{year}年{month}月{day}日 {:02}:{:02}",
        in_day / 3600,
        (in_day % 3600) / 60
    )
}

/// Proves that the proposer withdraws in the page: the company's key,
/// imported in phone A, sees a withdraw button on the expenditure it
/// proposed; the page asks first, in plain Chinese, saying the proposal
/// will not be recorded and that everyone can still see who withdrew it
/// and when; one POST to the withdrawal route later the page says 已撤回.
/// The API then serves the proposal as withdrawn by the company's key and
/// no longer lists it as pending, while the log's size and the balances
/// are what they were; the page's 已撤回 list shows what it was, who
/// withdrew it and when, in the page's date format.
#[test]
fn the_proposer_withdraws_in_the_page_and_nothing_else_changes() {
    let f = Fixture::new();
    let id = f.pending_expenditure();
    let size = log_size(&f);
    let balances = f.http().get("/api/v1/balances").ok_json();
    let dir = tempfile::tempdir().unwrap();
    let mut a = phone(dir.path(), "a", &[]);
    a.open(&f.page());
    import_key(&mut a, &f.c, COMPANY);
    a.wait_for(
        &format!("document.querySelector('[data-proposal=\"{id}\"]')"),
        "the residents' list of pending proposals",
    );

    let (status, text, confirmed) = withdraw(&mut a, &id);
    assert_eq!(status, "withdrawn", "{text}");
    assert!(
        text.contains("已撤回") && text.contains("¥1,280.50"),
        "{text}"
    );
    for needle in ["¥1,280.50", "不会记进账本", "由谁撤回", "什么时候撤回"] {
        assert!(
            confirmed.contains(needle),
            "the page asks first, saying {needle:?}: {confirmed}"
        );
    }
    let posts = a.requests("POST");
    assert_eq!(
        posts.len(),
        1,
        "one withdrawal posted, nothing else: {posts:?}"
    );
    assert!(
        posts[0].ends_with(&format!("/api/v1/proposals/{id}/withdrawal")),
        "{posts:?}"
    );

    let view = f.proposal(&id);
    assert_eq!(view["state"], json!("withdrawn"), "{view}");
    assert_eq!(view["withdrawn_by"], json!([COMPANY]), "{view}");
    assert!(f.http().get("/api/v1/proposals").ok_json()["proposals"]
        .as_array()
        .unwrap()
        .is_empty());
    assert_eq!(log_size(&f), size, "nothing was appended to the log");
    assert_eq!(
        f.http().get("/api/v1/balances").ok_json(),
        balances,
        "the balances are unchanged"
    );

    let item = a.wait_for(
        &format!(
            "document.querySelector('#sign-withdrawn [data-withdrawn-item=\"{id}\"]')?.innerText"
        ),
        "the withdrawn proposal in the 已撤回 list",
    );
    let item = item.as_str().unwrap();
    let when = beijing_time_zh(view["withdrawn_ms"].as_u64().unwrap());
    for needle in [
        "已撤回",
        "¥1,280.50",
        "星光电梯维修有限公司",
        "wuye-li（物业公司） 于",
        when.as_str(),
    ] {
        assert!(item.contains(needle), "the list shows {needle:?}:\n{item}");
    }
    assert_eq!(
        a.eval(&format!(
            "Boolean(document.querySelector('[data-sign-card=\"{id}\"]'))"
        )),
        json!(false),
        "no card to sign or withdraw is left"
    );
    a.wait_for(
        &format!("!document.querySelector('[data-proposal=\"{id}\"]')"),
        "the residents' pending list to drop it",
    );

    // A page that holds no key shows the list too: it is public.
    let mut r = phone(dir.path(), "resident", &[]);
    r.open(&f.page());
    let listed = r.wait_for(
        &format!("document.querySelector('[data-withdrawn-item=\"{id}\"]')?.innerText"),
        "the withdrawn list on a resident's page",
    );
    assert!(listed.as_str().unwrap().contains(&when), "{listed}");
}

/// Proves that a member of a role the proposal's rule does not name gets
/// no withdraw button: a supervisor (社区党组织) enrolled by governance sees
/// no card and no withdraw button for a pending expenditure (whose rule
/// names the company and the committee), and the server refuses that key's
/// withdrawal with `not_allowed_to_withdraw`, changing nothing; the page
/// has Chinese words for that refusal, not the server's English.
#[test]
fn a_member_of_a_role_the_rule_does_not_name_gets_no_withdraw_button() {
    let f = Fixture::new();
    let line = |name: &str| {
        format!(
            "{{ name = \"{name}\", public_key = \"{}\" }}",
            f.c.key(name).public_key
        )
    };
    let roles = format!(
        "[company]\nthreshold = 1\nkeys = [{}]\n\n[committee]\nthreshold = 2\nkeys = [{}]\n\n[supervisor]\nthreshold = 1\nkeys = [{}]\n",
        line(COMPANY),
        {
            // A role's keys are listed sorted by name (docs/format.md).
            let mut committee = COMMITTEE;
            committee.sort();
            committee.map(line).join(", ")
        },
        line(support::OUTSIDER),
    );
    let roles_path = f.c.path("roles-with-supervisor.toml");
    std::fs::write(&roles_path, roles).unwrap();
    let out = f.propose(
        &[COMPANY, COMMITTEE[0], COMMITTEE[1]],
        &[
            "governance",
            "--roles",
            roles_path.to_str().unwrap(),
            "--memo",
            "社区党组织加入监督",
        ],
    );
    out.assert_ok();
    assert!(out.committed_seq().is_some(), "{out:#?}");
    let id = f.pending_expenditure();
    let before = f.proposal(&id);

    let dir = tempfile::tempdir().unwrap();
    let mut s = phone(dir.path(), "supervisor", &[]);
    s.open(&f.page());
    import_key(&mut s, &f.c, support::OUTSIDER);
    s.wait_for(
        "document.querySelector('#key-enrolment[data-state=enrolled][data-role=supervisor]')",
        "the supervisor's key enrolled",
    );
    s.wait_for(
        "document.getElementById('sign-none')",
        "the list of what waits for the supervisor",
    );
    let shown = s.eval(&format!(
        "({{ card: Boolean(document.querySelector('[data-sign-card=\"{id}\"]')), withdraw: Boolean(document.querySelector('[data-withdraw]')) }})"
    ));
    assert_eq!(
        shown,
        json!({"card": false, "withdraw": false}),
        "no withdraw button for the supervisor"
    );

    // The server says no too, and the page has words for it.
    let refused = run([
        "withdraw",
        "--url",
        &f.server.url,
        "--key",
        f.c.key_path(support::OUTSIDER).to_str().unwrap(),
        "--yes",
        &id,
    ]);
    refused.assert_failed();
    assert!(
        refused.stderr.contains("not_allowed_to_withdraw")
            || refused.stderr.contains("may not withdraw"),
        "{refused:#?}"
    );
    assert_eq!(f.proposal(&id), before, "the proposal is unchanged");
    let words = s.eval(
        "import('/assets/strings.js').then((m) => m.translate('zh', 'sign.code.not_allowed_to_withdraw'))",
    );
    assert!(words.as_str().unwrap().contains("提出人"), "{words}");
}

/// Proves the partial withdrawal: on an expenditure proposed by committee
/// member weiyuan-wang (the card names him, from `proposed_by`), member B
/// (weiyuan-zhao; committee threshold 2) withdraws in the page, which says
/// his withdrawal is recorded and one more is needed; the proposal stays
/// pending on the server with B's withdrawal signature, and after a reload
/// B's card says so again and offers no second withdrawal. Member C
/// (weiyuan-chen) then withdraws in another phone, and it is withdrawn by
/// both.
#[test]
fn a_partial_withdrawal_says_how_many_more_are_needed() {
    let f = Fixture::new();
    let out = f.propose(
        &[COMMITTEE[0]],
        &[
            "expenditure",
            "--amount",
            "300",
            "--category",
            "cleaning",
            "--payee",
            "洁美保洁公司",
            "--memo",
            "二月保洁",
        ],
    );
    out.assert_ok();
    let id = out
        .pending_id()
        .unwrap_or_else(|| panic!("the spend waits: {out:#?}"));
    let dir = tempfile::tempdir().unwrap();
    let mut b = phone(dir.path(), "b", &[]);
    b.open(&f.page());
    import_key(&mut b, &f.c, COMMITTEE[1]);
    let card = format!("[data-sign-card=\"{id}\"]");
    let proposer = b.wait_for(
        &format!("document.querySelector('{card} .sign-proposer')?.textContent"),
        "the spend in B",
    );
    assert_eq!(
        proposer,
        json!("weiyuan-wang（业主委员会）"),
        "the card names who proposed it"
    );

    let (status, text, confirmed) = withdraw(&mut b, &id);
    assert_eq!(status, "partial", "{text}");
    assert!(
        text.contains("已记下您的撤回签名") && text.contains("还需 1 位"),
        "{text}"
    );
    assert!(
        confirmed.contains("业主委员会"),
        "a member who did not propose it is told the committee must agree: {confirmed}"
    );
    let view = f.proposal(&id);
    assert_eq!(view["state"], json!("pending"), "{view}");
    let keys: Vec<&Value> = view["withdrawals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| &w["key"])
        .collect();
    assert_eq!(keys, [&json!(COMMITTEE[1])], "{view}");

    b.reload();
    let mine = b.wait_for(
        &format!("document.querySelector('{card} .withdraw-mine')?.dataset.lacking"),
        "B's recorded withdrawal after a reload",
    );
    assert_eq!(mine, json!("1"));
    assert_eq!(
        b.eval(&format!(
            "Boolean(document.querySelector('{card} [data-withdraw]'))"
        )),
        json!(false),
        "no second withdrawal is offered to B"
    );

    let mut c = phone(dir.path(), "c", &[]);
    c.open(&f.page());
    import_key(&mut c, &f.c, COMMITTEE[2]);
    let shown = c.wait_for(
        &format!("document.querySelector('{card}')?.innerText"),
        "the spend in C",
    );
    assert!(
        shown.as_str().unwrap().contains("已签撤回的人"),
        "C sees who signed the withdrawal: {shown}"
    );
    let (status, text, _) = withdraw(&mut c, &id);
    assert_eq!(status, "withdrawn", "{text}");
    let view = f.proposal(&id);
    assert_eq!(view["state"], json!("withdrawn"), "{view}");
    assert_eq!(
        view["withdrawn_by"],
        json!([COMMITTEE[2], COMMITTEE[1]]),
        "{view}"
    );
}

/// Proves that the signing view in English (`?lang=en`) shows no Chinese:
/// with a pending expenditure whose payee and memo are English, a partial
/// withdrawal on it and a withdrawn proposal, the signing section's text
/// holds no Chinese character or full-width punctuation (a string missing
/// from the English table would fall back to Chinese), and every Chinese
/// string of the signing view has an English one.
#[test]
fn the_signing_view_in_english_shows_no_chinese() {
    let f = Fixture::new();
    let propose = |memo: &str| {
        let out = f.propose(
            &[COMPANY],
            &[
                "expenditure",
                "--amount",
                "120",
                "--category",
                "repairs",
                "--payee",
                "Star Lifts Ltd",
                "--memo",
                memo,
            ],
        );
        out.assert_ok();
        out.pending_id()
            .unwrap_or_else(|| panic!("the spend waits: {out:#?}"))
    };
    let pending = propose("Lift cable");
    let withdrawn = propose("Lift door");
    let withdraw_with = |name: &str, id: &str| {
        run([
            "withdraw",
            "--url",
            &f.server.url,
            "--key",
            f.c.key_path(name).to_str().unwrap(),
            "--yes",
            id,
        ])
        .assert_ok();
    };
    withdraw_with(COMPANY, &withdrawn);
    withdraw_with(COMMITTEE[0], &pending);

    let dir = tempfile::tempdir().unwrap();
    let mut b = phone(dir.path(), "b", &[]);
    b.open(&format!("{}?lang=en", f.page()));
    import_key(&mut b, &f.c, COMMITTEE[1]);
    b.wait_for(
        &format!("document.querySelector('[data-sign-card=\"{pending}\"] [data-withdraw]')"),
        "the pending spend with its withdraw button",
    );
    b.wait_for(
        &format!("document.querySelector('[data-withdrawn-item=\"{withdrawn}\"]')"),
        "the withdrawn spend",
    );
    let text = b.eval("document.getElementById('sign-section').innerText");
    let text = text.as_str().unwrap();
    for needle in [
        "Withdraw",
        "Withdrawal signed by",
        "Withdrawn",
        "withdrawn by wuye-li (",
        "Star Lifts Ltd",
    ] {
        assert!(
            text.contains(needle),
            "the English view shows {needle:?}:\n{text}"
        );
    }
    let chinese: String = text
        .chars()
        .filter(|c| matches!(*c as u32, 0x3000..=0x303f | 0x3400..=0x9fff | 0xff00..=0xffef))
        .collect();
    assert!(
        chinese.is_empty(),
        "no Chinese in the English signing view, found {chinese:?}:\n{text}"
    );
    let missing = b.eval(
        "import('/assets/strings.js').then((m) => Object.keys(m.STRINGS.zh)
           .filter((k) => /^(sign|key|withdraw|withdrawn)\\./.test(k) && !(k in m.STRINGS.en)))",
    );
    assert_eq!(missing, json!([]), "signing strings with no English");
}

/// Proves that a withdrawal that comes too late says so and posts
/// nothing: with B's page open on two pending expenditures, the proposer
/// withdraws one with the CLI and the committee signs the other into the
/// ledger; a tap on withdraw in B then says, in Chinese, that the first was
/// already withdrawn and that the second is no longer pending, no POST is
/// sent, and both are as the CLI left them.
#[test]
fn a_withdrawal_that_comes_too_late_says_so_and_posts_nothing() {
    let f = Fixture::new();
    let first = f.pending_expenditure();
    let out = f.propose(
        &[COMPANY],
        &[
            "expenditure",
            "--amount",
            "300",
            "--category",
            "cleaning",
            "--payee",
            "洁美保洁公司",
            "--memo",
            "二月保洁",
        ],
    );
    out.assert_ok();
    let second = out
        .pending_id()
        .unwrap_or_else(|| panic!("the spend waits: {out:#?}"));
    let dir = tempfile::tempdir().unwrap();
    let mut b = phone(dir.path(), "b", &[]);
    b.open(&f.page());
    import_key(&mut b, &f.c, COMMITTEE[1]);
    for id in [&first, &second] {
        b.wait_for(
            &format!("document.querySelector('[data-sign-card=\"{id}\"] [data-withdraw]')"),
            "the withdraw buttons",
        );
    }

    run([
        "withdraw",
        "--url",
        &f.server.url,
        "--key",
        f.c.key_path(COMPANY).to_str().unwrap(),
        "--yes",
        &first,
    ])
    .assert_ok();
    let withdrawn = f.proposal(&first);
    assert_eq!(withdrawn["withdrawn_by"], json!([COMPANY]), "{withdrawn}");
    let (status, text, _) = withdraw(&mut b, &first);
    assert_eq!(status, "already-withdrawn", "{text}");
    assert!(text.contains("已经被撤回"), "{text}");

    for member in [COMMITTEE[0], COMMITTEE[2]] {
        run([
            "sign",
            "--url",
            &f.server.url,
            "--key",
            f.c.key_path(member).to_str().unwrap(),
            "--yes",
            &second,
        ])
        .assert_ok();
    }
    let (status, text, _) = withdraw(&mut b, &second);
    assert_eq!(status, "gone", "{text}");
    assert!(text.contains("不在待签列表里"), "{text}");
    assert!(b.requests("POST").is_empty(), "nothing posted");
    assert_eq!(f.proposal(&first), withdrawn, "the withdrawal is unchanged");
    assert_eq!(
        f.http().get(&format!("/api/v1/proposals/{second}")).status,
        404,
        "the second is an entry, not a proposal"
    );
}
