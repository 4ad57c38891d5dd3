//! Mistakes people make at the command line when recording money, proposing,
//! signing and handling keys: each gets a one-line error that names the rule
//! and the fix (listing the valid values where a value is wrong), or a
//! warning that must be confirmed, and a refused command changes nothing.

mod support;

use serde_json::json;
use std::io::Write as _;
use std::process::Stdio;
use support::http::Server;
use support::{assert_refused, command, run, Community, Output, COMMITTEE, COMPANY};

/// A community whose operating fund holds ¥5,100.00 (entry 1).
fn funded() -> Community {
    let c = Community::new();
    assert_eq!(c.income("2026-01-05", "5100", "3-1502", "一月物业费"), 1);
    c
}

/// Runs the binary with `input` on its stdin: a person answering.
fn run_with_stdin(args: &[String], input: &str) -> Output {
    let mut child = command()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the feeledger binary runs");
    // The binary may refuse before it reads its stdin (some cases test just
    // that), closing the pipe: a broken pipe here is not the test's failure.
    if let Err(e) = child.stdin.take().unwrap().write_all(input.as_bytes()) {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "writing stdin: {e}"
        );
    }
    let out = child.wait_with_output().unwrap();
    Output::from_std(args.to_vec(), out)
}

/// `propose --data DATA --key K... --date DATE KIND...` without `--yes`.
fn propose_args_asking(c: &Community, signers: &[&str], date: &str, kind: &[&str]) -> Vec<String> {
    c.propose_args(signers, date, kind)
        .into_iter()
        .filter(|a| a != "--yes")
        .collect()
}

/// A refusal after the question: stdout holds the echo, stderr the
/// question and then exactly one error line.
#[track_caller]
fn assert_not_confirmed(out: &Output) {
    out.assert_failed();
    assert!(
        out.stderr.contains("记入账本？Record it? [y/N]"),
        "{out:#?}"
    );
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines.last().copied(),
        Some("error: not recorded: not confirmed (answer y, or pass --yes in scripts)"),
        "{out:#?}"
    );
    assert_eq!(
        lines.len(),
        2,
        "the question, then one error line: {out:#?}"
    );
}

