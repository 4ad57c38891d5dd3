//! The mirror against an in-memory object store (object_store's own
//! `InMemory`): a pass writes exactly the objects of a tiles backup of the
//! same store, byte for byte; a later pass writes only the tiles between
//! the two sizes and the new checkpoint; a bucket holding another log, or
//! more than the store, is refused and left as it was. The tests against
//! a real S3 server, with an outage, are crates/cli/tests/mirror.rs.

use feeledger_core::fixtures;
use feeledger_core::note::NoteSigner;
use feeledger_mirror::{Bucket, Mirror, MirrorError, CHECKPOINT_OBJECT};
use feeledger_store::Store;
use futures::TryStreamExt as _;
use object_store::memory::InMemory;
use object_store::ObjectStore;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

const ORIGIN: &str = "mirror.example/ledger";

/// A store of `n` entries (a genesis and incomes) in `dir`.
fn store_of(dir: &Path, n: usize, signer: &NoteSigner) -> Store {
    let mut entries = vec![fixtures::two_role_genesis(ORIGIN, "镜像小区")];
    for i in 1..n {
        entries.push(fixtures::property_fee(ORIGIN, &format!("fee-{i}")));
    }
    let mut leaves = fixtures::chain(entries);
    let genesis = leaves.remove(0);
    let store = Store::create(dir, &genesis, signer).unwrap();
    for batch in leaves.chunks(1000) {
        store.append_leaves(batch.to_vec(), None, signer).unwrap();
    }
    store
}

/// Every object under `prefix/`, by its name below the prefix.
async fn objects(memory: &InMemory, prefix: &str) -> BTreeMap<String, Vec<u8>> {
    let listed: Vec<_> = memory
        .list(Some(&object_store::path::Path::from(prefix)))
        .try_collect()
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for meta in listed {
        let bytes = memory
            .get(&meta.location)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let name = meta.location.as_ref()[prefix.len() + 1..].to_string();
        out.insert(name, bytes.to_vec());
    }
    out
}

/// Every file under `dir`, by its path below it.
fn files(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(root, &path, out);
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(rel, std::fs::read(&path).unwrap());
        }
    }
}

/// Proves that one pass from an empty bucket writes the objects of a tiles
/// backup of the same store, byte for byte (tiles, bundles, checkpoint,
/// log.vkey), and that a later pass writes only the tiles the two sizes
/// differ by, then the new checkpoint, leaving a bucket that again equals
/// a backup at the new size (plus the superseded partial tiles).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_writes_a_backups_objects_and_the_next_only_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let signer = fixtures::log_signer(ORIGIN);
    let store = Arc::new(store_of(&dir.path().join("ledger"), 300, &signer));
    let memory = Arc::new(InMemory::new());
    let bucket = Bucket::with_store(memory.clone(), "memory://bucket", "c/mirror");
    let mut mirror = Mirror::new(store.clone(), bucket.clone());

    let pass = mirror.catch_up().await.unwrap();
    assert_eq!(pass.size, 300);
    assert!(pass.checkpoint_written);
    // 300 entries: bundle 0 and 1.p/44, level-0 tiles 0 and 1.p/44, level 1 .p/1.
    assert_eq!(pass.tiles, 5);
    let backup = dir.path().join("backup");
    feeledger_backup::export_tiles(&store, &backup).unwrap();
    let mut expected = BTreeMap::new();
    files(&backup, &backup, &mut expected);
    assert_eq!(objects(&memory, "c/mirror").await, expected);

    // Nothing new: nothing written.
    let again = mirror.catch_up().await.unwrap();
    assert_eq!((again.tiles, again.checkpoint_written), (0, false));

    // 300 more entries, in two commits.
    let mut more: Vec<_> = vec![fixtures::two_role_genesis(ORIGIN, "镜像小区")];
    for i in 1..600 {
        more.push(fixtures::property_fee(ORIGIN, &format!("fee-{i}")));
    }
    let leaves = fixtures::chain(more);
    store
        .append_leaves(leaves[300..450].to_vec(), None, &signer)
        .unwrap();
    store
        .append_leaves(leaves[450..].to_vec(), None, &signer)
        .unwrap();
    let pass = mirror.catch_up().await.unwrap();
    assert_eq!(pass.size, 600);
    // bundles 1 (now full), 2.p/88; level 0 tiles 1, 2.p/88; level 1 .p/2.
    assert_eq!(pass.tiles, 5);
    let backup = dir.path().join("backup-600");
    feeledger_backup::export_tiles(&store, &backup).unwrap();
    let mut expected = BTreeMap::new();
    files(&backup, &backup, &mut expected);
    let mut held = objects(&memory, "c/mirror").await;
    // The partial tiles of size 300 stay; every other object is the backup's.
    for stale in ["tile/entries/001.p/44", "tile/0/001.p/44", "tile/1/000.p/1"] {
        assert!(
            held.remove(stale).is_some(),
            "{stale} was written at size 300"
        );
    }
    assert_eq!(held, expected);

    // A new mirror (a restarted server) starts from the bucket's checkpoint
    // and writes nothing.
    let mut restarted = Mirror::new(store.clone(), bucket);
    let pass = restarted.catch_up().await.unwrap();
    assert_eq!(
        (pass.size, pass.tiles, pass.checkpoint_written),
        (600, 0, false)
    );
}

