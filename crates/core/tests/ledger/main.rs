//! Rejection tests for `feeledger_core::state`: one test per rule of the
//! ledger, each asserting the exact `ApplyError` variant and that a refused
//! leaf leaves the state (size, head, time, roles, balances) and the totals
//! exactly as they were.
//!
//! The fixture is a small ledger with fixed keys: company `co-1` (seed 1,
//! threshold 1), committee `cm-1`/`cm-2`/`cm-3` (seeds 2-4, threshold 2),
//! optionally supervisor `sv-1` (seed 5, threshold 1), and the log key
//! (seed 9) named after the origin.
//!
//! One module a topic; `fixture` holds what they share.

/// The shared fixture: keys, body builders, the `Ledger` wrapper.
mod fixture;

/// Bytes: canonical JSON (key order, white space, escapes, unknown fields,
/// floats, null, booleans, huge integers, control characters) and the byte
/// limits of fields and leaves.
mod bytes;
/// Governance: who must sign a new role set, and when it takes effect.
mod governance;
/// Money: amount limits, overdrafts, unknown funds, transfers, exact balances
/// and overflow.
mod money;
/// Position in the log: origin, seq, the prev chain, time order and the one
/// genesis.
mod position;
/// Properties: every single-byte change is caught, and decoding never panics on
/// arbitrary bytes.
mod properties;
/// Replays and reversals: a body recorded once, and what may be reversed, once,
/// under which rule, without overdraft.
mod reversals;
/// Role sets: weak and non-canonical keys, duplicate names and keys,
/// thresholds.
mod roles;
/// Signatures and rules: unknown keys, bad signatures, precomputed signature
/// checks, role thresholds and who may propose.
mod signatures;
/// Parties and text: no phone numbers as payers, Chinese text accepted.
mod text;
/// Totals by month and category, reversals netting out.
mod totals;
