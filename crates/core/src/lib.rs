//! The pure core of feeledger: everything a verifier must agree on, with no
//! I/O. The store, the server, the CLI and outside verifiers build on it,
//! so its formats are the contract (docs/format.md specifies every byte).
//!
//! - [`canonical`]: RFC 8785 JCS with feeledger's restrictions (no floats,
//!   no null), and strict decoding that refuses non-canonical bytes.
//! - [`entry`]: bodies of the six kinds, leaves, field limits, roles and
//!   rules, and the message an entry signature covers.
//! - [`state`]: [`state::LedgerState::apply`], the one place an entry is
//!   judged (chain, signatures with `verify_strict`, rules, money), and
//!   the replay an audit runs.
//! - [`hash`] and [`merkle`]: RFC 6962 leaf and node hashes, the tree's
//!   frontier, inclusion and consistency proofs, and node tile maths.
//! - [`note`]: C2SP signed notes, checkpoints, cosignatures, tlog-proof
//!   receipts and the tlog-witness request, one file per spec.
//!   [`tiles`]: C2SP tlog-tiles paths.
//! - [`money`]: amounts as integer fen, with checked arithmetic; [`names`]:
//!   the Chinese names of the categories; [`conventions`]: which fund a
//!   category usually goes to, and the warnings a proposal gets.
//! - [`keyfile`]: the text of private key files; [`genesis`]: a new
//!   ledger's genesis body from its founders' terms.
//! - [`withdrawal`]: the signed withdrawal of a pending proposal; who may
//!   withdraw is [`proposal_policy`]'s.
//!
//! Nothing here reads the disk, the clock, the network or an RNG: time,
//! keys and earlier entries are passed in. Every refusal is a typed error,
//! and `apply` leaves the state as it was when it refuses.
pub mod canonical;
pub mod conventions;
pub mod entry;
#[cfg(feature = "fixtures")]
pub mod fixtures;
pub mod genesis;
pub mod hash;
pub mod keyfile;
pub mod merkle;
pub mod money;
pub mod names;
pub mod note;
pub mod proposal_policy;
pub mod state;
pub mod tiles;
pub mod withdrawal;
