//! End-to-end tests of the HTTP API over real TCP on loopback: the real
//! `feeledger serve` process on a realistic demo ledger (`feeledger demo
//! --no-serve`), driven by the `--url` modes of the CLI and by plain HTTP
//! requests whose answers are checked independently with `feeledger_core`
//! (tiles, checkpoints, signatures), never trusted.

mod support;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;
use feeledger_core::entry::{Body, Content, Leaf, Reversal};
use feeledger_core::hash::{leaf_hash, Hash};
use feeledger_core::merkle::root_from_leaf_hashes;
use feeledger_core::note::{
    cosign, open_checkpoint, sign_checkpoint, Checkpoint, KeyAlg, NoteSigner, VerifierKey,
};
use feeledger_core::tiles::{TileKind, TilePath};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;
use support::bodies::{date, proposal_request, read_signer, sign_with, Bodies};
use support::demo::{Demo, DEMO_ENTRIES, DEMO_ORIGIN};
use support::http::{Cases, Http, Resp, Server};
use support::raw::raw_get;
use support::verify::{assert_verified, assert_verifies, verify_command, verify_url};
use support::{keygen, run, Output};
/// The bodies these tests sign: the demo ledger, a month after its last entry.
const BODIES: Bodies = Bodies {
    ledger: DEMO_ORIGIN,
    month: "2027-01",
    memo: "API test",
};

// ---------------------------------------------------------------------------
// 1. Remote audit
// ---------------------------------------------------------------------------

/// Proves that a resident's audit over HTTP works end to end against the
/// real server: `feeledger verify --url URL --log-key KEY --json` replays
/// all 3,669 demo entries (leaves, chain, signatures, rules, balances) and
/// checks the served checkpoint against the log key printed by the demo,
/// which is also the one the server advertises in `/api/v1/ledger`; and that
/// the audit is not a rubber stamp: a log key of the same name but another
/// key, a log key of another name, and a malformed key all fail it.
#[test]
fn verify_url_passes_with_the_log_key_and_fails_with_another() {
    let demo = Demo::new();
    let server = Server::start(&demo.data);
    let http = server.http();

    let info = http.get("/api/v1/ledger").ok_json();
    assert_eq!(info["log_key"], json!(demo.log_key), "{info}");
    assert_eq!(info["origin"], json!(DEMO_ORIGIN));
    assert_eq!(info["size"], json!(DEMO_ENTRIES));

    let report = assert_verifies(&server.url, &demo.log_key, DEMO_ENTRIES);
    let balances = http.get("/api/v1/balances").ok_json();
    assert_eq!(report["balances_fen"], balances["balances_fen"], "{report}");
    assert_eq!(report["origin"], json!(DEMO_ORIGIN));

    // An impostor key named after the origin: the checkpoint does not verify.
    let impostor = NoteSigner::new(
        DEMO_ORIGIN,
        KeyAlg::Ed25519,
        SigningKey::from_bytes(&[9u8; 32]),
    )
    .unwrap()
    .verifier_key()
    .to_string();
    let (out, report) = verify_url(&server.url, &impostor);
    out.assert_failed();
    assert_eq!(report["ok"], json!(false), "{out:#?}");
    let failure = report["failure"].to_string();
    assert!(failure.contains("log key"), "{out:#?}");

    // A real key of the ledger, but not the log key (a role key).
    let role_key = demo_vkey(&demo, "wuye-li");
    let (out, report) = verify_url(&server.url, &role_key);
    out.assert_failed();
    assert_eq!(report["ok"], json!(false), "{out:#?}");

    // Not a key at all.
    run([
        "verify",
        "--url",
        &server.url,
        "--log-key",
        "not-a-key",
        "--json",
    ])
    .assert_failed();
    // And --url without --log-key is refused: the server is not trusted.
    run(["verify", "--url", &server.url]).assert_one_line_error(&["--log-key"]);
}

/// A certificate authority made for one test, and a certificate for
/// `localhost` it signed, with its key (PKCS#8 DER).
struct TestAuthority {
    ca_pem: String,
    leaf: rcgen::Certificate,
    leaf_key_der: Vec<u8>,
}

fn test_authority(name: &str) -> TestAuthority {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, name);
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    TestAuthority {
        ca_pem: ca.pem(),
        leaf,
        leaf_key_der: leaf_key.serialize_der(),
    }
}

/// A TLS-terminating proxy on a loopback port in front of `upstream`
/// (`127.0.0.1:PORT`), as an HTTPS reverse proxy would stand in front of
/// `feeledger serve`. It stops when dropped.
struct TlsProxy {
    /// `https://localhost:PORT`.
    url: String,
    _runtime: tokio::runtime::Runtime,
}

fn tls_proxy(upstream: &str, authority: &TestAuthority) -> TlsProxy {
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![authority.leaf.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(authority.leaf_key_der.clone())),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let upstream = upstream.to_string();
    runtime.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    TlsProxy {
        url: format!("https://localhost:{port}"),
        _runtime: runtime,
    }
}

/// Proves that the CLI speaks HTTPS, as it must to reach a server deployed
/// behind a TLS reverse proxy (threat-model.md §4.6): `verify --url
/// https://localhost:PORT` through a TLS proxy in front of the real server
/// audits every demo entry when the proxy's certificate authority is trusted
/// (`SSL_CERT_FILE`), and stops with a one-line error naming the
/// certificate when only another authority is.
#[test]
fn the_cli_speaks_https_to_a_server_behind_a_tls_proxy() {
    let demo = Demo::new();
    let server = Server::start(&demo.data);
    let authority = test_authority("feeledger test authority");
    let proxy = tls_proxy(&server.addr, &authority);
    let trusting = |authority: &TestAuthority, name: &str| {
        let ca_file = demo.data.with_extension(name);
        std::fs::write(&ca_file, &authority.ca_pem).unwrap();
        verify_command(&proxy.url, &demo.log_key, Some(&ca_file))
    };

    assert_verified(trusting(&authority, "ca.pem"), DEMO_ENTRIES);

    let stranger = test_authority("another authority");
    trusting(&stranger, "other-ca.pem").assert_one_line_error(&["certificate"]);
}

fn demo_vkey(demo: &Demo, name: &str) -> String {
    read_signer(&demo.key_path(name)).verifier_key().to_string()
}

// ---------------------------------------------------------------------------
// 2. Tiles
// ---------------------------------------------------------------------------

fn tile_path(kind: TileKind, index: u64, width: u64) -> String {
    let path = TilePath {
        kind,
        index,
        partial_width: (width < 256).then(|| u16::try_from(width).unwrap()),
    };
    format!("/tile/{}", path.to_path())
}

