//! Reading a log from C2SP tlog-tiles: a backup directory made with
//! `feeledger export --format tiles`, a static mirror of one, or a
//! feeledger server's `/tile/...` routes.
//!
//! [`TileReader`] reads bundle by bundle, checking every entry's hash and
//! every node it completes against the hash tiles of every level, with one
//! tile per level and one bundle in memory. `verify --tiles`, `verify
//! --url` (the served tiles) and `restore` all read through it.

use crate::http::{HttpError, Server};
use feeledger_core::hash::{leaf_hash, Hash};
use feeledger_core::merkle::{self, Frontier, NodeId, TILE_HEIGHT, TILE_WIDTH_MAX};
use feeledger_core::note::{KeyError, VerifierKey};
use feeledger_core::tiles::{split_entry_bundle_prefix, BundleError, TileKind, TilePath};
use std::path::Path;

/// An entry whose bytes do not hash to the level-0 hash tile's record
/// (boxed in [`TileError`], which it would otherwise double in size).
#[derive(Debug, thiserror::Error)]
#[error("entry {seq} in {bundle} does not match {path}: its bytes hash to {hash}, the hash tile records {stored}; {source_name} is damaged")]
pub struct EntryMismatch {
    pub seq: u64,
    /// The bundle the entry was read from.
    pub bundle: String,
    /// The hash tile.
    pub path: String,
    pub hash: Hash,
    pub stored: Hash,
    pub source_name: String,
}

/// Why tiles could not be read, or what is wrong with them.
#[derive(Debug, thiserror::Error)]
pub enum TileError {
    /// A file of a backup directory could not be read.
    #[error("cannot read {rel} of {source_name}: {error}")]
    Read {
        rel: String,
        source_name: String,
        error: std::io::Error,
    },
    /// A file of a mirror or server could not be fetched.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// A file of another [`TileFiles`] source (an object storage bucket)
    /// could not be read.
    #[error("cannot read {rel} of {source_name}: {error}")]
    Fetch {
        rel: String,
        source_name: String,
        error: String,
    },
    /// The `witnesses` file is not text.
    #[error("{} of {source_name} is not UTF-8", WITNESSES_FILE)]
    WitnessesNotUtf8 { source_name: String },
    /// A line of the `witnesses` file is not a verifier key.
    #[error(
        "{} of {source_name} holds a bad key {line:?}: {error}",
        WITNESSES_FILE
    )]
    BadWitness {
        source_name: String,
        line: String,
        error: KeyError,
    },
    /// A tile the tree needs is not there (nor a full one standing in for
    /// a partial one).
    #[error("{path} is missing from {source_name} ({what})")]
    Missing {
        path: String,
        source_name: String,
        what: String,
    },
    /// An entry bundle ends before its entry `seq`, the `position`-th of
    /// its `width`.
    #[error("{path} is truncated: it ends before entry {seq} ({position} of its {width} entries)")]
    BundleEndsEarly {
        path: String,
        seq: u64,
        position: u64,
        width: u64,
    },
    /// An entry's length runs past the end of its bundle.
    #[error("{path} is truncated: entry {seq} runs past the end of the file")]
    EntryPastEnd { path: String, seq: u64 },
    /// An exact bundle holds bytes after its last entry.
    #[error(
        "{path} has {extra_bytes} bytes after its {width} entries (the last is entry {last_seq})"
    )]
    TrailingBytes {
        path: String,
        extra_bytes: usize,
        width: u64,
        last_seq: u64,
    },
    /// A node beyond the tree of the checkpoint's size was asked for.
    #[error("node {id:?} is beyond the checkpoint")]
    BeyondCheckpoint { id: NodeId },
    /// A hash tile of the wrong length.
    #[error("{path} is truncated: {len} bytes, a tile of {expected} hashes has {}", 32 * expected)]
    HashTileTruncated {
        path: String,
        len: usize,
        expected: u64,
    },
    /// An entry whose bytes do not hash to the level-0 hash tile's record.
    #[error(transparent)]
    EntryMismatch(Box<EntryMismatch>),
    /// A node recomputed from the entries differs from its hash tile's.
    #[error("{path} differs at tree level {level} node {index} (the hash of {covered}): {source_name} is damaged")]
    NodeMismatch {
        path: String,
        level: u8,
        index: u64,
        covered: String,
        source_name: String,
    },
}