fn income(amount: &str) -> Vec<String> {
    [
        "income",
        "--amount",
        amount,
        "--category",
        "property_fee",
        "--payer",
        "3-1502",
    ]
    .map(String::from)
    .to_vec()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Proves that amounts with commas out of their thousands places (each once
/// recorded a wrong amount), extra decimals, signs and zero are refused
/// with the rule named, and nothing is recorded.
#[test]
fn amount_typos_are_refused() {
    let c = funded();
    let rule = "use 1280.50 or 1,280.50";
    let cases: &[(&str, &[&str])] = &[
        ("12,8050", &["--amount", "\"12,8050\"", rule]),
        ("1,28", &["--amount", rule]),
        ("1,,280", &["--amount", rule]),
        (",1280", &["--amount", rule]),
        ("1280,", &["--amount", rule]),
        ("0,123", &["--amount", rule]),
        ("1.234", &["--amount", rule]),
        ("1e3", &["--amount", rule]),
        ("¥100", &["--amount", rule]),
        (
            "-5",
            &[
                "amounts are positive",
                "record a reversal",
                "propose ... reversal",
            ],
        ),
        ("-0.01", &["amounts are positive"]),
        ("0", &["zero", "at least 0.01 元"]),
        ("0.00", &["zero"]),
        (
            "100,000,000,000.01",
            &["too large", "100,000,000,000.00 元"],
        ),
    ];
    for (amount, needles) in cases {
        let kind = income(amount);
        assert_refused(&c, needles, || {
            c.propose(&[COMPANY], "2026-01-07", &strs(&kind))
        });
    }
    // A negative amount on spending and transfers too, as `--amount=-5`.
    assert_refused(&c, &["amounts are positive"], || {
        c.propose(
            &[COMPANY],
            "2026-01-07",
            &[
                "expenditure",
                "--amount=-5",
                "--category",
                "repairs",
                "--payee",
                "某某工程",
            ],
        )
    });
    assert_refused(&c, &["amounts are positive"], || {
        c.propose(
            &[COMPANY],
            "2026-01-07",
            &[
                "transfer",
                "--from",
                "operating",
                "--to",
                "maintenance",
                "--amount",
                "-5",
            ],
        )
    });
}

/// Proves that properly grouped and plain amounts record exactly, and that
/// the echo and the "committed" line show the amount in yuan.
#[test]
fn grouped_amounts_record_exactly_and_are_echoed_in_yuan() {
    let c = Community::new();
    for (amount, fen, shown) in [
        ("1,280.50", 128_050, "¥1,280.50"),
        ("12,345,678", 1_234_567_800, "¥12,345,678.00"),
        ("1280.5", 128_050, "¥1,280.50"),
    ] {
        let out = c.propose(&[COMPANY], "2026-01-07", &strs(&income(amount)));
        out.assert_ok();
        let seq = out.committed_seq().expect("an income commits at once");
        assert_eq!(c.show_json(seq)["leaf"]["body"]["amount_fen"], json!(fen));
        let amount_line = out.stdout.lines().find(|l| l.contains("金额 amount:"));
        assert!(
            amount_line.is_some_and(|l| l.contains(&format!(" {shown} ("))),
            "the echo shows {shown}: {out:#?}"
        );
        assert!(
            out.stdout
                .contains(&format!("committed as entry {seq} (收入 income {shown};")),
            "{out:#?}"
        );
    }
}

/// Proves that without `--yes` a proposal is echoed in plain words (kind,
/// amount in yuan, fund, category, payer, date, period, memo; Chinese
/// first) and then recorded only on y, yes or 是: end of input, "n" and
/// anything else refuse it and change nothing.
#[test]
fn a_proposal_is_echoed_and_recorded_only_when_confirmed() {
    let c = funded();
    let args = propose_args_asking(
        &c,
        &[COMPANY],
        "2026-01-07",
        &[
            "income",
            "--amount",
            "1,280.50",
            "--category",
            "parking",
            "--payer",
            "B2-017",
            "--period",
            "2026-01",
            "--memo",
            "一月车位费",
        ],
    );
    for input in ["", "n\n", "no\n", "yess\n", "否\n"] {
        let before = c.snapshot();
        let out = run_with_stdin(&args, input);
        assert_not_confirmed(&out);
        for shown in [
            "类型 kind:",
            "收入 income",
            "¥1,280.50 (1280.50 元)",
            "公共收益 Common-area income (public_revenue)",
            "停车费 parking",
            "付款方 payer:",
            "B2-017",
            "业务日期 date:",
            "2026-01-07",
            "所属期 period:",
            "2026-01",
            "一月车位费",
        ] {
            assert!(
                out.stdout.contains(shown),
                "the echo shows {shown:?}: {out:#?}"
            );
        }
        assert_eq!(c.snapshot(), before, "answer {input:?} changed the ledger");
    }
    // Chinese first: the Chinese label comes before the English on each line.
    let out = run_with_stdin(&args, "");
    let kind_line = out.stdout.lines().find(|l| l.contains("kind:")).unwrap();
    assert!(
        kind_line.find("类型") < kind_line.find("kind"),
        "{kind_line}"
    );

    for (n, input) in ["y\n", "YES\n", "是\n"].into_iter().enumerate() {
        let out = run_with_stdin(&args, input);
        out.assert_ok();
        assert_eq!(out.committed_seq(), Some(2 + n as u64), "{out:#?}");
    }
}

/// Proves that `propose --url` also asks before sending: unconfirmed, the
/// server receives nothing.
#[test]
fn a_remote_proposal_is_sent_only_when_confirmed() {
    let c = funded();
    let server = Server::start(&c.data);
    let http = server.http();
    let before = http.snapshot();
    let key = c.key_path(COMPANY).display().to_string();
    let args: Vec<String> = [
        "propose",
        "--url",
        &server.url,
        "--key",
        &key,
        "--date",
        "2026-01-07",
        "expenditure",
        "--amount",
        "3,200",
        "--category",
        "cleaning",
        "--payee",
        "洁美保洁公司",
    ]
    .map(String::from)
    .to_vec();
    let out = run_with_stdin(&args, "\n");
    assert_not_confirmed(&out);
    assert!(out.stdout.contains("¥3,200.00"), "{out:#?}");
    assert!(out.stdout.contains("保洁 cleaning"), "{out:#?}");
    assert_eq!(http.snapshot(), before, "nothing was sent");
    let out = run_with_stdin(&args, "y\n");
    out.assert_ok();
    assert!(out.pending_id().is_some(), "{out:#?}");
}

/// Proves that `propose body -` (the body on stdin) without `--yes` is
/// refused before reading, since stdin cannot also carry the answer.
#[test]
fn a_body_on_stdin_needs_yes() {
    let c = funded();
    let args = propose_args_asking(&c, &[COMPANY], "2026-01-07", &["body", "-"]);
    assert_refused(&c, &["standard input", "--yes"], || {
        run_with_stdin(&args, "{}")
    });
}

/// Proves that `--date` is accepted after the kind, and that a date before
/// 2000 is refused for its year, not called "not a real date".
#[test]
fn dates_after_the_kind_and_before_2000() {
    let c = funded();
    let key = c.key_path(COMPANY).display().to_string();
    let data = c.data.display().to_string();
    let with_date = |date: &str| {
        run([
            "propose",
            "--data",
            &data,
            "--key",
            &key,
            "income",
            "--date",
            date,
            "--yes",
            "--amount",
            "10",
            "--category",
            "property_fee",
            "--payer",
            "3-1502",
        ])
    };
    let out = with_date("2026-10-01");
    out.assert_ok();
    let seq = out.committed_seq().unwrap();
    assert_eq!(
        c.show_json(seq)["leaf"]["body"]["date"],
        json!("2026-10-01")
    );

    assert_refused(
        &c,
        &[
            "--date \"1999-12-31\"",
            "before 2000",
            "2000-01-01 or later",
        ],
        || with_date("1999-12-31"),
    );
    assert_refused(
        &c,
        &["--date \"2026-02-30\"", "not a real date", "YYYY-MM-DD"],
        || with_date("2026-02-30"),
    );
    assert_refused(&c, &["--period \"1999-12\"", "2000-01 or later"], || {
        c.propose(
            &[COMPANY],
            "2026-01-07",
            &[
                "income",
                "--amount",
                "10",
                "--category",
                "property_fee",
                "--payer",
                "3-1502",
                "--period",
                "1999-12",
            ],
        )
    });
}

/// Proves that an unknown fund or category lists the valid values with
/// their Chinese names (and says when a category belongs to the other
/// kind), and that the Chinese names themselves are accepted.
#[test]
fn unknown_funds_and_categories_list_the_valid_values() {
    let c = funded();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &[
                "income",
                "--fund",
                "维修基金",
                "--amount",
                "10",
                "--category",
                "other",
                "--payer",
                "3-1502",
            ],
            &[
                "--fund",
                "fund \"维修基金\" does not exist",
                "operating (物业服务费 Property fees)",
                "public_revenue (公共收益 Common-area income)",
                "maintenance (专项维修资金 Maintenance fund)",
            ],
        ),
        (
            &[
                "income",
                "--amount",
                "10",
                "--category",
                "保洁",
                "--payer",
                "3-1502",
            ],
            &[
                "--category \"保洁\" is not an income category",
                "保洁 cleaning is an expenditure category",
                "property_fee (物业费)",
                "parking (停车费)",
                "venue_rental (场地租金)",
            ],
        ),
        (
            &[
                "expenditure",
                "--amount",
                "10",
                "--category",
                "bribes",
                "--payee",
                "某人",
            ],
            &[
                "--category \"bribes\"",
                "cleaning (保洁)",
                "management_fee (物业酬金)",
            ],
        ),
        (
            &[
                "transfer",
                "--from",
                "operating",
                "--to",
                "slush",
                "--amount",
                "1",
            ],
            &["--to", "fund \"slush\" does not exist", "public_revenue"],
        ),
    ];
    for (kind, needles) in cases {
        assert_refused(&c, needles, || c.propose(&[COMPANY], "2026-01-07", kind));
    }
    // Chinese names work as values.
    let out = c.propose(
        &[COMPANY],
        "2026-01-07",
        &[
            "income",
            "--fund",
            "专项维修资金",
            "--amount",
            "7",
            "--category",
            "利息",
            "--payer",
            "工商银行",
        ],
    );
    out.assert_ok();
    let body = &c.show_json(out.committed_seq().unwrap())["leaf"]["body"];
    assert_eq!(body["fund"], json!("maintenance"));
    assert_eq!(body["category"], json!("interest"));
}

