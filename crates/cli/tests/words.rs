//! The residents' page in words people read: one date format per language,
//! server refusals in the page's language with amounts in yuan, a trust
//! section that leads with plain sentences, and no English on the Chinese
//! page. Real headless Chromium (support/cdp.rs) against the real server on
//! loopback, on a ledger made by the real binary.
//!
//! Chromium is required: without it these tests fail, they never skip.

mod support;

use serde_json::{json, Value};
use std::collections::BTreeSet;
use support::cdp::Phone;
use support::http::Server;
use support::{run, Community, COMMITTEE, COMPANY};

/// A community with incomes of several kinds, a committed spend, a pending
/// spend the operating fund can no longer pay (¥2,000.00 left, ¥4,000.00
/// asked), and the latest checkpoint cosigned by two committee members;
/// served on loopback.
struct Fixture {
    _community: Community,
    server: Server,
    blocked_id: String,
}

impl Fixture {
    fn new() -> Fixture {
        let c = Community::new();
        c.income("2026-02-01", "5000", "3-1502", "二月物业费");
        for (category, payer, memo) in [
            ("interest", "中国建设银行", "一季度存款利息"),
            ("advertising", "分众传媒", "电梯广告位租金"),
            ("parking", "5-0301", "三月车位费"),
        ] {
            c.propose(
                &[COMPANY],
                "2026-03-05",
                &[
                    "income",
                    "--fund",
                    "public_revenue",
                    "--amount",
                    "300",
                    "--category",
                    category,
                    "--payer",
                    payer,
                    "--memo",
                    memo,
                ],
            )
            .assert_ok();
        }
        let spend = |signers: &[&str], amount: &str, memo: &str| {
            let out = c.propose(
                signers,
                "2026-02-10",
                &[
                    "expenditure",
                    "--amount",
                    amount,
                    "--category",
                    "repairs",
                    "--payee",
                    "星光电梯维修有限公司",
                    "--memo",
                    memo,
                ],
            );
            out.assert_ok();
            out
        };
        let blocked_id = spend(&[COMPANY], "4000", "3号楼电梯更换钢丝绳")
            .pending_id()
            .expect("the spend waits for the committee");
        let committed = spend(
            &[COMPANY, COMMITTEE[0], COMMITTEE[1]],
            "3000",
            "单元门禁维修",
        );
        assert!(committed.committed_seq().is_some(), "{committed:#?}");
        // Two committee members confirm the ledger as it now stands.
        for member in [COMMITTEE[0], COMMITTEE[1]] {
            let state = c.path(&format!("{member}-state.json"));
            run([
                "cosign-checkpoint",
                "--data",
                c.data.to_str().unwrap(),
                "--key",
                c.key_path(member).to_str().unwrap(),
                "--state",
                state.to_str().unwrap(),
            ])
            .assert_ok();
        }
        let server = Server::start(&c.data);
        Fixture {
            _community: c,
            server,
            blocked_id,
        }
    }

    fn page(&self, lang: &str) -> String {
        format!("{}/?lang={lang}", self.server.url)
    }

    /// A phone with the page open in `lang`, once the page checked the
    /// whole ledger and the committee's confirmation.
    fn phone(&self, dir: &std::path::Path, lang: &str) -> Phone {
        let mut phone = Phone::start(lang, &dir.join(format!("phone-{lang}")), &[]);
        phone.open(&self.page(lang));
        phone.wait_for(
            "document.querySelector('#trust-lead')?.dataset.state === 'verified' && document.querySelector('#trust-confirm[data-size]')",
            "the ledger checked and the committee's confirmation verified",
        );
        phone
    }

    /// Every ASCII word the ledger's own data holds (names, memos, key
    /// names, the ledger's name), which the page may show as they are.
    fn data_words(&self) -> BTreeSet<String> {
        let http = self.server.http();
        let mut text = String::new();
        let ledger = http.get("/api/v1/ledger").ok_json();
        collect_strings(&ledger, &mut text);
        let entries = http.get("/api/v1/entries?limit=500").ok_json();
        collect_strings(&entries, &mut text);
        let proposals = http.get("/api/v1/proposals").ok_json();
        collect_strings(&proposals, &mut text);
        tokens(&text)
            .into_iter()
            .filter(|t| t.chars().any(|c| c.is_ascii_alphabetic()))
            .collect()
    }
}

fn collect_strings(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push_str(s);
            out.push(' ');
        }
        Value::Array(items) => items.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(map) => map.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// Runs of ASCII letters, digits and `. _ + / : -`: the page's ASCII