/// The backup's checkpoint note.
pub const CHECKPOINT_FILE: &str = "checkpoint";
/// The log's verifier key, as text.
pub const VKEY_FILE: &str = "log.vkey";
/// Registered witnesses' verifier keys, one a line.
pub const WITNESSES_FILE: &str = "witnesses";

/// Tile levels a backup can hold: tree levels 0, 8, ..., 40.
pub const TILE_LEVELS: usize = feeledger_core::tiles::TILE_LEVEL_MAX as usize + 1;

/// `tile/...` path of a tile of `width` (a full tile has no `.p/W`).
///
/// # Panics
/// If `width` is 0 or above 256, or `kind` is a level beyond the tile
/// levels: callers pass widths from the tree's size.
pub fn tile_path(kind: TileKind, index: u64, width: u64) -> String {
    TilePath::new(kind, index, width)
        .expect("a tile width from 1 to 256 and a tile level in range")
        .rel_path()
}

/// The entries a node covers, for messages: "entries 0..=255".
pub fn covered(id: NodeId) -> String {
    let first = id.first_leaf().unwrap_or(u64::MAX);
    let last = id.end_leaf().map_or(u64::MAX, |e| e - 1);
    if first == last {
        format!("entry {first}")
    } else {
        format!("entries {first}..={last}")
    }
}

/// Where tiles are read from: a backup directory, or a URL (a feeledger
/// server, or a static mirror of a backup), or any other store of files
/// laid out as a backup is (an object storage bucket: `feeledger-mirror`).
/// `verify --tiles`, `verify --url` and `restore` read them the same way,
/// as C2SP tlog-tiles clients do.
#[derive(Clone, Copy)]
pub enum TileSource<'a> {
    Dir(&'a Path),
    Http(&'a Server),
    Files(&'a dyn TileFiles),
}

/// Files laid out as a tiles backup is (`checkpoint`, `tile/...`,
/// `witnesses`), read from somewhere this crate does not know: the
/// mirror's object storage bucket implements it, so that `restore` and
/// the audit read a bucket through the same [`TileReader`].
pub trait TileFiles: Sync {
    /// The file at `rel` (`checkpoint`, `tile/0/000`, ...), or `None` if
    /// there is none.
    ///
    /// # Errors
    /// [`TileError::Fetch`] (or another [`TileError`]) if it cannot be read.
    fn read(&self, rel: &str) -> Result<Option<Vec<u8>>, TileError>;

    /// For messages: where the files are, e.g. `s3://bucket/prefix`.
    fn name(&self) -> String;
}

impl TileSource<'_> {
    /// The file at `rel` (`checkpoint`, `tile/0/000`, ...), if there is one.
    ///
    /// # Errors
    /// [`TileError`]: the file or URL cannot be read.
    pub fn read(&self, rel: &str) -> Result<Option<Vec<u8>>, TileError> {
        match self {
            TileSource::Dir(dir) => match std::fs::read(dir.join(rel)) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(TileError::Read {
                    rel: rel.to_string(),
                    source_name: self.name(),
                    error,
                }),
            },
            TileSource::Http(server) => Ok(server.get_optional_bytes(&format!("/{rel}"))?),
            TileSource::Files(files) => files.read(rel),
        }
    }

    /// For messages: "the backup" or the URL.
    pub fn name(&self) -> String {
        match self {
            TileSource::Dir(_) => "the backup".to_string(),
            TileSource::Http(server) => server.base_url().to_string(),
            TileSource::Files(files) => files.name(),
        }
    }

    /// The witness keys its `witnesses` file lists (none if it has none).
    ///
    /// # Errors
    /// [`TileError`]: the file cannot be read, or a key does not parse.
    pub fn witnesses(&self) -> Result<Vec<VerifierKey>, TileError> {
        let Some(bytes) = self.read(WITNESSES_FILE)? else {
            return Ok(Vec::new());
        };
        let text = String::from_utf8(bytes).map_err(|_| TileError::WitnessesNotUtf8 {
            source_name: self.name(),
        })?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                VerifierKey::parse(line.trim()).map_err(|error| TileError::BadWitness {
                    source_name: self.name(),
                    line: line.to_string(),
                    error,
                })
            })
            .collect()
    }
}

/// One tile file.
struct TileFile {
    /// `tile/...`, for messages.
    path: String,
    bytes: Vec<u8>,
    /// Whether it is the exact tile asked for (else a full tile standing in
    /// for a partial one, as C2SP allows).
    exact: bool,
}