/// Proves that the category chooses the fund by default (parking, advertising
/// and venue rental go to 公共收益 public_revenue; property fees to
/// operating), and that an explicit `--fund` still wins but is flagged.
#[test]
fn the_category_chooses_the_fund() {
    let c = Community::new();
    let fund_of = |category: &str| {
        let out = c.propose(
            &[COMPANY],
            "2026-01-07",
            &[
                "income",
                "--amount",
                "10",
                "--category",
                category,
                "--payer",
                "B2-017",
            ],
        );
        out.assert_ok();
        let body = c.show_json(out.committed_seq().unwrap())["leaf"]["body"].clone();
        body["fund"].as_str().unwrap().to_string()
    };
    assert_eq!(fund_of("parking"), "public_revenue");
    assert_eq!(fund_of("advertising"), "public_revenue");
    assert_eq!(fund_of("venue_rental"), "public_revenue");
    assert_eq!(fund_of("property_fee"), "operating");
    let balances = c.verify_json()["balances_fen"].clone();
    assert_eq!(balances["public_revenue"], json!(3000));
    assert_eq!(balances["operating"], json!(1000));

    // An explicit fund wins, with a warning in the echo.
    let out = c.propose(
        &[COMPANY],
        "2026-01-07",
        &[
            "income",
            "--fund",
            "operating",
            "--amount",
            "10",
            "--category",
            "parking",
            "--payer",
            "B2-017",
        ],
    );
    out.assert_ok();
    assert!(
        out.stdout
            .contains("停车费 parking usually goes to public_revenue, not operating"),
        "{out:#?}"
    );
    let body = &c.show_json(out.committed_seq().unwrap())["leaf"]["body"];
    assert_eq!(body["fund"], json!("operating"));
}

