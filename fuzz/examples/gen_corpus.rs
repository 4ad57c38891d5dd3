//! Writes the seed corpora under `fuzz/corpus/<target>/`.
//!
//! ```text
//! cd fuzz
//! cargo run --example gen_corpus                     # fixed-key seeds only
//! cargo run --example gen_corpus -- /tmp/demo-data   # plus samples of a demo ledger
//! ```
//!
//! The fixed-key seeds (`fixture-*`, `edge-*`) come from the fixed ledger in
//! `fuzz/src/invariants.rs` and are reproducible byte for byte (Ed25519 is
//! deterministic). The `demo-*` seeds are samples of a real demo ledger
//! (`feeledger demo --no-serve --data DIR`): its keys are random, so they
//! parse but do not verify against the fixed keys. Existing files are
//! overwritten, others are left alone.

use feeledger_core::entry::{Kind, Leaf};
use feeledger_core::merkle::consistency_proof;
use feeledger_core::note::{cosign, Checkpoint, Note, Receipt};
use feeledger_fuzz::invariants::{
    fixture, member_cosigner, receipt_text, witness_signer, COSIGN_TIME_S,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

struct Out {
    root: PathBuf,
    count: BTreeMap<&'static str, usize>,
}

impl Out {
    fn put(&mut self, target: &'static str, name: &str, bytes: impl AsRef<[u8]>) {
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir).expect("corpus dir");
        std::fs::write(dir.join(name), bytes).expect("write corpus file");
        *self.count.entry(target).or_default() += 1;
    }
}

// From golang.org/x/mod/sumdb/note and C2SP signed-note.md / tlog-cosignature.md.
const GO_NOTE: &str = "If you think cryptography is the answer to your problem,\n\
then you don't know what your problem is.\n\
\n\
— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const C2SP_NOTE: &str = "Ognuno sta solo sul cuor della terra\n\
trafitto da un raggio di sole:\n\
\n\
ed è subito sera.\n\
\n\
— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";
const C2SP_COSIGNED: &str = "example.com/behind-the-sofa\n\
20852163\n\
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
\n\
— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";

fn kind_of(leaf: &[u8]) -> &'static str {
    Leaf::decode(leaf)
        .map(|l| l.body.kind().as_str())
        .unwrap_or("invalid")
}