/// Reads tile `(kind, index)` of `width`; a missing partial tile may be
/// served by the full one.
fn read_tile(
    from: TileSource<'_>,
    kind: TileKind,
    index: u64,
    width: u64,
    what: &str,
) -> Result<TileFile, TileError> {
    let exact = tile_path(kind, index, width);
    if let Some(bytes) = from.read(&exact)? {
        return Ok(TileFile {
            path: exact,
            bytes,
            exact: true,
        });
    }
    if width < TILE_WIDTH_MAX {
        let full = tile_path(kind, index, TILE_WIDTH_MAX);
        if let Some(bytes) = from.read(&full)? {
            return Ok(TileFile {
                path: full,
                bytes,
                exact: false,
            });
        }
    }
    Err(TileError::Missing {
        path: exact,
        source_name: from.name(),
        what: what.to_string(),
    })
}

/// The `width` leaves of an entry bundle, split by the core's
/// [`split_entry_bundle_prefix`]; bytes after them are refused only when
/// the file was served at the width asked for (`exact`).
fn parse_bundle(file: &TileFile, first_seq: u64, width: u64) -> Result<Vec<Vec<u8>>, TileError> {
    let (entries, rest) = split_entry_bundle_prefix(&file.bytes, width).map_err(|e| match e {
        BundleError::EndsEarly { position, width } => TileError::BundleEndsEarly {
            path: file.path.clone(),
            seq: first_seq + position,
            position,
            width,
        },
        BundleError::EntryPastEnd { position } => TileError::EntryPastEnd {
            path: file.path.clone(),
            seq: first_seq + position,
        },
        BundleError::TrailingBytes { .. } => {
            unreachable!("a prefix split leaves the bytes after it to its caller")
        }
    })?;
    if file.exact && !rest.is_empty() {
        return Err(TileError::TrailingBytes {
            path: file.path.clone(),
            extra_bytes: rest.len(),
            width,
            last_seq: first_seq + width - 1,
        });
    }
    Ok(entries.into_iter().map(<[u8]>::to_vec).collect())
}

/// The hash tiles, read as the recomputed nodes reach them (one kept per
/// tile level), and compared hash by hash.
struct HashTiles<'a> {
    from: TileSource<'a>,
    size: u64,
    current: Vec<Option<(u64, TileFile)>>,
}

impl HashTiles<'_> {
    /// Compares node `id`, recomputed from the entries, with the tile's.
    fn check(&mut self, id: NodeId, hash: Hash, bundle: &str) -> Result<(), TileError> {
        let level = id.level / TILE_HEIGHT;
        let slot = usize::from(level);
        let index = id.index / TILE_WIDTH_MAX;
        let position = (id.index % TILE_WIDTH_MAX) as usize;
        if !matches!(&self.current[slot], Some((i, _)) if *i == index) {
            let width = merkle::tile_width(level, index, self.size)
                .ok_or(TileError::BeyondCheckpoint { id })?;
            let what = format!(
                "hashes of tree level {} nodes {}..={}",
                id.level,
                index * TILE_WIDTH_MAX,
                index * TILE_WIDTH_MAX + width - 1
            );
            let file = read_tile(self.from, TileKind::Hashes { level }, index, width, &what)?;
            let expected = if file.exact { width } else { TILE_WIDTH_MAX };
            if file.bytes.len() as u64 != 32 * expected {
                return Err(TileError::HashTileTruncated {
                    path: file.path,
                    len: file.bytes.len(),
                    expected,
                });
            }
            self.current[slot] = Some((index, file));
        }
        let (_, file) = self.current[slot].as_ref().expect("loaded above");
        let stored = &file.bytes[32 * position..32 * position + 32];
        if stored != hash.0 {
            let stored = Hash::from_slice(stored).expect("32 bytes");
            let source = self.from.name();
            if id.level == 0 {
                return Err(TileError::EntryMismatch(Box::new(EntryMismatch {
                    seq: id.index,
                    bundle: bundle.to_string(),
                    path: file.path.clone(),
                    hash,
                    stored,
                    source_name: source,
                })));
            }
            return Err(TileError::NodeMismatch {
                path: file.path.clone(),
                level: id.level,
                index: id.index,
                covered: covered(id),
                source_name: source,
            });
        }
        Ok(())
    }
}

