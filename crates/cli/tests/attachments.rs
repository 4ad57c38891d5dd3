//! Attachments kept by the server, bound by hash (docs/api.md,
//! "Attachments"), against the real server on loopback and a ledger made
//! by the real binary: only the bytes of a file a signed proposal lists,
//! by hash and size, are kept; every other upload is a JSON 4xx and
//! nothing is stored; the bytes come back exact and immutable, after a
//! restart too; `propose --attach --url` and `--data` store the files.

mod support;

use serde_json::{json, Value};
use support::http::{Http, Resp, Server};
use support::{canonical_json, run, Community, COMMITTEE, COMPANY, ORIGIN};

/// The store's limit (feeledger_store::ATTACHMENT_BYTES_MAX), 10 MiB.
const LIMIT_BYTES: usize = 10 * 1024 * 1024;

fn hex_sha256(bytes: &[u8]) -> String {
    feeledger_core::hash::sha256(bytes).to_hex()
}

fn put(http: &Http, path: &str, bytes: &[u8]) -> Resp {
    Http::finish(
        http.client
            .put(format!("{}{path}", http.base))
            .header("content-type", "application/octet-stream")
            .body(bytes.to_vec())
            .send()
            .unwrap_or_else(|e| panic!("PUT {path}: {e}")),
    )
    .unwrap()
}

/// Proposes, as the company, an expenditure listing `files` (name, bytes)
/// by hash and size, with `propose body`, which uploads nothing; its id.
fn propose_listing(c: &Community, url: &str, files: &[(&str, &[u8])]) -> String {
    let attachments: Vec<Value> = files
        .iter()
        .map(|(name, bytes)| json!({"bytes": bytes.len(), "name": name, "sha256": hex_sha256(bytes)}))
        .collect();
    let body = json!({
        "ledger": ORIGIN, "date": "2026-02-10", "nonce": "attach-test-1", "kind": "expenditure",
        "fund": "operating", "amount_fen": 128050, "category": "repairs",
        "payee": "星光电梯维修有限公司", "memo": "3号楼电梯更换钢丝绳", "attachments": attachments,
    });
    let path = c.path("body.json");
    std::fs::write(&path, canonical_json(&body)).unwrap();
    let out = run([
        "propose".to_string(),
        "--url".into(),
        url.into(),
        "--key".into(),
        c.key_path(COMPANY).display().to_string(),
        "--yes".into(),
        "body".into(),
        path.display().to_string(),
    ]);
    out.assert_ok();
    out.pending_id()
        .expect("the expenditure waits for the committee")
}

/// Proves that an upload is kept only for a hash and size a proposal
/// lists: wrong bytes of the listed size, the listed bytes cut short, a
/// hash the proposal does not list, an unknown proposal, a malformed hash
/// and a body over 10 MiB are each a JSON 4xx with their own code, and
/// afterwards the hash is still not served (nothing was stored); the
/// listed bytes are then kept (201, then 200 for the same bytes again),
/// served exactly with `application/octet-stream` and the immutable cache
/// header, also for a proposal that has since committed, and still served
/// after the server restarts.
#[test]
fn only_listed_bytes_are_kept_and_served_exactly_across_a_restart() {
    let c = Community::new();
    c.income("2026-02-01", "5000", "3-1502", "二月物业费");
    let invoice: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let contract = "维修合同 第 2026-03 号\n".repeat(50).into_bytes();
    let server = Server::start(&c.data);
    let http = server.http();
    let id = propose_listing(
        &c,
        &server.url,
        &[("发票.pdf", &invoice), ("合同.txt", &contract)],
    );
    let sha = hex_sha256(&invoice);
    let at = format!("/api/v1/proposals/{id}/attachments/{sha}");

    let mut forged = invoice.clone();
    forged[1000] ^= 1;
    let message = put(&http, &at, &forged).assert_error(422, "attachment_hash_mismatch");
    assert!(message.contains(&sha), "{message}");
    put(&http, &at, &invoice[..invoice.len() - 1]).assert_error(422, "attachment_wrong_size");
    let other = b"a file no proposal names".to_vec();
    put(
        &http,
        &format!("/api/v1/proposals/{id}/attachments/{}", hex_sha256(&other)),
        &other,
    )
    .assert_error(422, "attachment_not_listed");
    put(
        &http,
        &format!("/api/v1/proposals/{}/attachments/{sha}", "ab".repeat(32)),
        &invoice,
    )
    .assert_error(404, "not_found");
    put(
        &http,
        &format!("/api/v1/proposals/{id}/attachments/XYZ"),
        &invoice,
    )
    .assert_error(400, "malformed");
    put(&http, &at, &vec![0u8; LIMIT_BYTES + 1]).assert_error(413, "too_large");
    http.get(&format!("/api/v1/attachments/{sha}"))
        .assert_error(404, "not_found");

    let stored = put(&http, &at, &invoice);
    assert_eq!(stored.status, 201, "{}", stored.text());
    assert_eq!(
        stored.json(),
        json!({"sha256": sha, "bytes": invoice.len()})
    );
    let again = put(&http, &at, &invoice);
    assert_eq!(again.status, 200, "{}", again.text());

    let served = http.get(&format!("/api/v1/attachments/{sha}?name=发票.pdf"));
    assert_eq!(served.status, 200);
    assert_eq!(served.body, invoice, "the exact bytes");
    assert_eq!(served.content_type, "application/octet-stream");
    assert_eq!(served.cache_control, "public, max-age=31536000, immutable");
    http.get("/api/v1/attachments/not-a-hash")
        .assert_error(400, "malformed");

    // Two committee members sign: the proposal commits, and its other
    // file is still accepted, found by the entry's body id.
    for member in &COMMITTEE[..2] {
        run([
            "sign".to_string(),
            "--url".into(),
            server.url.clone(),
            "--key".into(),
            c.key_path(member).display().to_string(),
            "--yes".into(),
            id.clone(),
        ])
        .assert_ok();
    }
    http.get(&format!("/api/v1/proposals/{id}"))
        .assert_error(404, "not_found");
    let contract_sha = hex_sha256(&contract);
    let late = put(
        &http,
        &format!("/api/v1/proposals/{id}/attachments/{contract_sha}"),
        &contract,
    );
    assert_eq!(late.status, 201, "{}", late.text());

    server.stop();
    let server = Server::start(&c.data);
    let http = server.http();
    assert_eq!(
        http.get(&format!("/api/v1/attachments/{sha}")).body,
        invoice
    );
    assert_eq!(
        http.get(&format!("/api/v1/attachments/{contract_sha}"))
            .body,
        contract
    );
    server.kill();
}