/// "words" (a key name, an amount, a house number), split on anything else.
fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "._+/:-".contains(c)))
        .map(|t| t.trim_matches(|c: char| ".:/-".contains(c)).to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The visible text of the page's main sections, with hex (hashes, key ids,
/// proposal ids) left out: what a resident reads.
const VISIBLE_TEXT: &str = r#"(() => {
  for (const el of document.querySelectorAll('.hash, .fp-big, code')) el.textContent = '';
  return ['balances-section', 'trust-section', 'chart-section', 'mine-section', 'proposals-section', 'sign-section', 'entries-section']
    .map((id) => document.getElementById(id).innerText).join('\n');
})()"#;

/// Words of the page's own text allowed in ASCII on the Chinese page: the
/// tool's name and its key-file command and extension (the signing view
/// says where a key file comes from), an example key name, and https.
const ALLOWED_ASCII: [&str; 5] = ["feeledger", "keygen", "key", "weiyuan-zhang", "https"];

/// Proves that format.js writes one date format per language — a business
/// date, a month and a time in Beijing time: zh `2026年12月6日`,
/// `2026年12月`, `2026年12月6日 14:05`; en `6 Dec 2026`, `Dec 2026`,
/// `6 Dec 2026, 14:05` (no `06/12/2026`), with the date turning at Beijing
/// midnight, not UTC's — and that the page prints an entry card's business
/// date that way in each language; and that a count reads `3,669` in both.
#[test]
fn dates_read_one_way_per_language() {
    let f = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let mut zh = f.phone(dir.path(), "zh");
    // 2026-12-06 06:05 UTC is 14:05 in Beijing; 2026-12-31 16:05 UTC is
    // already 1 January 2027 there.
    let formatted = zh.eval(
        r#"(async () => {
          const f = await import('/assets/format.js');
          const afternoon = Date.UTC(2026, 11, 6, 6, 5);
          const newYear = Date.UTC(2026, 11, 31, 16, 5);
          const out = {};
          for (const lang of ['zh', 'en']) {
            out[lang] = [f.dateText('2026-12-06', lang), f.monthText('2026-12', lang), f.timeText(afternoon, lang), f.dayText(afternoon, lang), f.timeText(newYear, lang), f.dateText('2026-01-09', lang)];
          }
          return out;
        })()"#,
    );
    assert_eq!(
        formatted,
        json!({
            "zh": ["2026年12月6日", "2026年12月", "2026年12月6日 14:05", "2026年12月6日", "2027年1月1日 00:05", "2026年1月9日"],
            "en": ["6 Dec 2026", "Dec 2026", "6 Dec 2026, 14:05", "6 Dec 2026", "1 Jan 2027, 00:05", "9 Jan 2026"],
        })
    );
    // Counts are grouped by hand, the same in both languages.
    let counts = zh.eval(
        r#"(async () => {
          const f = await import('/assets/format.js');
          return [0, 7, 999, 1000, 3669, 100001, 1234567, -4500, '4169', 2.5].map((n) => f.countText(n));
        })()"#,
    );
    assert_eq!(
        counts,
        json!([
            "0",
            "7",
            "999",
            "1,000",
            "3,669",
            "100,001",
            "1,234,567",
            "-4,500",
            "4,169",
            "2.5"
        ])
    );

    let card_date =
        r#"document.querySelector('#entry-list [data-date="2026-02-01"]')?.textContent"#;
    assert_eq!(
        zh.wait_for(card_date, "the income's card"),
        json!("2026年2月1日")
    );
    let mut en = Phone::start("en", &dir.path().join("phone-en"), &[]);
    en.open(&f.page("en"));
    assert_eq!(
        en.wait_for(card_date, "the income's card"),
        json!("1 Feb 2026")
    );
    // The pending proposal's card and its time read the same way.
    let proposed = en.eval(&format!(
        "document.querySelector('[data-proposal=\"{}\"]').innerText",
        f.blocked_id
    ));
    let proposed = proposed.as_str().unwrap();
    assert!(proposed.contains("10 Feb 2026"), "{proposed}");
    assert!(
        !proposed.contains("2026-02-10") && !proposed.contains("/2026"),
        "{proposed}"
    );
}