/// Reads a tree of `size` entries from tiles, bundle by bundle, checking
/// every entry's hash and every node it completes against the hash tiles
/// of every level (partial tiles included), as a C2SP client would read
/// them. Bounded memory: one tile per level and one bundle.
pub struct TileReader<'a> {
    source: TileSource<'a>,
    size: u64,
    tiles: HashTiles<'a>,
    frontier: Frontier,
}

impl<'a> TileReader<'a> {
    pub fn new(source: TileSource<'a>, size: u64) -> TileReader<'a> {
        TileReader {
            source,
            size,
            tiles: HashTiles {
                from: source,
                size,
                current: (0..TILE_LEVELS).map(|_| None).collect(),
            },
            frontier: Frontier::new(),
        }
    }

    /// Entry bundles in a tree of `size` entries.
    pub fn bundles(size: u64) -> u64 {
        size.div_ceil(TILE_WIDTH_MAX)
    }

    /// Bundle `index`, read and checked: (its path, its first seq, its
    /// leaves). Bundles must be read in order.
    ///
    /// # Panics
    ///
    /// If bundles are not read in order, from 0.
    ///
    /// # Errors
    ///
    /// [`TileError`]: a tile cannot be read, or does not hold the entries
    /// and nodes the tree needs.
    pub fn bundle(&mut self, index: u64) -> Result<(String, u64, Vec<Vec<u8>>), TileError> {
        assert_eq!(
            self.frontier.size(),
            index * TILE_WIDTH_MAX,
            "bundles are read in order"
        );
        let first = index * TILE_WIDTH_MAX;
        let width = (self.size - first).min(TILE_WIDTH_MAX);
        let what = format!("entries {first}..={}", first + width - 1);
        let file = read_tile(self.source, TileKind::Entries, index, width, &what)?;
        let leaves = parse_bundle(&file, first, width)?;
        for leaf in &leaves {
            for (id, hash) in self.frontier.append(leaf_hash(leaf)) {
                if id.level % TILE_HEIGHT == 0 {
                    self.tiles.check(id, hash, &file.path)?;
                }
            }
        }
        Ok((file.path, first, leaves))
    }

    /// The root of the entries read so far.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// Entry `seq`'s bytes, read again from its bundle, unchecked (the
    /// caller compares them with the hash it verified).
    pub fn leaf_again(source: TileSource<'_>, size: u64, seq: u64) -> Option<Vec<u8>> {
        let index = seq / TILE_WIDTH_MAX;
        let first = index * TILE_WIDTH_MAX;
        let width = size.checked_sub(first)?.min(TILE_WIDTH_MAX);
        let file = read_tile(source, TileKind::Entries, index, width, "").ok()?;
        parse_bundle(&file, first, width)
            .ok()?
            .into_iter()
            .nth((seq - first) as usize)
    }
}

/// Audits a backup made with `export --format tiles`, in a directory or
/// served by a static mirror, trusting only `trusted`: its checkpoint
/// (`checkpoint_bytes`, the source's [`CHECKPOINT_FILE`], read by the caller
/// so that it can say what a source without one is), every entry bundle
/// and hash tile, the replay of every entry, every cosignature line
/// (witness keys from the source's [`WITNESSES_FILE`]), and that the log
/// extends `saved`. `progress` is told after each bundle.
///
/// # Errors
///
/// The first [`Failure`](crate::Failure) found; a tile that cannot be read is one too.
pub fn audit_tiles(
    source: TileSource<'_>,
    checkpoint_bytes: &[u8],
    trusted: &VerifierKey,
    saved: Option<&feeledger_core::note::Checkpoint>,
    audit: &mut crate::Audit,
    progress: &mut dyn FnMut(crate::Progress),
) -> Result<crate::CheckpointReport, crate::Failure> {
    use crate::{Cause, Failure};
    let (checkpoint, _, _) = feeledger_core::note::open_checkpoint(checkpoint_bytes, trusted, &[])
        .map_err(|error| {
            Failure::of(Cause::CheckpointSignature {
                checkpoint: format!("the backup's {CHECKPOINT_FILE}"),
                error,
            })
        })?;
    if checkpoint.size == 0 {
        return Err(Failure::of(Cause::EmptyCheckpoint));
    }
    let size = checkpoint.size;
    let mut reader = TileReader::new(source, size);
    for index in 0..TileReader::bundles(size) {
        let (_, first, leaves) = reader
            .bundle(index)
            .map_err(|e| Failure::of(Cause::Tiles(crate::error_chain(&e))))?;
        let chunk = (first..)
            .zip(leaves)
            .map(|(seq, bytes)| (seq, bytes, None))
            .collect();
        // A reversal's target, read again; the audit checks it against
        // the hash it verified.
        let mut fetch = |seq: u64| TileReader::leaf_again(source, size, seq);
        audit.push_chunk(chunk, &mut fetch)?;
        progress(crate::Progress {
            entries_checked: audit.size(),
            entries_total: size,
        });
    }
    // Witness keys are not in the log: the backup lists those the
    // operator registered.
    let witnesses = source
        .witnesses()
        .map_err(|e| Failure::of(Cause::Tiles(crate::error_chain(&e))))?;
    let report = audit.check_checkpoint(checkpoint_bytes, &witnesses)?;
    if let Some(saved) = saved {
        audit.check_saved(saved)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    //! The tile reader against a backup directory written here, byte by
    //! byte, as C2SP tlog-tiles lays it out.

    use super::*;
    use feeledger_core::fixtures::{chain, property_fee, two_role_genesis};

    const ORIGIN: &str = "tiles.example/ledger";

    /// A backup of three entries: one partial bundle and one partial hash
    /// tile of level 0 (a tree of three entries has no other tile).
    fn write_backup(dir: &Path, leaves: &[Vec<u8>]) {
        let width = leaves.len() as u64;
        let mut bundle = Vec::new();
        let mut hashes = Vec::new();
        for leaf in leaves {
            bundle.extend_from_slice(&(leaf.len() as u16).to_be_bytes());
            bundle.extend_from_slice(leaf);
            hashes.extend_from_slice(&leaf_hash(leaf).0);
        }
        for (kind, bytes) in [
            (TileKind::Entries, bundle),
            (TileKind::Hashes { level: 0 }, hashes),
        ] {
            let path = dir.join(tile_path(kind, 0, width));
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    }

    fn leaves() -> Vec<Vec<u8>> {
        chain(vec![
            two_role_genesis(ORIGIN, "瓦片小区"),
            property_fee(ORIGIN, "a"),
            property_fee(ORIGIN, "b"),
        ])
    }

    /// Proves that an intact backup reads back entry for entry, with the
    /// root of its entries.
    #[test]
    fn an_intact_backup_reads_back_with_its_root() {
        let dir = tempfile::tempdir().unwrap();
        let leaves = leaves();
        write_backup(dir.path(), &leaves);
        let mut reader = TileReader::new(TileSource::Dir(dir.path()), 3);
        assert_eq!(TileReader::bundles(3), 1);
        let (path, first, read) = reader.bundle(0).unwrap();
        assert_eq!((path.as_str(), first), ("tile/entries/000.p/3", 0));
        assert_eq!(read, leaves);
        let mut tree = merkle::MemoryTree::new();
        for leaf in &leaves {
            tree.push(leaf_hash(leaf));
        }
        assert_eq!(reader.root(), tree.root());
        assert_eq!(
            TileReader::leaf_again(TileSource::Dir(dir.path()), 3, 2),
            Some(leaves[2].clone())
        );
    }

    /// Proves that an entry altered in its bundle is named by a typed error
    /// carrying its seq, and that a missing tile is named by its path.
    #[test]
    fn an_altered_entry_or_a_missing_tile_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut leaves = leaves();
        write_backup(dir.path(), &leaves);
        // The same length, another byte: only the hash tile can tell.
        let last = leaves[1].len() - 2;
        leaves[1][last] ^= 1;
        let bundle = dir.path().join("tile/entries/000.p/3");
        let hashes = std::fs::read(dir.path().join("tile/0/000.p/3")).unwrap();
        write_backup(dir.path(), &leaves);
        std::fs::write(dir.path().join("tile/0/000.p/3"), hashes).unwrap();
        let err = TileReader::new(TileSource::Dir(dir.path()), 3)
            .bundle(0)
            .unwrap_err();
        match &err {
            TileError::EntryMismatch(m) => assert_eq!(m.seq, 1, "{err}"),
            other => panic!("not an entry mismatch: {other}"),
        }
        assert!(err.to_string().contains("the backup is damaged"), "{err}");
        std::fs::remove_file(bundle).unwrap();
        let err = TileReader::new(TileSource::Dir(dir.path()), 3)
            .bundle(0)
            .unwrap_err();
        assert!(matches!(err, TileError::Missing { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "tile/entries/000.p/3 is missing from the backup (entries 0..=2)"
        );
    }
}
