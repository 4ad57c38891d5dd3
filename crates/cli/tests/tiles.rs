//! One definition of a tile's bytes: the tiles a backup holds (written by
//! the core's tile writer, `feeledger_core::tiles::TileEdge`) are the tiles
//! the server serves (assembled from the store by the core's byte
//! functions). The real binary, a demo ledger, the real server on loopback.

mod support;

use feeledger_core::tiles::{tile_width_at, TileKind, TilePath, TILE_LEVEL_MAX};
use std::collections::BTreeSet;
use std::path::Path;
use support::demo::{Demo, DEMO_ENTRIES};
use support::export_tiles;
use support::http::Server;

/// Every file under `dir`, as a path relative to `root` with `/`.
fn files(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(root, &path, out);
        } else {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy();
            out.insert(rel.replace('\\', "/"));
        }
    }
}

/// Proves that a backup of the demo ledger holds exactly the tiles of its
/// size (each full tile, and the partial tile at the right edge of each
/// level and of the bundles) and that each is byte for byte the tile the
/// server serves at the same path, at every level: the backup's writer and
/// the server's route cannot drift apart.
#[test]
fn a_backups_tiles_are_the_tiles_the_server_serves() {
    let demo = Demo::new();
    let scratch = tempfile::tempdir().unwrap();
    let backup = scratch.path().join("backup");
    export_tiles(&demo.data, &backup).assert_ok();

    let mut written = BTreeSet::new();
    files(&backup, &backup.join("tile"), &mut written);
    let mut expected = BTreeSet::new();
    let kinds = std::iter::once(TileKind::Entries)
        .chain((0..=TILE_LEVEL_MAX).map(|level| TileKind::Hashes { level }));
    for kind in kinds {
        for index in 0.. {
            let Some(width) = tile_width_at(kind, index, DEMO_ENTRIES) else {
                break;
            };
            expected.insert(TilePath::new(kind, index, width).unwrap().rel_path());
        }
    }
    // 3,669 entries: 15 bundles, 15 level-0 tiles, one level-1 tile of 14.
    assert_eq!(expected.len(), 31);
    assert!(expected.contains("tile/1/000.p/14"));
    assert_eq!(written, expected, "the backup holds the tiles of its size");

    let server = Server::start(&demo.data);
    let http = server.http();
    for path in &written {
        let served = http.get(&format!("/{path}"));
        assert_eq!(served.status, 200, "{path}: {}", served.text());
        let file = std::fs::read(backup.join(path)).unwrap();
        assert!(!file.is_empty(), "{path}");
        assert!(
            served.body == file,
            "{path}: the served tile differs from the backup's"
        );
    }
}