fn fixed(out: &mut Out) {
    let f = fixture();
    let n = f.leaves.len();

    // Leaves and bodies of the fixed ledger, and the next entry of each kind.
    for (i, leaf) in f.leaves.iter().enumerate() {
        let kind = kind_of(leaf);
        out.put("leaf", &format!("fixture-{i:02}-{kind}"), leaf);
        out.put("body", &format!("fixture-{i:02}-{kind}"), &f.bodies[i]);
        out.put("canonical", &format!("fixture-leaf-{i:02}-{kind}"), leaf);
    }
    for (i, leaf) in f.next_leaves.iter().enumerate() {
        let kind = kind_of(leaf);
        out.put("apply", &format!("fixture-next-{i}-{kind}"), leaf);
        out.put("leaf", &format!("fixture-next-{i}-{kind}"), leaf);
        let body = Leaf::decode(leaf).expect("decodes").body;
        out.put(
            "body",
            &format!("fixture-next-{i}-{kind}"),
            body.to_canonical_bytes(),
        );
        // Signed mode of `apply`: a signer mask, then the body. 0x37 is
        // every key in force; 0x01 the company alone; 0x88 a forgery.
        for mask in [0x37u8, 0x01, 0x88] {
            let mut seed = vec![mask];
            seed.extend_from_slice(&body.to_canonical_bytes());
            out.put(
                "apply",
                &format!("fixture-signed-{mask:02x}-{i}-{kind}"),
                seed,
            );
        }
    }
    for (i, body) in f.bodies.iter().enumerate().skip(1) {
        let mut seed = vec![0x37u8];
        seed.extend_from_slice(body);
        out.put("apply", &format!("fixture-signed-37-replay-{i:02}"), seed);
    }
    // Committed leaves are replays at the wrong seq for `apply`.
    for i in [0, 1, n - 1] {
        out.put("apply", &format!("fixture-replay-{i:02}"), &f.leaves[i]);
    }

    // Canonical JSON edge cases.
    let canonical: &[(&str, &str)] = &[
        ("empty-object", "{}"),
        ("empty-array", "[]"),
        ("string", "\"\""),
        ("zero", "0"),
        ("negative", "-9007199254740991"),
        ("max-int", "9007199254740991"),
        ("escapes", r#"{"a":"\"\\/\b\f\n\r\t"}"#),
        ("unicode", "{\"a\":\"é😀\u{e000}\"}"),
        // JCS sorts keys by UTF-16 code units: U+1F600 (D83D..) before U+FF61.
        ("utf16-order", "{\"😀\":1,\"\u{ff61}\":2}"),
        ("utf8-order", "{\"\u{ff61}\":2,\"😀\":1}"),
        ("depth-8", "[[[[[[[[]]]]]]]]"),
        ("depth-9", "[[[[[[[[[]]]]]]]]]"),
        ("float", "1.5"),
        ("exponent", "1e3"),
        ("minus-zero", "-0"),
        ("null", "{\"a\":null}"),
        ("bool", "[true,false]"),
        ("dup-key", "{\"a\":1,\"a\":1}"),
        ("c1-control", "\"\u{85}\""),
        ("trailing-newline", "{}\n"),
        ("nested", r#"{"a":[1,"x",{"b":[]}],"b":{"c":{"d":-1}}}"#),
    ];
    for (name, text) in canonical {
        out.put("canonical", &format!("edge-{name}"), text);
    }

    // Checkpoints (note texts), notes, cosignatures.
    for (i, note) in f.checkpoints.iter().enumerate() {
        let size = i + 1;
        if size == 1 || size == 5 || size == n {
            out.put("checkpoint", &format!("fixture-size-{size}"), &note.text);
        }
        out.put(
            "note",
            &format!("fixture-checkpoint-{size}"),
            note.to_bytes(),
        );
    }
    out.put("note", "fixture-cosigned", f.cosigned.to_bytes());
    out.put("note", "go-example", GO_NOTE);
    out.put("note", "c2sp-example", C2SP_NOTE);
    out.put("note", "c2sp-cosigned", C2SP_COSIGNED);
    let cp = Checkpoint::parse(&f.checkpoints[n - 1].text).expect("checkpoint");
    let with_ext = Checkpoint {
        extensions: vec!["ext one".into(), "— looks like a signature".into()],
        ..cp.clone()
    };
    out.put("checkpoint", "edge-extensions", with_ext.to_text());
    out.put(
        "checkpoint",
        "edge-size-zero",
        "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
    );
    out.put(
        "checkpoint",
        "edge-size-max",
        "o\n18446744073709551615\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    );
    out.put(
        "checkpoint",
        "c2sp-example",
        Note::parse(C2SP_COSIGNED.as_bytes()).expect("note").text,
    );

    let latest = &f.checkpoints[n - 1];
    let mut witness_only = latest.clone();
    witness_only
        .add_signature(cosign(&latest.text, COSIGN_TIME_S, &witness_signer()).expect("cosign"))
        .expect("add");
    let mut member_only = latest.clone();
    member_only
        .add_signature(cosign(&latest.text, 0, &member_cosigner()).expect("cosign"))
        .expect("add");
    let mut max_time = latest.clone();
    max_time
        .add_signature(cosign(&latest.text, i64::MAX as u64, &witness_signer()).expect("cosign"))
        .expect("add");
    let mut cosigned_first = Note {
        text: latest.text.clone(),
        signatures: vec![],
    };
    cosigned_first
        .signatures
        .push(cosign(&latest.text, 1, &member_cosigner()).expect("cosign"));
    cosigned_first.signatures.extend(latest.signatures.clone());
    out.put("cosignature", "fixture-both", f.cosigned.to_bytes());
    out.put("cosignature", "fixture-witness", witness_only.to_bytes());
    out.put(
        "cosignature",
        "fixture-member-time-0",
        member_only.to_bytes(),
    );
    out.put(
        "cosignature",
        "fixture-witness-time-max",
        max_time.to_bytes(),
    );
    out.put(
        "cosignature",
        "fixture-cosignature-first",
        cosigned_first.to_bytes(),
    );
    out.put("cosignature", "fixture-log-only", latest.to_bytes());
    out.put("cosignature", "c2sp-cosigned", C2SP_COSIGNED);
    for (i, note) in f.checkpoints.iter().enumerate().take(3) {
        let mut c = note.clone();
        c.add_signature(cosign(&note.text, COSIGN_TIME_S, &witness_signer()).expect("cosign"))
            .expect("add");
        out.put(
            "cosignature",
            &format!("fixture-size-{}", i + 1),
            c.to_bytes(),
        );
    }

    // Receipts: every leaf against the cosigned checkpoint, a few against
    // smaller checkpoints.
    for i in 0..n {
        out.put(
            "receipt",
            &format!("fixture-{i:02}-of-{n}"),
            receipt_text(f, i, &f.cosigned),
        );
    }
    for (i, size) in [(0, 1), (2, 3), (4, 5), (6, 7)] {
        out.put(
            "receipt",
            &format!("fixture-{i:02}-of-{size}"),
            receipt_text(f, i, &f.checkpoints[size - 1]),
        );
    }

    // Tile paths: valid, refused, and binary seeds for the built-path check.
    let tiles: &[(&str, &[u8])] = &[
        ("level0", b"0/000"),
        ("spec-index", b"0/x001/x234/067"),
        ("entries-partial", b"entries/000.p/17"),
        ("partial-255", b"1/255.p/255"),
        ("level5-large", b"5/x999/x999/x999/x999/x999/999"),
        ("entries-large", b"entries/x001/x000/000"),
        ("bad-leading-x", b"0/x000/001"),
        ("bad-width-0", b"0/000.p/0"),
        ("bad-width-256", b"0/000.p/256"),
        ("bad-traversal", b"0/../000"),
        ("bad-level-6", b"6/000"),
        ("bad-seven-elements", b"0/x001/x002/x003/x004/x005/x006/007"),
        (
            "built-level2-w17",
            b"\x02\x11\x40\xe2\x01\x00\x00\x00\x00\x00",
        ),
        (
            "built-entries-full",
            b"\x06\x00\xff\xff\xff\xff\x00\x00\x00\x00",
        ),
        (
            "built-huge-index",
            b"\x01\x01\xff\xff\xff\xff\xff\xff\xff\xff",
        ),
        ("built-10e18", b"\x00\x00\x00\x00\x64\xa7\xb3\xb6\xe0\x0d"),
    ];
    for (name, bytes) in tiles {
        out.put("tile_path", name, bytes);
    }

    // add-checkpoint bodies, against the store of the fixed ledger.
    // Built by the core, as `feeledger cosign --url` builds them.
    let body = |old: u64, proof: &[feeledger_core::hash::Hash], note: &Note| {
        feeledger_core::note::AddCheckpointRequest {
            old_size: old,
            proof: proof.to_vec(),
            checkpoint: note.to_bytes(),
        }
        .to_bytes()
    };
    let at_size = |size: usize, signer: &feeledger_core::note::NoteSigner| {
        let mut note = f.checkpoints[size - 1].clone();
        note.add_signature(cosign(&note.text, COSIGN_TIME_S, signer).expect("cosign"))
            .expect("add");
        note
    };
    let w = witness_signer();
    let m = member_cosigner();
    out.put(
        "add_checkpoint",
        "fixture-witness-old-0",
        body(0, &[], &at_size(n, &w)),
    );
    out.put(
        "add_checkpoint",
        "fixture-member-old-0",
        body(0, &[], &at_size(5, &m)),
    );
    out.put(
        "add_checkpoint",
        "fixture-both-old-0",
        body(0, &[], &f.cosigned),
    );
    out.put("add_checkpoint", "fixture-log-only", body(0, &[], latest));
    for (old, new) in [(5, n), (1, 2), (3, 8)] {
        let proof = consistency_proof(old as u64, new as u64, &f.tree).expect("proof");
        out.put(
            "add_checkpoint",
            &format!("fixture-member-{old}-to-{new}"),
            body(old as u64, &proof, &at_size(new, &m)),
        );
        out.put(
            "add_checkpoint",
            &format!("fixture-witness-{old}-to-{new}"),
            body(old as u64, &proof, &at_size(new, &w)),
        );
    }
    out.put(
        "add_checkpoint",
        "c2sp-foreign-origin",
        format!("old 0\n\n{C2SP_COSIGNED}"),
    );

    // The same bodies for the parser alone (`witness_request`): a few
    // valid ones and the malformed edges.
    let proof = consistency_proof(1, 2, &f.tree).expect("proof");
    out.put(
        "witness_request",
        "fixture-member-1-to-2",
        body(1, &proof, &at_size(2, &m)),
    );
    out.put(
        "witness_request",
        "fixture-member-old-0",
        body(0, &[], &at_size(5, &m)),
    );
    out.put(
        "witness_request",
        "c2sp-foreign-origin",
        format!("old 0\n\n{C2SP_COSIGNED}"),
    );
    out.put("witness_request", "edge-no-blank-line", "old 0\n");
    out.put("witness_request", "edge-bad-old", "old 01\n\nx\n");
    out.put(
        "witness_request",
        "edge-short-proof-hash",
        "old 2\nAQ==\n\nx\n",
    );
    out.put("witness_request", "edge-empty-note", "old 0\n\n");

    // Proposals for the next entry of each kind: with every signature (the
    // store commits it), with the first one only (pending), forged.
    for (i, leaf) in f.next_leaves.iter().enumerate() {
        let leaf = Leaf::decode(leaf).expect("decodes");
        let kind = leaf.body.kind();
        let body = String::from_utf8(leaf.body.to_canonical_bytes()).expect("UTF-8");
        let request = |signatures: &[feeledger_core::entry::EntrySignature]| {
            serde_json::json!({"body": body, "signatures": signatures}).to_string()
        };
        out.put(
            "proposal",
            &format!("fixture-{i}-{kind}-all"),
            request(&leaf.signatures),
        );
        out.put(
            "proposal",
            &format!("fixture-{i}-{kind}-first"),
            request(&leaf.signatures[..1]),
        );
        let mut forged = leaf.signatures[..1].to_vec();
        forged[0].sig = leaf.signatures.last().expect("a signature").sig.clone();
        out.put(
            "proposal",
            &format!("fixture-{i}-{kind}-forged"),
            request(&forged),
        );
    }
    for (name, text) in [
        ("edge-empty", "{}"),
        ("edge-no-signatures", r#"{"body":"{}","signatures":[]}"#),
        (
            "edge-unknown-field",
            r#"{"body":"{}","signatures":[],"x":1}"#,
        ),
        ("edge-not-json", "body=1"),
    ] {
        out.put("proposal", name, text);
    }
    out.put("add_checkpoint", "edge-no-blank-line", "old 0\n");
    out.put("add_checkpoint", "edge-bad-old", "old 01\n\nx\n");
}

/// Samples a demo ledger: leaves and bodies of every kind (the first few of
/// each), its latest checkpoint, and receipts.
fn demo(out: &mut Out, dir: &Path) {
    let store = feeledger_store::Store::open(dir).expect("open the demo store");
    let size = store.size();
    let mut per_kind: BTreeMap<Kind, usize> = BTreeMap::new();
    let mut receipts = 0;
    let mut seen_approval: Vec<Kind> = Vec::new();
    let checkpoint = store.latest_checkpoint().expect("checkpoint");
    let note = Note::parse(&checkpoint).expect("note");
    for seq in 0..size {
        let bytes = store.leaf_bytes(seq).expect("read").expect("leaf");
        let leaf = Leaf::decode(&bytes).expect("demo leaf decodes");
        let kind = leaf.body.kind();
        let approved = leaf.body.to_value().get("owners_approval").is_some();
        let taken = per_kind.entry(kind).or_default();
        let limit = if kind == Kind::Income { 3 } else { 2 };
        let first_approved = approved && !seen_approval.contains(&kind);
        if *taken >= limit && !first_approved {
            continue;
        }
        *taken += 1;
        if approved {
            seen_approval.push(kind);
        }
        let name = format!(
            "demo-{seq:05}-{kind}{}",
            if approved { "-approved" } else { "" }
        );
        out.put("leaf", &name, &bytes);
        out.put("body", &name, leaf.body.to_canonical_bytes());
        if kind != Kind::Income && receipts < 4 {
            receipts += 1;
            let text = Receipt {
                leaf: bytes.clone(),
                index: seq,
                proof: store.inclusion_proof(seq, size).expect("proof"),
                checkpoint: note.clone(),
            }
            .to_text();
            out.put("receipt", &name, text);
        }
    }
    out.put("note", "demo-latest-checkpoint", &checkpoint);
    out.put("checkpoint", "demo-latest", &note.text);
    out.put("cosignature", "demo-latest-checkpoint", &checkpoint);
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut out = Out {
        root,
        count: BTreeMap::new(),
    };
    fixed(&mut out);
    if let Some(dir) = std::env::args().nth(1) {
        demo(&mut out, Path::new(&dir));
    }
    for (target, count) in &out.count {
        println!("{target}: {count} files written");
    }
}
