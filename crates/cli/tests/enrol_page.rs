//! Enrolling a key in the page (登记新委员密钥, web/enrol.js), driven in real
//! headless Chromium with one profile per phone (support/cdp.rs), against
//! the real server on loopback and a ledger made by the real binary.
//!
//! What is proved: a key made in phone A is enrolled by a governance entry
//! that a committee member proposes in phone B's page and that is
//! co-signed in phone C's page (which shows who joins and the new
//! threshold) and by the company with the CLI; the ledger then lists the
//! key and phone A co-signs an expenditure with it. A weak or malformed
//! public key is refused in the page in plain words, and nothing is sent.

mod support;

use serde_json::{json, Value};
use support::cdp::Phone;
use support::http::{Http, Server};
use support::page::{cosign, import_key, phone};
use support::{run, Community, COMMITTEE, COMPANY};

/// The new member's key name, made in phone A.
const NEW: &str = "weiyuan-sun";
/// Whom that key stands for, typed in the enrol form.
const NEW_PERSON: &str = "孙德明";

/// The identity point: a weak key anyone can forge signatures for (§7.1).
const WEAK_KEY: &str = "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

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

    fn page(&self) -> String {
        format!("{}/", self.server.url)
    }

    /// `feeledger sign --url URL --key MEMBER.key --yes ID`.
    fn cli_sign(&self, member: &str, id: &str) -> support::Output {
        run([
            "sign",
            "--url",
            &self.server.url,
            "--key",
            self.c.key_path(member).to_str().unwrap(),
            "--yes",
            id,
        ])
    }

    fn pending_ids(&self) -> Vec<String> {
        self.http().get("/api/v1/proposals").ok_json()["proposals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Fills the enrol form with `key_text` (and nothing else) and taps
/// "check"; the error code shown, or null when the preview is shown.
fn check_enrolment(phone: &mut Phone, key_text: &str, threshold: &str) -> Value {
    phone.eval("document.getElementById('enrol-error')?.remove(); true");
    phone.type_into("#enrol-key", key_text);
    phone.type_into("#enrol-name", "");
    phone.type_into("#enrol-threshold", threshold);
    phone.click("#enrol-check");
    phone.wait_for(
        "(() => { const e = document.getElementById('enrol-error'); if (e) return {code: e.dataset.code, text: e.textContent};
                  return document.getElementById('enrol-preview') ? {code: null} : null; })()",
        "the page's answer to check",
    )
}