/// Proves that a key signing a proposal it already signed is told so, as
/// the proposer and as a committee member, locally and over HTTP, and
/// that the same key given twice is refused; none of it changes anything.
#[test]
fn signing_twice_is_refused() {
    let c = funded();
    let out = c.propose(
        &[COMPANY],
        "2026-01-07",
        &[
            "expenditure",
            "--amount",
            "300",
            "--category",
            "cleaning",
            "--payee",
            "洁美保洁公司",
        ],
    );
    out.assert_ok();
    let id = out.pending_id().expect("spending waits for the committee");
    // Unconfirmed (stdin at its end, no --yes), a signature is not added.
    let member = c.key_path(COMMITTEE[0]).display().to_string();
    let before = c.snapshot();
    let data = c.data.display().to_string();
    let out = run_with_stdin(
        &["sign", "--data", &data, "--key", &member, &id].map(String::from),
        "",
    );
    out.assert_failed();
    assert!(
        out.stderr
            .ends_with("\nerror: not signed: not confirmed (answer y, or pass --yes in scripts)\n"),
        "{out:#?}"
    );
    // The co-signer read the same plain words as the proposer.
    for shown in [
        "联署 To co-sign",
        "支出 expenditure",
        "¥300.00 (300.00 元)",
        "保洁 cleaning",
    ] {
        assert!(out.stderr.contains(shown), "shows {shown:?}: {out:#?}");
    }
    assert_eq!(c.snapshot(), before);
    c.sign(COMMITTEE[0], &id).assert_ok();

    for signer in [COMMITTEE[0], COMPANY] {
        assert_refused(
            &c,
            &[&format!("you already signed this proposal (as {signer})")],
            || c.sign(signer, &id),
        );
    }
    let member = c.key_path(COMMITTEE[1]).display().to_string();
    assert_refused(&c, &["the same key was given twice", COMMITTEE[1]], || {
        c.cmd("sign", &["--key", &member, "--key", &member, "--yes", &id])
    });
    let company = c.key_path(COMPANY).display().to_string();
    assert_refused(&c, &["the same key was given twice", COMPANY], || {
        let keys = ["--key", &company, "--key", &company, "--yes"].map(String::from);
        c.cmd("propose", &strs(&[keys.to_vec(), income("1")].concat()))
    });

    let server = Server::start(&c.data);
    let http = server.http();
    let before = http.snapshot();
    let key = c.key_path(COMMITTEE[0]).display().to_string();
    run(["sign", "--url", &server.url, "--key", &key, "--yes", &id])
        .assert_one_line_error(&["you already signed this proposal (as weiyuan-wang)"]);
    assert_eq!(http.snapshot(), before);
}