/// Proves that a bucket whose checkpoint is another log's, or ahead of the
/// store, is refused with a fatal error and left unchanged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bucket_of_another_log_or_ahead_of_the_store_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let signer = fixtures::log_signer(ORIGIN);
    let store = Arc::new(store_of(&dir.path().join("big"), 20, &signer));
    let memory = Arc::new(InMemory::new());
    let bucket = Bucket::with_store(memory.clone(), "memory://bucket", "p");
    Mirror::new(store.clone(), bucket.clone())
        .catch_up()
        .await
        .unwrap();
    let before = objects(&memory, "p").await;

    // The same log key, but a store of fewer entries: the bucket is ahead.
    let small = Arc::new(store_of(&dir.path().join("small"), 5, &signer));
    let err = Mirror::new(small, bucket.clone())
        .catch_up()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            MirrorError::BucketAhead {
                bucket_size: 20,
                store_size: 5,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_fatal());

    // Another ledger's log key: another log.
    const OTHER: &str = "other.example/ledger";
    let other_signer = fixtures::log_signer(OTHER);
    let genesis = fixtures::chain(vec![fixtures::two_role_genesis(OTHER, "别的小区")]).remove(0);
    let other =
        Arc::new(Store::create(&dir.path().join("other"), &genesis, &other_signer).unwrap());
    let err = Mirror::new(other, bucket).catch_up().await.unwrap_err();
    assert!(matches!(err, MirrorError::AnotherLog { .. }), "{err}");
    assert!(err.to_string().contains("not overwriting it"), "{err}");
    assert!(err.is_fatal());
    assert_eq!(
        objects(&memory, "p").await,
        before,
        "nothing was overwritten"
    );
    assert!(before.contains_key(CHECKPOINT_OBJECT));
}

/// Proves that tiles and bundles are created, never overwritten: a
/// different object planted at a tile's path stops the mirror with a fatal
/// error naming that path, and the planted bytes stay; the same bytes
/// already there (a pass that finished its tiles but not its checkpoint)
/// are taken as written, and the pass completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_different_tile_in_the_bucket_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let signer = fixtures::log_signer(ORIGIN);
    let store = Arc::new(store_of(&dir.path().join("ledger"), 300, &signer));
    let memory = Arc::new(InMemory::new());
    let bucket = Bucket::with_store(memory.clone(), "memory://bucket", "p");
    let planted = object_store::path::Path::from("p/tile/0/000");
    memory
        .put(&planted, b"not this log's tile".to_vec().into())
        .await
        .unwrap();

    let err = Mirror::new(store.clone(), bucket.clone())
        .catch_up()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MirrorError::Overwrite { rel, what: "hash tile", .. } if rel == "tile/0/000"),
        "{err}"
    );
    assert!(err.is_fatal());
    let message = err.to_string();
    assert!(
        message.contains("memory://bucket/p/tile/0/000")
            && message.contains("already holds a different hash tile")
            && message.contains("not overwriting it"),
        "{message}"
    );
    let held = objects(&memory, "p").await;
    assert_eq!(held["tile/0/000"], b"not this log's tile");
    assert!(
        !held.contains_key(CHECKPOINT_OBJECT),
        "no checkpoint is written over a refused tile"
    );

    // The log's own tiles, already there without their checkpoint: the
    // pass takes them as written and finishes.
    memory.delete(&planted).await.unwrap();
    Mirror::new(store.clone(), bucket.clone())
        .catch_up()
        .await
        .unwrap();
    let complete = objects(&memory, "p").await;
    memory
        .delete(&object_store::path::Path::from("p/checkpoint"))
        .await
        .unwrap();
    let pass = Mirror::new(store, bucket).catch_up().await.unwrap();
    assert_eq!(
        (pass.size, pass.tiles, pass.checkpoint_written),
        (300, 5, true)
    );
    assert_eq!(objects(&memory, "p").await, complete);
}