/// Proves that a refusal with amounts reaches the page as data and is said
/// in the page's language in yuan: the server's blocked proposal carries
/// `details` {fund, balance_fen, amount_fen}; the Chinese page says
/// "暂不能入账：物业服务费余额 ¥2,000.00，本笔需 ¥4,000.00" with no ASCII
/// letter, and the English page says it in English with no Chinese and no
/// fen.
#[test]
fn an_overdraft_refusal_reads_in_yuan_in_the_page_language() {
    let f = Fixture::new();
    let view = f
        .server
        .http()
        .get(&format!("/api/v1/proposals/{}", f.blocked_id))
        .ok_json();
    let blocked = &view["status"]["blocked"];
    assert_eq!(blocked["code"], json!("overdraft"), "{view}");
    assert_eq!(
        blocked["details"],
        json!({"fund": "operating", "balance_fen": 200_000, "amount_fen": 400_000}),
        "{view}"
    );

    let dir = tempfile::tempdir().unwrap();
    let blocked = format!(
        "document.querySelector('[data-proposal=\"{}\"] .proposal-blocked')?.innerText",
        f.blocked_id
    );
    let mut zh = f.phone(dir.path(), "zh");
    let text = zh.wait_for(&blocked, "the blocked proposal");
    assert_eq!(
        text,
        json!("暂不能入账：物业服务费余额 ¥2,000.00，本笔需 ¥4,000.00")
    );
    assert!(
        !text
            .as_str()
            .unwrap()
            .chars()
            .any(|c| c.is_ascii_alphabetic()),
        "no ASCII letters: {text}"
    );

    let mut en = Phone::start("en", &dir.path().join("phone-en"), &[]);
    en.open(&f.page("en"));
    let text = en.wait_for(&blocked, "the blocked proposal");
    let text = text.as_str().unwrap();
    assert_eq!(
        text,
        "cannot commit now: Property fees has ¥2,000.00; this needs ¥4,000.00"
    );
    assert!(
        !text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
            && !text.contains("200000")
            && !text.contains("fen"),
        "{text}"
    );
}

/// Proves that the trust section leads with plain sentences: how many
/// entries since when, that this phone checked them all, and which
/// committee members confirmed how many entries on which date (their
/// cosignatures verified) — with no 检查点, 根哈希, 日志密钥, 创世记录 or
/// 包含证明 in the lead, and those kept in the folded technical details;
/// the same in English.
#[test]
fn the_trust_section_leads_in_plain_words() {
    let f = Fixture::new();
    let size = f.server.http().get("/checkpoint").text();
    let size: u64 = size.lines().nth(1).unwrap().parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut zh = f.phone(dir.path(), "zh");
    let lead = zh.eval("document.getElementById('trust-lead').innerText");
    let lead = lead.as_str().unwrap();
    let confirmed = zh.eval("document.getElementById('trust-confirm').dataset.size");
    assert_eq!(confirmed, json!(size.to_string()));
    for needle in [
        "这本账从2026年".to_string(),
        format!("月起共记了 {size} 笔。"),
        format!("本机已逐笔核对到第 {size} 笔"),
        "业委会 ".to_string(),
        COMMITTEE[0].to_string(),
        COMMITTEE[1].to_string(),
        format!("{}、{} 两位委员于 ", COMMITTEE[0], COMMITTEE[1]),
        format!("联署确认了前 {size} 笔。"),
    ] {
        assert!(lead.contains(&needle), "the lead says {needle:?}:\n{lead}");
    }
    for jargon in [
        "检查点",
        "根哈希",
        "日志密钥",
        "创世记录",
        "包含证明",
        "✓ 联署签名有效：—",
    ] {
        assert!(!lead.contains(jargon), "no {jargon:?} in the lead:\n{lead}");
    }
    // The date is the cosignatures' day in Beijing, in the Chinese form.
    assert!(
        regex_like_zh_date(lead),
        "a date like 2026年12月6日 in the lead:\n{lead}"
    );
    let technical = zh.eval(
        "(() => { const d = document.getElementById('trust-technical'); return [d.open, d.textContent]; })()",
    );
    assert_eq!(technical[0], json!(false), "the details are folded");
    let technical = technical[1].as_str().unwrap();
    for word in ["检查点", "根哈希", "日志密钥"] {
        assert!(
            technical.contains(word),
            "{word} in the details:\n{technical}"
        );
    }

    let mut en = Phone::start("en", &dir.path().join("phone-en"), &[]);
    en.open(&f.page("en"));
    en.wait_for(
        "document.querySelector('#trust-lead')?.dataset.state === 'verified' && document.querySelector('#trust-confirm[data-size]')",
        "the English lead",
    );
    let lead = en.eval("document.getElementById('trust-lead').innerText");
    let lead = lead.as_str().unwrap();
    for needle in [
        format!("This ledger holds {size} entries since "),
        "Committee members ".to_string(),
        COMMITTEE[0].to_string(),
        COMMITTEE[1].to_string(),
        format!(
            "{} and {} cosigned the first {size} entries on ",
            COMMITTEE[0], COMMITTEE[1]
        ),
    ] {
        assert!(lead.contains(&needle), "the lead says {needle:?}:\n{lead}");
    }
    assert!(
        !lead.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "no Chinese in the English lead:\n{lead}"
    );
}

/// Whether `text` holds a date written `2026年12月6日`.
fn regex_like_zh_date(text: &str) -> bool {
    text.split("年").skip(1).any(|rest| {
        let Some((month, rest)) = rest.split_once('月') else {
            return false;
        };
        let Some((day, _)) = rest.split_once('日') else {
            return false;
        };
        month.parse::<u8>().is_ok_and(|m| (1..=12).contains(&m))
            && day.parse::<u8>().is_ok_and(|d| (1..=31).contains(&d))
    })
}