/// Proves that a client needing nothing but the log key and the C2SP tiles
/// can check the whole log without trusting the server: the checkpoint's
/// signature verifies with the log key (through `open_checkpoint`, not the
/// server's say-so); every level-0 hash tile and entry bundle (full tiles
/// `immutable`, the partial right edge not) agree leaf by leaf (u16 BE
/// length + bytes, hashed with the RFC 6962 leaf prefix); the root rebuilt
/// from all 3,669 leaf hashes is the checkpoint's; each hash of the level-1
/// tile is the root of its 256 leaves; and malformed tile paths, traversal
/// attempts and tiles beyond the tree are 404 with a JSON error.
#[test]
fn tiles_rebuild_the_signed_root() {
    let demo = Demo::new();
    let server = Server::start(&demo.data);
    let http = server.http();

    let log_key = VerifierKey::parse(&demo.log_key).unwrap();
    let checkpoint_bytes = http.checkpoint();
    let (checkpoint, _, _) =
        open_checkpoint(&checkpoint_bytes, &log_key, &[]).expect("the checkpoint verifies");
    assert_eq!(checkpoint.origin, DEMO_ORIGIN);
    assert_eq!(checkpoint.size, DEMO_ENTRIES);
    let size = checkpoint.size;

    let started = Instant::now();
    let mut leaf_hashes: Vec<Hash> = Vec::new();
    let mut leaves_checked = 0u64;
    let tiles = size.div_ceil(256);
    for index in 0..tiles {
        let width = (size - index * 256).min(256);
        let hash_path = tile_path(TileKind::Hashes { level: 0 }, index, width);
        let entries_path = tile_path(TileKind::Entries, index, width);
        let hashes = http.get(&hash_path);
        let bundle = http.get(&entries_path);
        for (path, r) in [(&hash_path, &hashes), (&entries_path, &bundle)] {
            assert_eq!(r.status, 200, "{path}: {}", r.text());
            assert_eq!(r.content_type, "application/octet-stream", "{path}");
            if width == 256 {
                assert!(r.cache_control.contains("immutable"), "{path}: {r:?}");
            } else {
                assert!(!r.cache_control.contains("immutable"), "{path}: {r:?}");
            }
        }
        assert_eq!(hashes.body.len() as u64, 32 * width, "{hash_path}");
        let tile_hashes: Vec<Hash> = hashes
            .body
            .chunks(32)
            .map(|c| Hash::from_slice(c).unwrap())
            .collect();
        let mut rest = &bundle.body[..];
        for (i, expected) in tile_hashes.iter().enumerate() {
            assert!(
                rest.len() >= 2,
                "{entries_path}: bundle ends early at leaf {i}"
            );
            let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
            assert!(rest.len() >= 2 + len, "{entries_path}: leaf {i} is cut");
            let leaf = &rest[2..2 + len];
            rest = &rest[2 + len..];
            assert_eq!(
                &leaf_hash(leaf),
                expected,
                "{entries_path}: leaf {i} does not hash to the tile's hash"
            );
            let decoded = Leaf::decode(leaf).expect("a bundled leaf decodes");
            assert_eq!(decoded.seq, index * 256 + i as u64);
            leaves_checked += 1;
        }
        assert!(rest.is_empty(), "{entries_path}: bytes after the last leaf");
        leaf_hashes.extend(tile_hashes);
    }
    assert_eq!(leaves_checked, size);
    assert_eq!(
        root_from_leaf_hashes(&leaf_hashes),
        checkpoint.root,
        "the root rebuilt from the tiles is the signed one"
    );
    println!(
        "tiles: {tiles} hash tiles and {tiles} entry bundles, {leaves_checked} leaves, in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Level 1: floor(3669 / 256) = 14 hashes, each the root of 256 leaves.
    let level1_width = size >> 8;
    assert_eq!(level1_width, 14);
    let path = tile_path(TileKind::Hashes { level: 1 }, 0, level1_width);
    let r = http.get(&path);
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    assert_eq!(r.body.len() as u64, 32 * level1_width);
    for (j, chunk) in r.body.chunks(32).enumerate() {
        assert_eq!(
            Hash::from_slice(chunk).unwrap(),
            root_from_leaf_hashes(&leaf_hashes[j * 256..(j + 1) * 256]),
            "{path}: hash {j}"
        );
    }
    // A narrower partial tile is a prefix of the wider one.
    let narrow = http.get(&tile_path(TileKind::Hashes { level: 1 }, 0, 3));
    assert_eq!(narrow.status, 200);
    assert_eq!(narrow.body[..], r.body[..96]);

    // Malformed and out-of-tree tile paths: 404 with a JSON error.
    for bad in [
        "/tile/0/1",
        "/tile/0/x001/000",
        "/tile/9/000",
        "/tile/entries/000.p/0",
        "/tile/0/000.p/256",
        "/tile/0/00",
        "/tile/0/0000",
        "/tile/-1/000",
        "/tile/01/000",
        "/tile/0/015",
        "/tile/0/014",
        "/tile/0/014.p/86",
        "/tile/entries/014.p/86",
        "/tile/1/000.p/15",
        "/tile/1/001.p/1",
        "/tile/2/000.p/1",
        "/tile/entries/x999/x999/x999/x999/x999/x999/999",
        "/tile/",
        "/tile/..%2F..%2Fetc%2Fpasswd",
    ] {
        http.get(bad).assert_error(404, "not_found");
    }
    // Traversal sent verbatim (a client would fold the dots itself).
    for bad in [
        "/tile/../../etc/passwd",
        "/tile/0/../../../etc/passwd",
        "/tile/entries/../../log.key",
    ] {
        let answer = raw_get(&server.addr, bad.as_bytes());
        let (status, body) = (answer.status, answer.text());
        assert_eq!(status, 404, "{bad}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{bad}: {e}: {body}"));
        assert_eq!(v["error"]["code"], json!("not_found"), "{bad}: {v}");
        assert!(!body.contains("PRIVATE"), "{bad}");
    }
    assert_eq!(http.checkpoint(), checkpoint_bytes, "reads change nothing");
}

// ---------------------------------------------------------------------------
// 3. Co-signing over HTTP
// ---------------------------------------------------------------------------

