//! Backups, restores and rebuilds of a feeledger ledger.
//!
//! - [`export_tiles`] writes a backup: the log as plain C2SP tlog-tiles
//!   files, consistent with one signed checkpoint, built by the core's tile
//!   writer (`feeledger_core::tiles::TileEdge`).
//! - [`restore`] builds a new data directory from a backup, checking every
//!   entry against the backup's hash tiles and the checkpoint against the
//!   log key.
//! - [`find_damage`] and [`rebuild`] repair a data directory whose derived
//!   data (node tiles, indexes, totals, snapshot) is damaged, from its
//!   leaves.
//!
//! Each returns what it did as a report and prints nothing; the
//! `feeledger` binary reads the key files, calls these, and prints. Errors
//! are [`BackupError`]; its `Display` and `source` chain, joined by ": ",
//! is the one-line message the binary shows.
//!
//! # Backup
//!
//! | file | what |
//! |---|---|
//! | `checkpoint` | the latest signed checkpoint note, with its cosignatures |
//! | `tile/<L>/<N>[.p/<W>]` | hash tiles: tree level 8·L, node hashes 256·N .. 256·N+W−1 |
//! | `tile/entries/<N>[.p/<W>]` | entry bundles: each leaf as a big-endian u16 length and its bytes |
//! | `log.vkey` | the log's verifier key, one line `<origin>+<hex8>+<base64(0x01 ‖ key)>\n`, for convenience; trust the one on the notice board |
//! | `witnesses` | registered witnesses' cosigner keys, one a line `<name>+<hex8>+<base64(0x04 ‖ key)>\n` (only if there are any); not in the log: the operator's list |
//!
//! Any C2SP tlog-tiles client can read it; it can be served by a static
//! file server as it is. `feeledger verify --tiles DIR|URL --log-key VKEY`
//! audits it (or a static mirror of it) with only the public log key,
//! reading the tiles through the same `TileReader` as [`restore`]. The
//! export streams the leaves once through the core's tile writer, checks
//! each hash tile against the store's own nodes as it goes, checks the root
//! against the signed checkpoint, writes into a temporary directory beside
//! the target and renames it, so a failed export leaves nothing. A backup
//! holds no private key: keep `DIR/log.key` safe elsewhere, a restore needs
//! it. Pending proposals and earlier checkpoints are not part of the log
//! and are not in a backup.
//!
//! # Recovery
//!
//! `feeledger verify --data DIR` checks everything the store holds and
//! names the first damaged key. `feeledger serve` and every other command
//! refuse a store whose head does not check out, so a damaged store is
//! never served.
//!
//! * **Derived data damaged** (a node tile, an index, the totals, the state
//!   snapshot, a body id or reversal link; or the head checks at open):
//!   stop the server and run `feeledger rebuild --data DIR`. (On a store
//!   that passes the full audit it says so and changes nothing.) It reads
//!   every leaf (even from a store `open` refuses), checks each again (its
//!   hash against the tree's record and the next entry's link, signatures,
//!   rules, balances), writes a fresh store in `DIR/ledger.rebuild`, keeps
//!   the latest signed checkpoint and every cosigned one if the leaves
//!   still give their roots (else signs a new latest one), with the
//!   cosignature lines that verify (a line by a role key in force at the
//!   checkpoint's size or now, or by a registered witness, that does not
//!   verify is dropped; a line by any other key is kept unchecked, as
//!   verifiers ignore it), keeps the registered witnesses and pending
//!   proposals, audits the fresh store as `verify` would (changing nothing
//!   if that fails), then swaps the directories and keeps the old store as
//!   `DIR/ledger.damaged-<time>`. It refuses to sign anything that
//!   contradicts a checkpoint the log key signed before.
//! * **A leaf damaged or missing**: a leaf cannot be rebuilt from itself.
//!   `rebuild` stops, names the entry and changes nothing. Restore from a
//!   backup: `feeledger restore --from BACKUP --data NEWDIR --log-key
//!   DIR/log.key`, check it with `feeledger verify --data NEWDIR --log-key
//!   VKEY`, and serve NEWDIR. A restore checks every entry against the
//!   backup's hash tiles and the checkpoint against the log key, rebuilds
//!   every derived key, and serves the backup's own checkpoint with its
//!   cosignatures. Entries appended after the backup are lost unless they
//!   can be proposed again.
//!
//! Make backups often (`feeledger export --data DIR --format tiles --out
//! BACKUP-DATE`; it opens the data directory, so the server must be
//! stopped while it runs) and keep them on another disk.

mod error;
mod export;
mod fsutil;
mod rebuild;
mod restore;

pub use error::{BackupError, LeafAltered, SaveKeyError};
pub use export::{export_tiles, Exported};
pub use rebuild::{find_damage, rebuild, Rebuilt, Step};
pub use restore::{restore, RestoreTarget, Restored};