/// Proves that an unconfirmed proposal with a warning (a business date
/// after today; spending that repeats a pending proposal or an expenditure
/// of the last 90 days; maintenance-fund spending with no owners' vote)
/// prints the warning and records nothing, and `--yes` accepts it.
#[test]
fn warnings_must_be_confirmed() {
    let c = funded();
    let all = [COMPANY, COMMITTEE[0], COMMITTEE[1]];
    let spend = |amount: &str| {
        [
            "expenditure",
            "--amount",
            amount,
            "--category",
            "repairs",
            "--payee",
            "宏达机电维修服务部",
        ]
        .map(String::from)
        .to_vec()
    };
    let warned = |signers: &[&str], date: &str, kind: &[&str], warning: &str| {
        let before = c.snapshot();
        let out = run_with_stdin(&propose_args_asking(&c, signers, date, kind), "");
        assert_not_confirmed(&out);
        assert!(
            out.stdout.contains("注意 Check before recording:"),
            "{out:#?}"
        );
        assert!(out.stdout.contains(warning), "warns {warning:?}: {out:#?}");
        assert_eq!(c.snapshot(), before);
        out
    };

    // A date after today.
    warned(
        &[COMPANY],
        "2030-01-01",
        &strs(&income("10")),
        "the business date 2030-01-01 is after today",
    );
    let out = c.propose(&[COMPANY], "2030-01-01", &strs(&income("10")));
    out.assert_ok();
    assert!(out.stdout.contains("is after today"), "{out:#?}");

    // The same spending twice: first committed, then again within 90 days.
    let out = c.propose(&all, "2026-01-10", &strs(&spend("1,200")));
    out.assert_ok();
    let first = out.committed_seq().expect("fully signed spending commits");
    assert!(!out.stdout.contains("possible duplicate"), "{out:#?}");
    warned(
        &[COMPANY],
        "2026-03-01",
        &strs(&spend("1200")),
        &format!("possible duplicate: entry {first} (dated 2026-01-10) already paid ¥1,200.00 to 宏达机电维修服务部 from operating"),
    );
    // More than 90 days later, or another amount, is not a duplicate.
    for (date, amount) in [("2026-05-01", "1200"), ("2026-01-11", "1200.01")] {
        let out = run_with_stdin(
            &propose_args_asking(&c, &[COMPANY], date, &strs(&spend(amount))),
            "",
        );
        assert_not_confirmed(&out);
        assert!(
            !out.stdout.contains("possible duplicate"),
            "{date} {amount}: {out:#?}"
        );
    }
    // A pending proposal repeated.
    let out = c.propose(&[COMPANY], "2026-01-12", &strs(&spend("99")));
    let pending = out.pending_id().expect("waits for the committee");
    warned(
        &[COMPANY],
        "2026-01-12",
        &strs(&spend("99")),
        &format!("possible duplicate: ¥99.00 to 宏达机电维修服务部 from operating is already waiting for signatures (id {}", &pending[..16]),
    );

    // Maintenance-fund spending with no owners' vote, and with one.
    let maintenance = [
        "expenditure",
        "--fund",
        "maintenance",
        "--amount",
        "50,000",
        "--category",
        "elevator",
        "--payee",
        "迅达电梯",
    ];
    warned(
        &all,
        "2026-01-12",
        &maintenance,
        "spending from the maintenance fund cites no owners' vote",
    );
    let mut voted = maintenance.to_vec();
    voted.extend([
        "--decision-ref",
        "2026-业主大会-03",
        "--participating-area-bp",
        "7000",
        "--participating-headcount-bp",
        "7000",
        "--approving-area-bp",
        "6000",
        "--approving-headcount-bp",
        "6000",
    ]);
    let out = run_with_stdin(&propose_args_asking(&c, &all, "2026-01-12", &voted), "");
    assert_not_confirmed(&out);
    assert!(!out.stdout.contains("cites no owners' vote"), "{out:#?}");
    assert!(out.stdout.contains("2026-业主大会-03"), "{out:#?}");
    // A transfer out of the maintenance fund with no vote.
    warned(
        &all,
        "2026-01-12",
        &[
            "transfer",
            "--from",
            "maintenance",
            "--to",
            "operating",
            "--amount",
            "10",
        ],
        "a transfer out of the maintenance fund cites no owners' vote",
    );
    // Salaries from a fund other than operating.
    warned(
        &all,
        "2026-01-12",
        &[
            "expenditure",
            "--fund",
            "public_revenue",
            "--amount",
            "10",
            "--category",
            "salaries",
            "--payee",
            "保安队",
        ],
        "人员工资 salaries is usually paid from operating, not public_revenue",
    );
}