/// Proves that the propose/co-sign workflow works over HTTP with keys held
/// elsewhere: the company proposes an expenditure with `propose --url`; it
/// waits (202-style pending, listed with committee progress 0 of 2); a
/// retired committee member's key is refused; two committee members whose
/// key files sit in another directory (mode 0600 copies) co-sign with
/// `sign --url --yes`; the entry then commits, `GET /api/v1/entries/{seq}`
/// shows the same body id signed by all three with their roles, the
/// proposal leaves `GET /api/v1/proposals`, the operating fund drops by the
/// exact amount, and the remote audit still passes.
#[test]
fn committee_cosigns_over_http_from_another_directory() {
    let demo = Demo::new();
    let server = Server::start(&demo.data);
    let http = server.http();
    let before = http.get("/api/v1/balances").ok_json();

    let out = run([
        "propose",
        "--yes",
        "--url",
        &server.url,
        "--key",
        demo.key_path("wuye-li").to_str().unwrap(),
        "--date",
        "2027-01-08",
        "expenditure",
        "--amount",
        "1200",
        "--category",
        "repairs",
        "--payee",
        "宏达机电维修服务部",
        "--memo",
        "单元门禁维修",
    ]);
    out.assert_ok();
    let id = out
        .pending_id()
        .unwrap_or_else(|| panic!("pending: {out:#?}"));
    assert_eq!(out.committed_seq(), None, "{out:#?}");

    let listed = http.get("/api/v1/proposals").ok_json();
    let proposals = listed["proposals"].as_array().unwrap();
    assert_eq!(proposals.len(), 1, "{listed}");
    assert_eq!(proposals[0]["id"], json!(id));
    assert_eq!(proposals[0]["body"]["amount_fen"], json!(120000));
    let progress = &proposals[0]["status"]["progress"];
    assert!(
        progress
            .as_array()
            .unwrap()
            .contains(&json!({"role": "committee", "have": 0, "need": 2})),
        "{listed}"
    );

    // The committee's keys live in another directory.
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = |name: &str| -> PathBuf {
        let to = elsewhere.path().join(format!("{name}.key"));
        std::fs::copy(demo.key_path(name), &to).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
            let mode = std::fs::metadata(&to).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        to
    };
    let wang = copy("weiyuan-wang");
    let chen = copy("weiyuan-chen");
    let sun = copy("weiyuan-sun");
    let sign = |key: &Path| {
        run([
            "sign",
            "--url",
            &server.url,
            "--key",
            key.to_str().unwrap(),
            "--yes",
            &id,
        ])
    };

    // weiyuan-sun left the committee in July: the server refuses the key.
    let out = sign(&sun);
    out.assert_failed();
    assert!(out.stderr.contains("403"), "{out:#?}");
    assert!(out.stderr.contains("unknown_key"), "{out:#?}");

    let out = sign(&wang);
    out.assert_ok();
    assert_eq!(out.pending_id().as_deref(), Some(id.as_str()), "{out:#?}");
    assert!(out.stdout.contains("committee: 1 of 2"), "{out:#?}");
    assert_eq!(
        http.get("/api/v1/ledger").ok_json()["size"],
        json!(DEMO_ENTRIES),
        "not committed yet"
    );

    let out = sign(&chen);
    out.assert_ok();
    let seq = out
        .committed_seq()
        .unwrap_or_else(|| panic!("committed: {out:#?}"));
    assert_eq!(seq, DEMO_ENTRIES);

    let entry = http.get(&format!("/api/v1/entries/{seq}")).ok_json();
    assert_eq!(entry["seq"], json!(seq));
    assert_eq!(entry["body_id"], json!(id), "{entry}");
    assert_eq!(entry["kind"], json!("expenditure"));
    assert_eq!(entry["leaf"]["body"]["payee"], json!("宏达机电维修服务部"));
    let signers: BTreeSet<(String, String)> = entry["signers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["key"].as_str().unwrap().to_string(),
                s["role"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect();
    let expected: BTreeSet<(String, String)> = [
        ("weiyuan-chen", "committee"),
        ("weiyuan-wang", "committee"),
        ("wuye-li", "company"),
    ]
    .iter()
    .map(|(k, r)| (k.to_string(), r.to_string()))
    .collect();
    assert_eq!(signers, expected, "{entry}");
    let leaf = BASE64
        .decode(entry["leaf_base64"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        entry["leaf_hash"],
        json!(leaf_hash(&leaf).to_hex()),
        "{entry}"
    );

    assert_eq!(
        http.get("/api/v1/proposals").ok_json(),
        json!({"proposals": [], "next": null})
    );
    http.get(&format!("/api/v1/proposals/{id}"))
        .assert_error(404, "not_found");
    let after = http.get("/api/v1/balances").ok_json();
    assert_eq!(
        before["balances_fen"]["operating"].as_u64().unwrap() - 120000,
        after["balances_fen"]["operating"].as_u64().unwrap()
    );
    assert_eq!(
        before["balances_fen"]["maintenance"],
        after["balances_fen"]["maintenance"]
    );
    assert_verifies(&server.url, &demo.log_key, DEMO_ENTRIES + 1);
}

// ---------------------------------------------------------------------------
// 4. Witness cosignatures and forks
// ---------------------------------------------------------------------------

fn add_checkpoint_body(old: u64, proof: &[Hash], note: &[u8]) -> Vec<u8> {
    let mut body = format!("old {old}\n");
    for h in proof {
        body.push_str(&BASE64.encode(h.0));
        body.push('\n');
    }
    body.push('\n');
    let mut bytes = body.into_bytes();
    bytes.extend_from_slice(note);
    bytes
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A checkpoint note signed by `log` and cosigned by `cosigner`.
fn signed_cosigned(cp: &Checkpoint, log: &NoteSigner, cosigner: &NoteSigner) -> Vec<u8> {
    let mut note = sign_checkpoint(cp, log).expect("sign the checkpoint");
    let sig = cosign(&note.text, now_s(), cosigner).expect("cosign");
    note.signatures.push(sig);
    note.to_bytes()
}

/// `feeledger cosign-checkpoint --url URL --key KEY --state STATE`.
fn cosign_over_http(url: &str, key: &Path, state: &Path) -> CosignRun {
    CosignRun(run([
        "cosign-checkpoint",
        "--url",
        url,
        "--key",
        key.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
    ]))
}

/// One `cosign-checkpoint` run.
struct CosignRun(Output);

impl CosignRun {
    #[track_caller]
    fn assert_ok(&self) -> &Output {
        self.0.assert_ok()
    }

    /// It passed and says it cosigned a checkpoint of `size` entries.
    #[track_caller]
    fn assert_cosigned(&self, size: u64) {
        let out = self.assert_ok();
        assert!(
            out.stdout
                .contains(&format!("cosigned checkpoint of size {size}")),
            "{out:#?}"
        );
    }
}

/// The demo with witness `witness-a` registered by `add-witness` and its
/// first cosignature, made with `cosign-checkpoint --url`, on the served
/// checkpoint (checked on the way: the checkpoint carries its `— witness-a`
/// line, verifiable with its key, and `/api/v1/ledger` lists it).
struct Witnessed {
    demo: Demo,
    _wdir: tempfile::TempDir,
    witness: support::Key,
    server: Server,
    http: Http,
    log_key: VerifierKey,
    wkey: VerifierKey,
    /// The witness's state file (the last size it cosigned).
    state: PathBuf,
    /// The served checkpoint note, cosigned.
    served: Vec<u8>,
    checkpoint: Checkpoint,
    /// `/api/v1/ledger` after the cosignature.
    info: Value,
}

impl Witnessed {
    fn new() -> Witnessed {
        let demo = Demo::new();
        let wdir = tempfile::tempdir().unwrap();
        let witness = keygen(wdir.path(), "witness-a");
        assert!(
            witness.cosigner_key.starts_with("witness-a+"),
            "{witness:?}"
        );
        let wkey = VerifierKey::parse(&witness.cosigner_key).unwrap();
        assert_eq!(wkey.alg(), KeyAlg::CosignatureV1, "a type 0x04 key");
        let out = run([
            "add-witness",
            "--data",
            demo.data.to_str().unwrap(),
            &witness.cosigner_key,
        ]);
        out.assert_ok();
        assert!(
            out.stdout.contains("registered witness witness-a"),
            "{out:#?}"
        );

        let server = Server::start(&demo.data);
        let http = server.http();
        let log_key = VerifierKey::parse(&demo.log_key).unwrap();

        let state = wdir.path().join("w.state");
        cosign_over_http(&server.url, &witness.path, &state).assert_cosigned(DEMO_ENTRIES);

        let served = http.checkpoint();
        let text = String::from_utf8(served.clone()).unwrap();
        assert!(text.contains("\n\u{2014} witness-a "), "{text}");
        let (checkpoint, _, cosigs) =
            open_checkpoint(&served, &log_key, std::slice::from_ref(&wkey)).unwrap();
        assert_eq!(checkpoint.size, DEMO_ENTRIES);
        assert_eq!(cosigs.len(), 1, "the witness cosignature verifies");
        assert_eq!(cosigs[0].name, "witness-a");
        let info = http.get("/api/v1/ledger").ok_json();
        assert!(
            info["witness_keys"]
                .as_array()
                .unwrap()
                .contains(&json!(witness.cosigner_key)),
            "{info}"
        );

        Witnessed {
            demo,
            _wdir: wdir,
            witness,
            server,
            http,
            log_key,
            wkey,
            state,
            served,
            checkpoint,
            info,
        }
    }

    /// The operator's log key, and the witness's key as a cosigner.
    fn signers(&self) -> (NoteSigner, NoteSigner) {
        let log = self.demo.log_signer();
        assert_eq!(log.verifier_key().to_string(), self.demo.log_key);
        let wsigner = NoteSigner::new(
            "witness-a",
            KeyAlg::CosignatureV1,
            read_signer(&self.witness.path).signing_key().clone(),
        )
        .unwrap();
        assert_eq!(wsigner.verifier_key(), self.wkey);
        (log, wsigner)
    }
}

/// Proves the witness side of tlog-witness, turned around: a witness
/// registered with `add-witness` cosigns the served checkpoint with
/// `cosign-checkpoint --url` (the checkpoint then carries its `— witness-a`
/// line, verifiable with its key, and `/api/v1/ledger` lists it); when the
/// log grows by one entry it cosigns the new checkpoint through a real
/// consistency proof, and its recorded size moves on (the old size is now
/// 409).
#[test]
fn a_witness_cosigns_the_served_checkpoint_and_its_growth() {
    let w = Witnessed::new();
    let (demo, server, http) = (&w.demo, &w.server, &w.http);
    let (witness, state, log_key, wkey) = (&w.witness, &w.state, &w.log_key, &w.wkey);
    let (log, wsigner) = w.signers();
    let post = |body: Vec<u8>| http.post("/add-checkpoint", "text/plain", body);
    let honest = signed_cosigned(&w.checkpoint, &log, &wsigner);
    // The log grows by one entry; the witness, whose record says 3669,
    // cosigns the new checkpoint with a real consistency proof from 3669.
    let li = demo.signing_key("wuye-li");
    let income = BODIES.income("api-witness-1", 27525, "3-1502");
    let r = http.post_json(
        "/api/v1/proposals",
        &proposal_request(&income, &sign_with(&income, &[("wuye-li", &li)])),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    cosign_over_http(&server.url, &witness.path, state).assert_cosigned(DEMO_ENTRIES + 1);
    let (grown, _, cosigs) =
        open_checkpoint(&http.checkpoint(), log_key, std::slice::from_ref(wkey)).unwrap();
    assert_eq!(grown.size, DEMO_ENTRIES + 1);
    assert_eq!(cosigs.len(), 1, "the new checkpoint carries witness-a");
    // Its record moved on: old 3669 is now the wrong size.
    let r = post(add_checkpoint_body(DEMO_ENTRIES, &[], &honest));
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.text().trim(), (DEMO_ENTRIES + 1).to_string());
}

/// Proves the server refuses to collect a witness cosignature on anything
/// but this log's own tree, even when the forged checkpoint carries the real
/// log key's signature, each refusal a named case: a same-size
/// different-root fork and a size+1 made-up root (with and without a proof)
/// are 422; a wrong `old` is 409 `text/x.tlog.size` with the recorded size;
/// a checkpoint not signed by the log key or cosigned by an unknown key is
/// 403; another origin 404; garbage 400. Afterwards the served checkpoint
/// and `/api/v1/ledger` are byte-identical.
#[test]
fn witness_forks_and_garbage_are_refused() {
    let w = Witnessed::new();
    let (http, served, info) = (&w.http, &w.served, &w.info);
    let checkpoint = w.checkpoint.clone();
    let (log, wsigner) = w.signers();
    let post = |body: Vec<u8>| http.post("/add-checkpoint", "text/plain", body);
    // Each refusal is a named case; a failing one is reported with the
    // others at the end instead of hiding them.
    let cases = Cases::new();
    let made_up = Hash([0x5a; 32]);

    // A fork at the same size: the log key signed a different root.
    let fork = Checkpoint {
        root: made_up,
        ..checkpoint.clone()
    };
    let r = post(add_checkpoint_body(
        DEMO_ENTRIES,
        &[],
        &signed_cosigned(&fork, &log, &wsigner),
    ));
    cases.check(r, 422, "inconsistent", "a fork at the same size");

    // A fork one entry ahead, with a made-up proof.
    let ahead = Checkpoint {
        size: DEMO_ENTRIES + 1,
        root: made_up,
        ..checkpoint.clone()
    };
    let proof = [Hash([1; 32]), Hash([2; 32]), Hash([3; 32])];
    let r = post(add_checkpoint_body(
        DEMO_ENTRIES,
        &proof,
        &signed_cosigned(&ahead, &log, &wsigner),
    ));
    cases.check(
        r,
        422,
        "inconsistent",
        "a fork one entry ahead, made-up proof",
    );
    // ...and with no proof at all.
    let r = post(add_checkpoint_body(
        DEMO_ENTRIES,
        &[],
        &signed_cosigned(&ahead, &log, &wsigner),
    ));
    cases.check(r, 422, "inconsistent", "a fork one entry ahead, no proof");

    // The real checkpoint, but the wrong old size: 409 with the recorded one.
    let honest = signed_cosigned(&checkpoint, &log, &wsigner);
    for wrong_old in [0, 100, DEMO_ENTRIES - 1] {
        cases.case(&format!("the wrong old size {wrong_old}"), || {
            let r = post(add_checkpoint_body(wrong_old, &[], &honest));
            assert_eq!(r.status, 409, "old {wrong_old}: {}", r.text());
            assert_eq!(r.content_type, "text/x.tlog.size", "{r:?}");
            assert_eq!(r.text().trim(), DEMO_ENTRIES.to_string(), "{r:?}");
        });
    }

    // Not signed by the log key (an impostor key of the same name).
    let impostor = NoteSigner::new(
        DEMO_ORIGIN,
        KeyAlg::Ed25519,
        SigningKey::from_bytes(&[7u8; 32]),
    )
    .unwrap();
    cases.case("not signed by the log key", || {
        let r = post(add_checkpoint_body(
            DEMO_ENTRIES,
            &[],
            &signed_cosigned(&checkpoint, &impostor, &wsigner),
        ));
        assert_eq!(r.status, 403, "{}", r.text());
        assert!(r.json()["error"]["code"].is_string(), "{}", r.text());
    });

    // Signed by the log key, cosigned by a key the server does not know.
    let stranger = NoteSigner::new(
        "witness-b",
        KeyAlg::CosignatureV1,
        SigningKey::from_bytes(&[8u8; 32]),
    )
    .unwrap();
    let r = post(add_checkpoint_body(
        0,
        &[],
        &signed_cosigned(&checkpoint, &log, &stranger),
    ));
    cases.check(r, 403, "unknown_cosigner", "cosigned by an unknown key");

    // Another origin.
    let other_log = NoteSigner::new(
        "other.example/ledger",
        KeyAlg::Ed25519,
        SigningKey::from_bytes(&[6u8; 32]),
    )
    .unwrap();
    let other = Checkpoint {
        origin: "other.example/ledger".into(),
        ..checkpoint.clone()
    };
    let r = post(add_checkpoint_body(
        DEMO_ENTRIES,
        &[],
        &signed_cosigned(&other, &other_log, &wsigner),
    ));
    cases.check(r, 404, "not_found", "another origin");

    // Garbage.
    let honest_text = String::from_utf8(honest.clone()).unwrap();
    for garbage in [
        "garbage".to_string(),
        String::new(),
        format!("old 03669\n\n{honest_text}"),
        format!("new {DEMO_ENTRIES}\n\n{honest_text}"),
        format!("old {DEMO_ENTRIES}\nnot base64!\n\n{honest_text}"),
        format!("old {DEMO_ENTRIES}\n\nnot a signed note"),
        format!("old {DEMO_ENTRIES}\n{honest_text}"),
    ] {
        let what = format!("garbage {:?}", garbage.chars().take(40).collect::<String>());
        cases.check(post(garbage.into_bytes()), 400, "malformed", &what);
    }
    cases.check(
        post(vec![0xff, 0xfe, b'\n', b'\n']),
        400,
        "malformed",
        "garbage that is not UTF-8",
    );
    cases.finish();

    // Nothing above changed what is served.
    assert_eq!(
        http.checkpoint(),
        *served,
        "the served checkpoint is unchanged"
    );
    assert_eq!(http.get("/api/v1/ledger").ok_json(), *info);
}

/// Proves that a witness running `cosign-checkpoint --url` again when the
/// log has not grown succeeds (as a periodic witness job would), leaving
/// one cosignature line by it on the served checkpoint.
#[test]

fn witness_recosigns_an_unchanged_checkpoint() {
    let demo = Demo::new();
    let wdir = tempfile::tempdir().unwrap();
    let witness = keygen(wdir.path(), "witness-a");
    run([
        "add-witness",
        "--data",
        demo.data.to_str().unwrap(),
        &witness.cosigner_key,
    ])
    .assert_ok();
    let server = Server::start(&demo.data);
    let state = wdir.path().join("w.state");
    let cosign_once = || cosign_over_http(&server.url, &witness.path, &state);
    cosign_once().assert_ok();
    cosign_once().assert_ok();
    let wkey = VerifierKey::parse(&witness.cosigner_key).unwrap();
    let log_key = VerifierKey::parse(&demo.log_key).unwrap();
    let (_, _, cosigs) = open_checkpoint(
        &server.http().checkpoint(),
        &log_key,
        std::slice::from_ref(&wkey),
    )
    .unwrap();
    assert_eq!(cosigs.len(), 1);
}

/// Proves that several cosigners can each cosign the same checkpoint over
/// HTTP one after another: a cosigner sends only its own line, so the lines
/// already collected from others do not make its request a 409.
#[test]
fn several_cosigners_cosign_the_same_checkpoint_over_http() {
    let demo = Demo::new();
    let server = Server::start(&demo.data);
    let states = tempfile::tempdir().unwrap();
    let members = ["weiyuan-wang", "weiyuan-zhao", "weiyuan-chen"];
    for name in members {
        let key = demo.data.join("keys").join(format!("{name}.key"));
        let state = states.path().join(format!("{name}.state"));
        // The demo's members 王 and 赵 confirmed an earlier checkpoint
        // when the demo was made, and these state files are new: resync
        // from the size the server records for each.
        let run = run([
            "cosign-checkpoint",
            "--url",
            &server.url,
            "--key",
            key.to_str().unwrap(),
            "--state",
            state.to_str().unwrap(),
            "--resync",
        ]);
        run.assert_ok();
    }
    let log_key = VerifierKey::parse(&demo.log_key).unwrap();
    let cosigners: Vec<VerifierKey> = members
        .iter()
        .map(|name| {
            let signer = read_signer(&demo.data.join("keys").join(format!("{name}.key")));
            NoteSigner::new(name, KeyAlg::CosignatureV1, signer.signing_key().clone())
                .unwrap()
                .verifier_key()
        })
        .collect();
    let (_, _, cosigs) =
        open_checkpoint(&server.http().checkpoint(), &log_key, &cosigners).unwrap();
    let mut names: Vec<String> = cosigs.into_iter().map(|c| c.name).collect();
    names.sort();
    assert_eq!(names, ["weiyuan-chen", "weiyuan-wang", "weiyuan-zhao"]);
}

/// Proves that no private key material reaches the server's logs (at the
/// most verbose level) or any command's output, in success or in error:
/// neither the key file's text nor the seed inside it.
#[test]
fn keys_never_appear_in_logs_or_output() {
    let demo = Demo::new();
    let log_path = demo.data.with_extension("serve.log");
    let server = Server::start_with(&demo.data, |cmd| {
        cmd.env("RUST_LOG", "trace");
    });
    let url = server.url.clone();
    let company = demo.data.join("keys").join("wuye-li.key");
    let member = demo.data.join("keys").join("weiyuan-wang.key");
    let mut outputs = Vec::new();
    let mut run_and_keep = |args: Vec<&str>| {
        let out = run(args);
        outputs.push(format!("{}{}", out.stdout, out.stderr));
        out
    };
    let proposed = run_and_keep(vec![
        "propose",
        "--yes",
        "--url",
        &url,
        "--key",
        company.to_str().unwrap(),
        "expenditure",
        "--amount",
        "12",
        "--category",
        "cleaning",
        "--payee",
        "洁美保洁",
    ]);
    let id = proposed
        .stdout
        .split_whitespace()
        .skip_while(|w| *w != "proposal")
        .nth(1)
        .unwrap()
        .to_string();
    run_and_keep(vec![
        "sign",
        "--url",
        &url,
        "--key",
        member.to_str().unwrap(),
        "--yes",
        &id,
    ]);
    // Errors too: a key of no role, and a key file with loose permissions.
    let stranger = tempfile::tempdir().unwrap();
    let key_path = stranger.path().join("stranger.key");
    run_and_keep(vec![
        "keygen",
        "--name",
        "stranger",
        "--out",
        key_path.to_str().unwrap(),
    ]);
    run_and_keep(vec![
        "propose",
        "--yes",
        "--url",
        &url,
        "--key",
        key_path.to_str().unwrap(),
        "income",
        "--amount",
        "1",
        "--category",
        "parking",
        "--payer",
        "3-1502",
    ]);
    let loose = stranger.path().join("loose.key");
    std::fs::copy(&company, &loose).unwrap();
    std::fs::set_permissions(&loose, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    run_and_keep(vec![
        "sign",
        "--url",
        &url,
        "--key",
        loose.to_str().unwrap(),
        "--yes",
        &id,
    ]);
    drop(server);
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.contains("TRACE") || logs.contains("DEBUG"),
        "the log is verbose: {}",
        &logs[..logs.len().min(400)]
    );
    let mut secrets = Vec::new();
    for path in [
        company.as_path(),
        member.as_path(),
        key_path.as_path(),
        demo.data.join("log.key").as_path(),
    ] {
        let text = std::fs::read_to_string(path).unwrap();
        let text = text.trim().to_string();
        // PRIVATE+KEY+<name>+<hex8>+<base64>: the base64 part may itself
        // hold '+', so split at the first four only (format.md §11.2, §11.6).
        let seed = text.splitn(5, '+').nth(4).unwrap().to_string();
        assert!(seed.len() >= 40, "the key's base64 part: {seed}");
        secrets.push(text);
        secrets.push(seed);
    }
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a private key is in the server log"
        );
        for out in &outputs {
            assert!(
                !out.contains(secret.as_str()),
                "a private key is in a command's output: {out}"
            );
        }
    }
    assert!(outputs.iter().all(|o| !o.contains("PRIVATE+KEY")));
}

/// Proves that reads are open to any web origin (CORS), and that SIGTERM
/// stops the server cleanly: it exits with status 0, and everything it
/// acknowledged is there when the data directory is opened again.
#[test]
fn cors_is_open_for_reads_and_sigterm_exits_cleanly() {
    let demo = Demo::new();
    let server = Server::start(&demo.data);
    let client = reqwest::blocking::Client::new();
    let response = client
        .get(format!("{}/api/v1/balances", server.url))
        .header("Origin", "https://resident.example")
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("*")
    );
    let company = demo.data.join("keys").join("wuye-li.key");
    run([
        "propose",
        "--yes",
        "--url",
        &server.url,
        "--key",
        company.to_str().unwrap(),
        "income",
        "--amount",
        "88",
        "--category",
        "parking",
        "--payer",
        "3-1502",
    ])
    .assert_ok();
    let status = server.stop();
    assert!(
        status.success(),
        "the server exits 0 on SIGTERM: {status:?}"
    );
    let listed = run([
        "list",
        "--data",
        demo.data.to_str().unwrap(),
        "--payer",
        "3-1502",
        "--json",
        "--limit",
        "1",
    ]);
    listed.assert_ok();
    assert!(
        listed.stdout.contains("\"amount_fen\": 8800"),
        "{}",
        listed.stdout
    );
}

// ---------------------------------------------------------------------------
// 5. Bad input
// ---------------------------------------------------------------------------

/// Proves that every kind of bad proposal gets its documented status and a
/// JSON `{error: {code, message}}`, and changes nothing (the checkpoint is
/// byte-identical, balances, proposals and ledger info equal): a
/// non-canonical body string, malformed JSON, an unknown request field, a
/// body over 128 KiB, a bad signature, an unknown key, signatures only by
/// roles the rule does not name (an income by a committee member, an
/// expenditure by the supervisor), a replayed committed body, an overdraft,
/// a second reversal of the demo's reversed entry and a body for another
/// ledger; and that the base income was fine all along.
#[test]
fn bad_proposals_are_refused_with_json_errors_and_change_nothing() {
    let demo = Demo::new();
    let server = Server::start(&demo.data);
    let http = server.http();
    let before = http.snapshot();

    let li = demo.signing_key("wuye-li");
    let wang = demo.signing_key("weiyuan-wang");
    let zhao = demo.signing_key("weiyuan-zhao");
    let dangwei = demo.signing_key("shequ-dangwei");
    let propose = |request: &Value| http.post_json("/api/v1/proposals", request);
    // Each case is named; a failing one is reported with the others at the
    // end instead of hiding them.
    let cases = Cases::new();
    let check = |r: Resp, status: u16, code: &str, what: &str| {
        cases.check(r, status, code, what);
    };

    // A well-formed, properly signed income, used as the base of variants.
    let good = BODIES.income("api-bad-1", 27525, "3-1502");
    let good_sigs = sign_with(&good, &[("wuye-li", &li)]);

    // Non-canonical body strings: members reordered, white space added.
    let reordered = support::reordered_json(&good.to_value());
    let spaced = serde_json::to_string_pretty(&good.to_value()).unwrap();
    for (what, text) in [("reordered", reordered), ("pretty", spaced)] {
        check(
            propose(&json!({"body": text, "signatures": good_sigs})),
            400,
            "malformed",
            &format!("non-canonical body ({what})"),
        );
    }
    // Malformed JSON, and JSON of the wrong shape.
    for raw in [
        "{\"body\": ",
        "not json",
        "",
        "[]",
        "{\"body\": 5, \"signatures\": []}",
    ] {
        check(
            http.post("/api/v1/proposals", "application/json", raw),
            400,
            "malformed",
            &format!("malformed request {raw:?}"),
        );
    }
    // An unknown field in the request, and in a signature.
    let mut extra = proposal_request(&good, &good_sigs);
    extra["note"] = json!("hi");
    check(propose(&extra), 400, "malformed", "unknown request field");
    let mut extra = proposal_request(&good, &good_sigs);
    extra["signatures"][0]["role"] = json!("company");
    check(propose(&extra), 400, "malformed", "unknown signature field");
    // Over 128 KiB.
    let big = json!({"body": "x".repeat(129 * 1024), "signatures": good_sigs});
    check(propose(&big), 413, "too_large", "body over 128 KiB");
    let big_sigs = json!({"signatures": [{"key": "x".repeat(129 * 1024), "sig": ""}]});
    check(
        http.post_json(
            &format!("/api/v1/proposals/{}/signatures", good.id().to_hex()),
            &big_sigs,
        ),
        413,
        "too_large",
        "co-signature request over 128 KiB",
    );

    // A signature that does not verify (over another body), with a good one.
    let other = BODIES.income("api-bad-2", 27525, "3-1502");
    let bad_sig = sign_with(&other, &[("wuye-li", &li)]);
    check(
        propose(&proposal_request(&good, &bad_sig)),
        401,
        "bad_signature",
        "bad signature",
    );
    let mut mixed = sign_with(&good, &[("wuye-li", &li)]);
    mixed.extend(sign_with(&other, &[("weiyuan-wang", &wang)]));
    check(
        propose(&proposal_request(&good, &mixed)),
        401,
        "bad_signature",
        "one good and one bad signature",
    );
    // A key of no role.
    let outsider = SigningKey::from_bytes(&[3u8; 32]);
    check(
        propose(&proposal_request(
            &good,
            &sign_with(&good, &[("outsider-zhou", &outsider)]),
        )),
        403,
        "unknown_key",
        "unknown key",
    );
    // The retired member's key no longer signs.
    let sun = demo.signing_key("weiyuan-sun");
    check(
        propose(&proposal_request(
            &good,
            &sign_with(&good, &[("weiyuan-sun", &sun)]),
        )),
        403,
        "unknown_key",
        "retired committee key",
    );
    // Valid signatures, but by roles the rule does not name.
    check(
        propose(&proposal_request(
            &good,
            &sign_with(&good, &[("weiyuan-wang", &wang)]),
        )),
        403,
        "unauthorized_signer",
        "income signed only by a committee member",
    );
    let spend = BODIES.expenditure("api-bad-3", 10000);
    check(
        propose(&proposal_request(
            &spend,
            &sign_with(&spend, &[("shequ-dangwei", &dangwei)]),
        )),
        403,
        "unauthorized_signer",
        "expenditure signed only by the supervisor",
    );

    // Replay of a committed demo income, exactly as it sits in the ledger.
    let incomes = http
        .get("/api/v1/entries?kind=income&limit=1&from=100")
        .ok_json();
    let committed = &incomes["entries"][0];
    let leaf = Leaf::decode(
        &BASE64
            .decode(committed["leaf_base64"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    check(
        propose(&proposal_request(&leaf.body, &leaf.signatures)),
        409,
        "replay",
        &format!("replay of entry {}", committed["seq"]),
    );
    // Overdraft: one fen more than the operating fund holds, fully signed.
    let operating = before.balances["balances_fen"]["operating"]
        .as_u64()
        .unwrap();
    let overdraft = BODIES.expenditure("api-bad-4", operating + 1);
    check(
        propose(&proposal_request(
            &overdraft,
            &sign_with(
                &overdraft,
                &[
                    ("weiyuan-wang", &wang),
                    ("weiyuan-zhao", &zhao),
                    ("wuye-li", &li),
                ],
            ),
        )),
        422,
        "overdraft",
        "overdraft",
    );
    // A second reversal of the entry the demo already reversed.
    let reversals = http.get("/api/v1/entries?kind=reversal").ok_json();
    let reversal_entries = reversals["entries"].as_array().unwrap();
    assert_eq!(reversal_entries.len(), 1, "{reversals}");
    let target = reversal_entries[0]["leaf"]["body"]["target_seq"]
        .as_u64()
        .unwrap();
    let again = Body {
        ledger: DEMO_ORIGIN.into(),
        date: date("2027-01-20"),
        nonce: "api-bad-5".into(),
        content: Content::Reversal(Reversal {
            target_seq: target,
            reason: "重复录入 again".into(),
        }),
    };
    check(
        propose(&proposal_request(
            &again,
            &sign_with(
                &again,
                &[
                    ("weiyuan-wang", &wang),
                    ("weiyuan-zhao", &zhao),
                    ("wuye-li", &li),
                ],
            ),
        )),
        409,
        "already_reversed",
        &format!("second reversal of entry {target}"),
    );
    // A body for another ledger.
    let foreign = Bodies {
        ledger: "other.example/ledger",
        ..BODIES
    }
    .income("api-bad-6", 100, "3-1502");
    check(
        propose(&proposal_request(
            &foreign,
            &sign_with(&foreign, &[("wuye-li", &li)]),
        )),
        400,
        "wrong_ledger",
        "body for another ledger",
    );

    let count = cases.finish();
    println!("{count} bad requests refused");

    assert_eq!(http.snapshot(), before, "refused requests change nothing");

    // The base income itself was fine all along.
    let r = propose(&proposal_request(&good, &good_sigs));
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["seq"], json!(DEMO_ENTRIES));
    // An expenditure signed only by a committee member is not refused: the
    // expenditure rule names the committee (with the company), so it waits.
    let pending = BODIES.expenditure("api-bad-7", 10000);
    let r = propose(&proposal_request(
        &pending,
        &sign_with(&pending, &[("weiyuan-wang", &wang)]),
    ));
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["status"], json!("pending"));
}

/// Proves that bad reads and co-signing requests get their documented
/// status and a JSON `{error: {code, message}}`, and change nothing: an
/// oversized, zero or unparsable page, an unknown query parameter, an
/// unknown or negative entry, unknown or malformed proposal ids (read and
/// co-signed), and an unknown route.
#[test]
fn bad_reads_are_refused_with_json_errors_and_change_nothing() {
    let demo = Demo::new();
    let server = Server::start(&demo.data);
    let http = server.http();
    let before = http.snapshot();
    let li = demo.signing_key("wuye-li");
    let good = BODIES.income("api-bad-1", 27525, "3-1502");
    let good_sigs = sign_with(&good, &[("wuye-li", &li)]);
    let cases = Cases::new();
    let check = |r: Resp, status: u16, code: &str, what: &str| {
        cases.check(r, status, code, what);
    };
    check(
        http.get("/api/v1/entries?limit=1000000000"),
        400,
        "malformed",
        "limit=1000000000",
    );
    check(
        http.get("/api/v1/entries?limit=0"),
        400,
        "malformed",
        "limit=0",
    );
    check(
        http.get("/api/v1/entries?limit=99999999999999999999999"),
        400,
        "malformed",
        "limit beyond usize",
    );
    check(
        http.get("/api/v1/entries?bogus=1"),
        400,
        "malformed",
        "unknown query parameter",
    );
    check(
        http.get(&format!("/api/v1/entries/{}", DEMO_ENTRIES)),
        404,
        "not_found",
        "unknown entry (the next seq)",
    );
    check(
        http.get("/api/v1/entries/999999999"),
        404,
        "not_found",
        "unknown entry",
    );
    check(
        http.get("/api/v1/entries/-1"),
        400,
        "malformed",
        "negative entry number",
    );
    let unknown_id = "ab".repeat(32);
    check(
        http.get(&format!("/api/v1/proposals/{unknown_id}")),
        404,
        "not_found",
        "unknown proposal id",
    );
    check(
        http.post_json(
            &format!("/api/v1/proposals/{unknown_id}/signatures"),
            &json!({"signatures": good_sigs}),
        ),
        404,
        "not_found",
        "co-signing an unknown proposal",
    );
    for bad_id in ["xyz", "abcd", &"g".repeat(64)] {
        check(
            http.get(&format!("/api/v1/proposals/{bad_id}")),
            400,
            "malformed",
            &format!("bad proposal id {bad_id:?}"),
        );
    }
    check(
        http.post_json(
            "/api/v1/proposals/xyz/signatures",
            &json!({"signatures": good_sigs}),
        ),
        400,
        "malformed",
        "co-signing a bad proposal id",
    );
    check(
        http.get("/api/v1/no-such-route"),
        404,
        "not_found",
        "unknown route",
    );
    let count = cases.finish();
    println!("{count} bad reads refused");
    assert_eq!(http.snapshot(), before, "refused requests change nothing");
}

// ---------------------------------------------------------------------------
// 6. Concurrent writers
// ---------------------------------------------------------------------------

const WRITERS: usize = 32;
const PER_WRITER: usize = 5;

/// Proves that concurrent writes neither lose nor duplicate entries: 32
/// threads each post 5 fully signed incomes (distinct nonces) at once over
/// separate connections; every acknowledged one (201 with a seq) is in the
/// ledger exactly once at that seq with the same body id, the seqs are
/// exactly the next 160, the ledger grew by exactly the acknowledged count,
/// the operating fund by exactly their sum, and `verify --url` passes.
#[test]
fn concurrent_writers_lose_and_duplicate_nothing() {
    let demo = Demo::new();
    let server = Server::start(&demo.data);
    let http = server.http();
    let before = http.get("/api/v1/ledger").ok_json()["size"]
        .as_u64()
        .unwrap();
    let operating_before = http.get("/api/v1/balances").ok_json()["balances_fen"]["operating"]
        .as_u64()
        .unwrap();
    let keys = [
        ("wuye-li", demo.signing_key("wuye-li")),
        ("wuye-zhou", demo.signing_key("wuye-zhou")),
    ];

    let started = Instant::now();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(WRITERS));
    let handles: Vec<_> = (0..WRITERS)
        .map(|t| {
            let http = Http::new(&server.url);
            let barrier = barrier.clone();
            let (name, key) = (keys[t % 2].0, keys[t % 2].1.clone());
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                let mut refused = Vec::new();
                barrier.wait();
                for i in 0..PER_WRITER {
                    let payer = format!("{}-{}{:02}", t % 10 + 1, i + 1, t / 10 + 1);
                    let amount = 10_000 + (t * PER_WRITER + i) as u64;
                    let body = BODIES.income(&format!("api-conc-{t}-{i}"), amount, &payer);
                    let sigs = sign_with(&body, &[(name, &key)]);
                    let r = http.post_json("/api/v1/proposals", &proposal_request(&body, &sigs));
                    if r.status == 201 {
                        let v = r.json();
                        assert_eq!(v["status"], json!("committed"), "{v}");
                        assert_eq!(v["id"], json!(body.id().to_hex()), "{v}");
                        acked.push((v["seq"].as_u64().unwrap(), body.id().to_hex(), amount));
                    } else {
                        refused.push((r.status, r.text()));
                    }
                }
                (acked, refused)
            })
        })
        .collect();
    let mut acked: Vec<(u64, String, u64)> = Vec::new();
    let mut refused = Vec::new();
    for h in handles {
        let (a, r) = h.join().expect("writer thread");
        acked.extend(a);
        refused.extend(r);
    }
    println!(
        "{WRITERS} writers: {} acknowledged, {} refused, in {:.1} s",
        acked.len(),
        refused.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(refused.is_empty(), "valid incomes refused: {refused:#?}");
    assert_eq!(acked.len(), WRITERS * PER_WRITER);

    // Acknowledged seqs are distinct and exactly the next ones.
    let by_seq: BTreeMap<u64, (String, u64)> = acked
        .iter()
        .map(|(seq, id, amount)| (*seq, (id.clone(), *amount)))
        .collect();
    assert_eq!(by_seq.len(), acked.len(), "two writes got the same seq");
    let expected: Vec<u64> = (before..before + acked.len() as u64).collect();
    assert_eq!(by_seq.keys().copied().collect::<Vec<_>>(), expected);

    // Each is there, once, with its body.
    for (seq, (id, _)) in &by_seq {
        let entry = http.get(&format!("/api/v1/entries/{seq}")).ok_json();
        assert_eq!(&entry["body_id"], &json!(id), "entry {seq}: {entry}");
    }
    let page = http
        .get(&format!("/api/v1/entries?from={before}&limit=500"))
        .ok_json();
    let listed: Vec<String> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["body_id"].as_str().unwrap().to_string())
        .collect();
    let distinct: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(listed.len(), acked.len(), "no extra entries");
    assert_eq!(distinct.len(), listed.len(), "no duplicate bodies");
    let acked_ids: BTreeSet<&String> = acked.iter().map(|(_, id, _)| id).collect();
    assert_eq!(distinct, acked_ids);

    let size = before + acked.len() as u64;
    assert_eq!(http.get("/api/v1/ledger").ok_json()["size"], json!(size));
    let added: u64 = acked.iter().map(|(_, _, amount)| amount).sum();
    assert_eq!(
        http.get("/api/v1/balances").ok_json()["balances_fen"]["operating"],
        json!(operating_before + added)
    );
    assert_eq!(
        http.get("/api/v1/proposals").ok_json(),
        json!({"proposals": [], "next": null})
    );
    assert_verifies(&server.url, &demo.log_key, size);
}