/// Proves enrolment in the page from end to end: A makes a key (and,
/// holding no role, is offered no enrol form); B, a committee member,
/// pastes A's KeyDef text (and sees a rotation, 陈 removed and A added,
/// in words), sees "weiyuan-sun joins, 2 of 3 → 2 of 4",
/// signs and proposes it (one POST, pending); C sees the same change on
/// the governance card and co-signs in the page; the company signs with
/// the CLI and it commits; the ledger lists A's key in the committee; A's
/// page then says the key is enrolled and co-signs an expenditure, which
/// the server records as A's signature and which commits with one more.
#[test]
fn a_key_made_in_one_phone_is_enrolled_from_another_and_then_signs() {
    let f = Fixture::new();
    let dir = tempfile::tempdir().unwrap();

    let mut a = phone(dir.path(), "a");
    a.open(&f.page());
    a.wait_for(
        "document.getElementById('key-make')",
        "the make-a-key button",
    );
    a.type_into("#key-name", NEW);
    a.click("#key-make");
    a.wait_for(
        "document.querySelector('#key-card[data-state=ready]')",
        "the new key",
    );
    let key_def = a.eval("document.getElementById('key-public').textContent");
    let key_def = key_def.as_str().unwrap().to_string();
    let public_key = a.eval("document.getElementById('key-card').dataset.publicKey");
    let public_key = public_key.as_str().unwrap().to_string();
    a.wait_for(
        "document.querySelector('#enrol-state[data-state=not-allowed]')",
        "A's page to say A may not propose an enrolment",
    );

    let mut b = phone(dir.path(), "b");
    b.open(&f.page());
    import_key(&mut b, &f.c, COMMITTEE[0]);
    b.wait_for(
        "document.querySelector('#enrol-state[data-state=ready][data-role=committee]')",
        "the enrol form for a committee member",
    );

    // Bad keys are refused in plain words, and nothing is sent.
    let weak = check_enrolment(
        &mut b,
        &json!({"name": NEW, "public_key": WEAK_KEY}).to_string(),
        "",
    );
    assert_eq!(weak["code"], json!("weak-key"), "{weak}");
    assert!(weak["text"].as_str().unwrap().contains("弱钥匙"), "{weak}");
    let garbled = check_enrolment(
        &mut b,
        &json!({"name": NEW, "public_key": "not-a-key"}).to_string(),
        "",
    );
    assert_eq!(garbled["code"], json!("bad-key"), "{garbled}");
    assert!(
        garbled["text"].as_str().unwrap().contains("不是有效的公钥"),
        "{garbled}"
    );
    let taken = check_enrolment(
        &mut b,
        &json!({"name": NEW, "public_key": f.c.key(COMMITTEE[1]).public_key}).to_string(),
        "",
    );
    assert_eq!(taken["code"], json!("key-taken"), "{taken}");
    let too_high = check_enrolment(&mut b, &key_def, "5");
    assert_eq!(too_high["code"], json!("threshold"), "{too_high}");
    assert!(
        b.requests("POST")
            .iter()
            .all(|u| !u.contains("/api/v1/proposals")),
        "nothing was proposed"
    );
    assert!(f.pending_ids().is_empty());

    // Rotation in the same form: adding A's key while removing 陈's
    // shows both, and the threshold line disappears (still 2 of 3).
    b.eval(&format!(
        "(() => {{ const s = document.getElementById('enrol-remove'); s.value = {chen}; s.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})()",
        chen = json!(COMMITTEE[2])
    ));
    let rotation = check_enrolment(&mut b, &key_def, "");
    assert_eq!(rotation["code"], Value::Null, "{rotation}");
    let changes = b.eval(
        "[...document.querySelectorAll('#enrol-preview [data-change]')].map((li) => li.dataset.change + ':' + (li.dataset.name || ''))",
    );
    assert_eq!(
        changes,
        json!([format!("removed:{}", COMMITTEE[2]), format!("added:{NEW}")]),
        "{changes}"
    );
    let words = b.eval("document.getElementById('enrol-preview').innerText");
    assert!(
        words
            .as_str()
            .unwrap()
            .contains("业主委员会移除：weiyuan-chen"),
        "{words}"
    );
    b.eval("(() => { const s = document.getElementById('enrol-remove'); s.value = ''; s.dispatchEvent(new Event('change', {bubbles: true})); return true; })()");

    // The name residents will read: one the ledger would refuse is refused
    // in plain words (no bytes, no control characters), nothing is sent.
    // (A one-line input drops a typed line break itself; a tab stays.)
    for bad in [
        "孙".repeat(17),
        " 孙德明".to_string(),
        "孙\t德明".to_string(),
    ] {
        b.type_into("#enrol-display-name", &bad);
        let refused = check_enrolment(&mut b, &key_def, "");
        assert_eq!(refused["code"], json!("display-name"), "{bad:?}: {refused}");
        let text = refused["text"].as_str().unwrap();
        assert!(
            text.contains("姓名最长 16 个汉字，不能有换行等特殊符号，开头和结尾不能是空格"),
            "{text}"
        );
        for jargon in ["字节", "控制字符"] {
            assert!(!text.contains(jargon), "{text}");
        }
    }
    let field = b.eval(
        "(() => { const f = document.getElementById('enrol-display-name').closest('.field'); return f.innerText; })()",
    );
    let field = field.as_str().unwrap();
    assert!(
        field.contains("姓名（公示时显示）") && field.contains("最长 16 个汉字"),
        "{field}"
    );
    b.type_into("#enrol-display-name", NEW_PERSON);

    // The good one: A's KeyDef text and name, threshold unchanged.
    let ok = check_enrolment(&mut b, &key_def, "");
    assert_eq!(ok["code"], Value::Null, "{ok}");
    let preview = b.eval(
        "(() => { const p = document.getElementById('enrol-preview');
           const added = p.querySelector('[data-change=added]'); const th = p.querySelector('[data-change=threshold]');
           return { text: p.innerText, added: added?.dataset.name, role: added?.dataset.role, n: th?.dataset.n, m: th?.dataset.m }; })()",
    );
    assert_eq!(preview["added"], json!(NEW), "{preview}");
    assert_eq!(preview["role"], json!("committee"), "{preview}");
    assert_eq!(
        (preview["n"].clone(), preview["m"].clone()),
        (json!("2"), json!("4")),
        "{preview}"
    );
    let text = preview["text"].as_str().unwrap();
    for words in [
        "业主委员会加入：孙德明（weiyuan-sun）",
        "3 人中须 2 人 → 4 人中须 2 人",
        &public_key,
    ] {
        assert!(text.contains(words), "{words}: {text}");
    }
    b.click("#enrol-propose");
    let result = b.wait_for(
        "(() => { const r = document.getElementById('enrol-result'); return r && r.dataset.status !== 'proposing' ? {status: r.dataset.status, id: r.dataset.id, text: r.textContent} : null; })()",
        "the proposal's answer",
    );
    assert_eq!(result["status"], json!("pending"), "{result}");
    let id = result["id"].as_str().unwrap().to_string();
    assert_eq!(f.pending_ids(), std::slice::from_ref(&id));
    let view = f.http().get(&format!("/api/v1/proposals/{id}")).ok_json();
    assert_eq!(view["body"]["kind"], json!("governance"), "{view}");
    assert_eq!(view["proposed_by"], json!([COMMITTEE[0]]), "{view}");
    let proposed: Vec<&Value> = view["body"]["roles"]["committee"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["name"] == json!(NEW))
        .collect();
    assert_eq!(proposed[0]["display_name"], json!(NEW_PERSON), "{view}");

    // C sees exactly what changes, and co-signs in the page.
    let mut c = phone(dir.path(), "c");
    c.open(&f.page());
    import_key(&mut c, &f.c, COMMITTEE[1]);
    let card = c.wait_for(
        &format!(
            "(() => {{ const k = document.querySelector('[data-sign-card=\"{id}\"]'); const a = k && k.querySelector('.sign-governance [data-change=added]');
               return a ? {{ name: a.dataset.name, text: k.innerText }} : null; }})()"
        ),
        "the governance card with who joins",
    );
    assert_eq!(card["name"], json!(NEW), "{card}");
    let card_text = card["text"].as_str().unwrap();
    assert!(
        card_text.contains(&public_key),
        "the co-signer sees the new key: {card_text}"
    );
    assert!(
        card_text.contains("3 人中须 2 人 → 4 人中须 2 人")
            && card_text.contains("业主委员会加入：孙德明（weiyuan-sun）"),
        "{card_text}"
    );
    assert!(
        !card_text.contains("详情见下方"),
        "not only a help text: {card_text}"
    );
    assert_eq!(
        cosign(&mut c, &id).0,
        "pending",
        "the company has not signed yet"
    );

    let company = f.cli_sign(COMPANY, &id);
    company.assert_ok();
    assert!(company.committed_seq().is_some(), "{company:#?}");
    let ledger = f.http().get("/api/v1/ledger").ok_json();
    let keys = ledger["roles"]["committee"]["keys"].as_array().unwrap();
    assert!(
        keys.iter().any(|k| k["name"] == json!(NEW)
            && k["public_key"] == json!(public_key)
            && k["display_name"] == json!(NEW_PERSON)),
        "the ledger lists A's key under A's name: {ledger}"
    );
    assert_eq!(ledger["roles"]["committee"]["threshold"], json!(2));

    // A's key now signs.
    let spent = run([
        "propose",
        "--url",
        &f.server.url,
        "--key",
        f.c.key_path(COMPANY).to_str().unwrap(),
        "--date",
        "2026-02-10",
        "--yes",
        "expenditure",
        "--amount",
        "1280.50",
        "--category",
        "repairs",
        "--payee",
        "星光电梯维修有限公司",
    ]);
    spent.assert_ok();
    let spend_id = spent
        .pending_id()
        .expect("the expenditure waits for the committee");
    a.reload();
    a.wait_for(
        "document.querySelector('#key-enrolment[data-state=enrolled][data-role=committee]')",
        "A's page to say the key is enrolled",
    );
    assert_eq!(cosign(&mut a, &spend_id).0, "pending");
    let signed = f
        .http()
        .get(&format!("/api/v1/proposals/{spend_id}"))
        .ok_json();
    assert!(
        signed["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["key"] == json!(NEW)),
        "{signed}"
    );
    let done = f.cli_sign(COMMITTEE[2], &spend_id);
    done.assert_ok();
    let seq = done
        .committed_seq()
        .expect("A's and 陈's signatures commit it");
    let entry = f.http().get(&format!("/api/v1/entries/{seq}")).ok_json();
    let signers: Vec<&str> = entry["leaf"]["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    // Sorted by key name (§8.2).
    assert_eq!(signers, [COMMITTEE[2], NEW, COMPANY], "{entry}");
}