/// Proves that overdraft errors count in yuan, never in fen.
#[test]
fn overdraft_errors_are_in_yuan() {
    let c = funded();
    let out = assert_refused(
        &c,
        &["overdraft", "holds ¥5,100.00, this entry takes ¥5,100.01"],
        || {
            c.propose(
                &[COMPANY, COMMITTEE[0], COMMITTEE[1]],
                "2026-01-07",
                &[
                    "expenditure",
                    "--amount",
                    "5,100.01",
                    "--category",
                    "repairs",
                    "--payee",
                    "某某工程",
                ],
            )
        },
    );
    assert!(!out.stderr.contains("fen"), "{out:#?}");
}

/// Proves that a body file with an amount out of range is refused with the
/// range in yuan, not fen.
#[test]
fn amount_range_errors_are_in_yuan() {
    let c = funded();
    let mut body = c.show_json(1)["leaf"]["body"].clone();
    body["nonce"] = json!("zero0amount0test");
    body["amount_fen"] = json!(0);
    let path = c.path("zero.json");
    std::fs::write(&path, support::canonical_json(&body)).unwrap();
    let out = assert_refused(
        &c,
        &[
            "amount_fen",
            "an amount is ¥0.01 to ¥100,000,000,000.00, is ¥0.00",
        ],
        || c.propose(&[COMPANY], "2026-01-07", &["body", path.to_str().unwrap()]),
    );
    assert!(!out.stderr.contains(" fen"), "{out:#?}");
}

/// Proves that `keygen` refuses the key names `init` would refuse, naming
/// the rule and a valid example and writing no file, and that a log key
/// named after an origin is made with `--log`.
#[test]
fn keygen_refuses_names_init_refuses() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "李会计",
        "Wuye-Li",
        "_wang",
        "wang li",
        "example.org/xingguang",
    ] {
        let out = dir.path().join("k.key");
        run(["keygen", "--name", name, "--out", out.to_str().unwrap()]).assert_one_line_error(&[
            &format!("--name {name:?}"),
            "a-z 0-9 . _ -",
            "e.g. wuye-li",
            "--log",
        ]);
        assert!(!out.exists(), "{name}: no key file is written");
    }
    let out = dir.path().join("log.key");
    run([
        "keygen",
        "--log",
        "--name",
        "example.org/xingguang",
        "--out",
        out.to_str().unwrap(),
    ])
    .assert_ok();
    assert!(out.exists());
    run([
        "keygen",
        "--log",
        "--name",
        "has space",
        "--out",
        dir.path().join("x.key").to_str().unwrap(),
    ])
    .assert_one_line_error(&["cannot name a log key", "origin"]);
}