// ---------------------------------------------------------------------------
// 7. The error contract at the edges
// ---------------------------------------------------------------------------

/// Proves that requests refused before any handler runs still get a JSON
/// `{error: {code, message}}`, as docs/api.md promises for every error: a
/// wrong method on a known route is 405 with a JSON body.
#[test]

fn wrong_method_is_a_json_error() {
    let c = support::Community::new();
    let server = Server::start(&c.data);
    let client = reqwest::blocking::Client::new();
    for (method, path) in [
        (reqwest::Method::PUT, "/checkpoint"),
        (reqwest::Method::DELETE, "/api/v1/proposals"),
        (reqwest::Method::GET, "/add-checkpoint"),
        (reqwest::Method::POST, "/api/v1/entries"),
    ] {
        let r = Http::finish(
            client
                .request(method.clone(), format!("{}{path}", server.url))
                .send()
                .unwrap(),
        )
        .expect("a response body");
        assert_eq!(r.status, 405, "{method} {path}: {r:?}");
        let v: Value = serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("{method} {path}: 405 body is not JSON ({e}): {r:?}"));
        assert!(v["error"]["code"].is_string(), "{method} {path}: {v}");
        assert!(v["error"]["message"].is_string(), "{method} {path}: {v}");
    }
}

/// Proves that an add-checkpoint body over 128 KiB is refused 413 with the
/// documented code `too_large` (as proposals are), and changes nothing.
#[test]

fn oversized_add_checkpoint_is_too_large() {
    let c = support::Community::new();
    let server = Server::start(&c.data);
    let http = server.http();
    let before = http.checkpoint();
    let mut body = b"old 0\n\n".to_vec();
    body.extend(std::iter::repeat_n(b'a', 129 * 1024));
    http.post("/add-checkpoint", "text/plain", body)
        .assert_error(413, "too_large");
    assert_eq!(http.checkpoint(), before);
}