/// Proves that `feeledger propose --attach FILE --url URL` uploads each
/// attached file once the proposal is accepted (the server then serves its
/// exact bytes), that with `--data` the files go into the data
/// directory's store (served once a server starts on it), and that a file
/// over the store's limit is refused before anything is recorded, naming
/// the file.
#[test]
fn propose_attach_uploads_over_url_and_stores_with_data() {
    let c = Community::new();
    c.income("2026-02-01", "5000", "3-1502", "二月物业费");
    let photo = c.path("现场照片.jpg");
    let photo_bytes: Vec<u8> = (0..3_000u32).map(|i| (i % 256) as u8).collect();
    std::fs::write(&photo, &photo_bytes).unwrap();
    let quote = c.path("quote.txt");
    std::fs::write(&quote, "报价单：钢丝绳 4 根").unwrap();
    let expenditure = |target: &[&str], files: &[&std::path::Path], memo: &str| {
        let mut args: Vec<String> = vec!["propose".into()];
        args.extend(target.iter().map(|s| s.to_string()));
        args.extend([
            "--key".into(),
            c.key_path(COMPANY).display().to_string(),
            "--date".into(),
            "2026-02-10".into(),
            "--yes".into(),
            "expenditure".into(),
            "--amount".into(),
            "320".into(),
            "--category".into(),
            "repairs".into(),
            "--payee".into(),
            "星光电梯维修有限公司".into(),
            "--memo".into(),
            memo.into(),
        ]);
        for f in files {
            args.push("--attach".into());
            args.push(f.display().to_string());
        }
        run(args)
    };

    // --data: stored in the data directory's store.
    let data = c.data.display().to_string();
    let out = expenditure(&["--data", &data], &[&photo], "by data");
    out.assert_ok();
    assert!(
        out.stdout.contains("attachment stored: 现场照片.jpg"),
        "{}",
        out.stdout
    );

    // Too large: refused before anything is recorded, naming the file.
    let big = c.path("scan.tiff");
    std::fs::write(&big, vec![0u8; LIMIT_BYTES + 1]).unwrap();
    let before = c.snapshot();
    let refused = expenditure(&["--data", &data], &[&big], "too big");
    refused.assert_one_line_error(&["scan.tiff", "10485760"]);
    assert_eq!(c.snapshot(), before, "nothing recorded");

    let server = Server::start(&c.data);
    let http = server.http();
    assert_eq!(
        http.get(&format!("/api/v1/attachments/{}", hex_sha256(&photo_bytes)))
            .body,
        photo_bytes
    );

    // --url: uploaded after the proposal is accepted.
    let out = expenditure(&["--url", &server.url], &[&photo, &quote], "by url");
    out.assert_ok();
    let id = out.pending_id().expect("pending");
    assert!(
        out.stdout.contains("attachment stored: quote.txt"),
        "{}",
        out.stdout
    );
    let quote_bytes = std::fs::read(&quote).unwrap();
    assert_eq!(
        http.get(&format!("/api/v1/attachments/{}", hex_sha256(&quote_bytes)))
            .body,
        quote_bytes
    );
    let listed = http.get(&format!("/api/v1/proposals/{id}")).ok_json();
    assert_eq!(
        listed["body"]["attachments"][1]["sha256"],
        json!(hex_sha256(&quote_bytes)),
        "{listed}"
    );
    server.kill();
}