/// Proves that a file that is no key at all (the genesis description, mode
/// 644) or a directory given as `--key` is named as such, not met with
/// advice to chmod it; a real key with mode 644 still gets that advice.
#[test]
fn non_key_files_are_named_before_their_mode() {
    use std::os::unix::fs::PermissionsExt as _;
    let c = funded();
    let genesis = c.path("genesis.toml");
    std::fs::set_permissions(&genesis, std::fs::Permissions::from_mode(0o644)).unwrap();
    let with_key = |key: &std::path::Path| {
        let key = [
            "--key".to_string(),
            key.display().to_string(),
            "--yes".into(),
        ];
        c.cmd("propose", &strs(&[key.to_vec(), income("1")].concat()))
    };
    let out = assert_refused(&c, &["genesis.toml is not a feeledger key file"], || {
        with_key(&genesis)
    });
    assert!(!out.stderr.contains("chmod"), "{out:#?}");
    let out = assert_refused(&c, &["is a directory, not a feeledger key file"], || {
        with_key(c.dir.path())
    });
    assert!(!out.stderr.contains("chmod"), "{out:#?}");
    let open = c.path("open.key");
    std::fs::copy(c.key_path(COMPANY), &open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_refused(&c, &["readable by other users", "chmod 600"], || {
        with_key(&open)
    });
}

/// Proves that `keygen --display-name` refuses a name the ledger would
/// refuse (too long, a line break, a space at either end) in one line
/// naming the rule, writing no key file; that a good one is printed in the
/// key's description (`key def:`), which a genesis description takes as it
/// is; and that `genesis draft` shows founders whom each key stands for, and
/// refuses a description whose display name breaks the rule, writing no
/// draft.
#[test]
fn keygen_display_names_follow_the_ledgers_rule() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.key");
    for (person, rule) in [
        (
            "王".repeat(17),
            "1 to 48 bytes of UTF-8 (16 Chinese characters), is 51",
        ),
        ("王\n建国".to_string(), "control characters"),
        (" 王建国".to_string(), "white space"),
        ("王建国 ".to_string(), "white space"),
    ] {
        run([
            "keygen",
            "--name",
            "weiyuan-wang",
            "--display-name",
            &person,
            "--out",
            out.to_str().unwrap(),
        ])
        .assert_one_line_error(&["--display-name", rule, "e.g. --display-name 王建国"]);
        assert!(!out.exists(), "{person:?}: no key file is written");
    }

    let mut defs = Vec::new();
    for (name, person) in [("wuye-li", "李明（物业经理）"), ("weiyuan-wang", "王建国")] {
        let key = dir.path().join(format!("{name}.key"));
        let made = run([
            "keygen",
            "--name",
            name,
            "--display-name",
            person,
            "--out",
            key.to_str().unwrap(),
        ]);
        made.assert_ok();
        assert_eq!(
            support::field(&made.stdout, "display_name:").as_deref(),
            Some(person)
        );
        let def: serde_json::Value =
            serde_json::from_str(&support::field(&made.stdout, "key def:").unwrap()).unwrap();
        assert_eq!(def["display_name"], json!(person));
        assert_eq!(def["name"], json!(name));
        assert_eq!(
            def["public_key"],
            json!(support::field(&made.stdout, "public_key:").unwrap())
        );
        defs.push(def);
    }
    support::log_keygen(dir.path(), support::ORIGIN);
    let description = |company_person: &str| {
        let line = |d: &serde_json::Value, person: &str| {
            format!(
                "{{ display_name = {:?}, name = {}, public_key = {} }}",
                person, d["name"], d["public_key"]
            )
        };
        format!(
            "origin = {:?}\nname = \"星光小区\"\n\n[roles.company]\nthreshold = 1\nkeys = [{}]\n\n[roles.committee]\nthreshold = 1\nkeys = [{}]\n",
            support::ORIGIN,
            line(&defs[0], company_person),
            line(&defs[1], defs[1]["display_name"].as_str().unwrap()),
        )
    };
    let draft = |text: String, out: &str| {
        let path = dir.path().join("genesis.toml");
        std::fs::write(&path, text).unwrap();
        run([
            "genesis",
            "draft",
            "--description",
            path.to_str().unwrap(),
            "--log-key",
            dir.path().join("log.key").to_str().unwrap(),
            "--out",
            dir.path().join(out).to_str().unwrap(),
        ])
    };
    let good = draft(description("李明（物业经理）"), "good.json");
    good.assert_ok();
    assert!(
        good.stdout.contains("王建国（weiyuan-wang）")
            && good.stdout.contains("李明（物业经理）（wuye-li）"),
        "{good:#?}"
    );
    let body = std::fs::read_to_string(dir.path().join("good.json")).unwrap();
    assert!(body.contains(r#""display_name":"王建国""#), "{body}");

    draft(description(&"李".repeat(17)), "bad.json")
        .assert_one_line_error(&["company.keys[0].display_name", "16 Chinese characters"]);
    assert!(!dir.path().join("bad.json").exists(), "no draft is written");
}