/// Proves that the Chinese page shows no English: after load, a check of
/// every entry on the page and one entry's own check, the visible text of
/// every main section holds no ASCII word but the ledger's own data (names,
/// memos, key names), numbers and amounts, and a short allow-list (the
/// tool's name and key-file words in the signing view); and that each
/// language shows its own word for "verified" only. The words of the
/// who-paid sentences are the natural ones (中国建设银行 结息, 分众传媒 支付广告费).
#[test]
fn the_chinese_page_shows_no_english() {
    let f = Fixture::new();
    let allowed = f.data_words();
    let dir = tempfile::tempdir().unwrap();
    let mut zh = f.phone(dir.path(), "zh");
    zh.click("#verify-page");
    zh.wait_for(
        "['verified', 'failed'].includes(document.querySelector('#verify-all-result')?.dataset.status)",
        "the page's entries checked",
    );
    let text = zh.eval(VISIBLE_TEXT);
    let text = text.as_str().unwrap();
    for needle in [
        "中国建设银行 结息",
        "分众传媒 支付广告费",
        "5-0301 缴纳停车费",
        "已核对",
    ] {
        assert!(text.contains(needle), "the page says {needle:?}:\n{text}");
    }
    assert!(!text.contains("verified"), "{text}");
    let english: Vec<String> = tokens(text)
        .into_iter()
        .filter(|t| t.chars().any(|c| c.is_ascii_alphabetic()))
        .filter(|t| !allowed.contains(t) && !ALLOWED_ASCII.contains(&t.as_str()))
        .collect();
    assert!(
        english.is_empty(),
        "English words on the Chinese page: {english:?}\n{text}"
    );
    assert_eq!(
        zh.eval("document.getElementById('verify-all-result').dataset.status"),
        json!("verified")
    );

    let mut en = Phone::start("en", &dir.path().join("phone-en"), &[]);
    en.open(&f.page("en"));
    en.click("#verify-page");
    en.wait_for(
        "document.querySelector('#verify-all-result')?.dataset.status === 'verified'",
        "the page's entries checked, in English",
    );
    let result = en.eval("document.getElementById('verify-all-result').innerText");
    let result = result.as_str().unwrap();
    assert!(
        result.contains("Verified") && !result.contains("已"),
        "{result}"
    );
}

/// Proves that a change of roles that only renames a key (its signed
/// display name) is shown to whoever reviews or co-signs it, in each
/// language, and not as "no change": the names are what residents read.
#[test]
fn a_change_of_only_a_display_name_is_shown_to_its_signers() {
    let f = Fixture::new();
    let dir = tempfile::tempdir().unwrap();
    let mut zh = f.phone(dir.path(), "zh");
    let shown = zh.eval(
        r#"(async () => {
          const e = await import('/assets/enrol.js');
          const s = await import('/assets/strings.js');
          const key = (display_name) => ({ name: 'weiyuan-wang', public_key: 'AAAA', ...(display_name ? { display_name } : {}) });
          const roles = (name) => ({ committee: { threshold: 1, keys: [key(name)] } });
          const inForce = { roles: roles('王建国'), rules: {} };
          const out = {};
          for (const lang of ['zh', 'en']) {
            const t = (k, v) => s.translate(lang, k, v);
            const words = (next) => e.changeItems(t, () => (lang === 'zh' ? '业委会' : 'Committee'), inForce, { roles: next })
              .map((li) => `${li.dataset.change}: ${li.textContent}`);
            out[lang] = [words(roles('王建华')), words(roles(null)), words(roles('王建国'))];
          }
          out.named = e.changeItems((k, v) => s.translate('zh', k, v), () => '业委会', { roles: roles(null), rules: {} }, { roles: roles('王建国') })
            .map((li) => li.textContent);
          return out;
        })()"#,
    );
    assert_eq!(
        shown,
        json!({
            "zh": [
                ["renamed: 业委会的钥匙 weiyuan-wang：公示姓名由“王建国”改为“王建华”"],
                ["renamed: 业委会的钥匙 weiyuan-wang：不再公示姓名（原为“王建国”）"],
                ["none: 名单和规则都没有变化"],
            ],
            "en": [
                ["renamed: Committee key weiyuan-wang: the name shown changes from “王建国” to “王建华”"],
                ["renamed: Committee key weiyuan-wang: no name shown any more (it was “王建国”)"],
                ["none: No change to the signers or the rules"],
            ],
            "named": ["业委会的钥匙 weiyuan-wang：公示姓名填为“王建国”"],
        }),
        "{shown}"
    );
}
