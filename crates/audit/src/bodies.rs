//! How a data directory's audit checks the body-id index (the store's `B`
//! records, body id → seq) without reading it at random once per entry:
//! on a large ledger that read misses sled's cache, and it alone held the
//! audit below its target (the figures are in docs/performance.md, "What
//! bounds each figure", **Audit**).
//!
//! - [`SeenBodies`] answers "may an earlier entry have this body?" from
//!   two to four bytes an entry held in memory (16 bits an entry, rounded up
//!   to a power of two). Only a "maybe" (a replay, or about
//!   one entry in a thousand by chance) is looked up in the index, and the
//!   audit proves the answer against the earlier leaf.
//! - [`BodyIdsSeen`] collects each applied entry's (body id, seq) in 256
//!   spill files, by the id's first byte; after the replay each is sorted
//!   and merged with the index, which the store keeps in id order. Every
//!   record must be exactly one entry's, and every entry must have its
//!   own: so an index that hid a replay is named there.

use crate::replay::{Cause, Failure};
use feeledger_core::hash::Hash;
use feeledger_store::{NotASeq, Store, StoreError, StoredSeq};
use std::io::{Read, Write};

/// Bits of the filter per entry: with [`PROBES`], about one entry in a
/// thousand is a false "maybe".
const FILTER_BITS_PER_ENTRY: u64 = 16;
const FILTER_BITS_MIN: u64 = 1 << 10;
/// A probe is 32 bits of the id.
const FILTER_BITS_MAX: u64 = 1 << 32;
const PROBES: usize = 6;

/// A Bloom filter of body ids. Body ids are SHA-256 digests, so their
/// bytes serve as the filter's hashes. A company grinding bodies to
/// collide here could only make the audit read the index more often.
pub struct SeenBodies {
    words: Vec<u64>,
    /// The filter's size in bits, minus one (a power of two).
    bit_mask: u64,
}

impl SeenBodies {
    /// A filter sized for `entries` body ids.
    ///
    /// # Panics
    /// Only if the filter's size (at most a fixed bound) does not fit in a
    /// `usize`, which no supported target has.
    pub fn for_entries(entries: u64) -> SeenBodies {
        let bits = entries
            .saturating_mul(FILTER_BITS_PER_ENTRY)
            .clamp(FILTER_BITS_MIN, FILTER_BITS_MAX)
            .next_power_of_two();
        let words = usize::try_from(bits / 64).expect("a filter that fits in memory");
        SeenBodies {
            words: vec![0; words],
            bit_mask: bits - 1,
        }
    }

    fn bits(&self, body_id: &Hash) -> [u64; PROBES] {
        std::array::from_fn(|i| {
            let probe = &body_id.0[4 * i..4 * i + 4];
            u64::from(u32::from_le_bytes(probe.try_into().expect("4 bytes"))) & self.bit_mask
        })
    }

    pub fn insert(&mut self, body_id: &Hash) {
        for bit in self.bits(body_id) {
            self.words[(bit / 64) as usize] |= 1 << (bit % 64);
        }
    }

    /// False only if this id was never inserted.
    pub fn may_contain(&self, body_id: &Hash) -> bool {
        self.bits(body_id)
            .into_iter()
            .all(|bit| self.words[(bit / 64) as usize] & (1 << (bit % 64)) != 0)
    }
}

/// Bytes of one spilled (body id, seq) pair.
const PAIR_BYTES: usize = 32 + 8;
/// Pairs of one bucket held in memory before they go to its file: 256
/// buckets hold at most 2.5 MiB, each reserved whole at its first pair (so
/// it never grows past this), none for a bucket no entry falls in.
const BUCKET_BUFFER_BYTES: usize = 250 * PAIR_BYTES;

/// The (body id, seq) of every applied entry, bucketed by the id's first
/// byte in files under a temporary directory (removed on drop).
pub struct BodyIdsSeen {
    buffers: Vec<Vec<u8>>,
    files: Vec<Option<std::fs::File>>,
    dir: Option<tempfile::TempDir>,
}

impl Default for BodyIdsSeen {
    fn default() -> BodyIdsSeen {
        BodyIdsSeen::new()
    }
}

impl BodyIdsSeen {
    pub fn new() -> BodyIdsSeen {
        BodyIdsSeen {
            buffers: vec![Vec::new(); 256],
            files: (0..256).map(|_| None).collect(),
            dir: None,
        }
    }

    /// Records an applied entry's body id and seq, spilling a full bucket to
    /// its temporary file.
    ///
    /// # Errors
    /// [`Cause::TempFiles`] if the temporary files cannot be written.
    pub fn push(&mut self, body_id: &Hash, seq: u64) -> Result<(), Failure> {
        let bucket = usize::from(body_id.0[0]);
        let buffer = &mut self.buffers[bucket];
        buffer.reserve_exact(BUCKET_BUFFER_BYTES.saturating_sub(buffer.capacity()));
        buffer.extend_from_slice(&body_id.0);
        buffer.extend_from_slice(&seq.to_be_bytes());
        if buffer.len() >= BUCKET_BUFFER_BYTES {
            self.spill(bucket)?;
        }
        Ok(())
    }

    fn spill(&mut self, bucket: usize) -> Result<(), Failure> {
        let failed = |e: std::io::Error| {
            Failure::of(Cause::TempFiles {
                action: "write",
                error: std::sync::Arc::new(e),
            })
        };
        if self.dir.is_none() {
            self.dir = Some(
                tempfile::Builder::new()
                    .prefix("feeledger-audit-")
                    .tempdir()
                    .map_err(failed)?,
            );
        }
        if self.files[bucket].is_none() {
            let dir = self.dir.as_ref().expect("created above");
            let path = dir.path().join(format!("{bucket:02x}"));
            let file = std::fs::OpenOptions::new()
                .create_new(true)
                .read(true)
                .append(true)
                .open(path)
                .map_err(failed)?;
            self.files[bucket] = Some(file);
        }
        let file = self.files[bucket].as_mut().expect("opened above");
        file.write_all(&self.buffers[bucket]).map_err(failed)?;
        self.buffers[bucket].clear();
        Ok(())
    }

    /// The pairs of one bucket, sorted by id and then seq.
    fn bucket(&mut self, bucket: usize) -> Result<Vec<(Hash, u64)>, Failure> {
        let mut bytes = Vec::new();
        if let Some(file) = &mut self.files[bucket] {
            use std::io::Seek;
            file.seek(std::io::SeekFrom::Start(0))
                .and_then(|_| file.read_to_end(&mut bytes))
                .map_err(|e| {
                    Failure::of(Cause::TempFiles {
                        action: "read",
                        error: std::sync::Arc::new(e),
                    })
                })?;
        }
        bytes.extend_from_slice(&std::mem::take(&mut self.buffers[bucket]));
        let mut pairs: Vec<(Hash, u64)> = bytes
            .chunks_exact(PAIR_BYTES)
            .map(|pair| {
                let id = Hash::from_slice(&pair[..32]).expect("32 bytes");
                let seq = u64::from_be_bytes(pair[32..].try_into().expect("8 bytes"));
                (id, seq)
            })
            .collect();
        pairs.sort_unstable();
        Ok(pairs)
    }

    /// Merges the collected pairs with the store's body-id index, naming
    /// the first thing wrong (in id order): two entries with one body (a
    /// replay the index hid), a record pointing at another entry, an entry
    /// with no record, a record of no entry, a record that does not hold a
    /// seq.
    ///
    /// # Errors
    /// That first thing wrong, as a [`Failure`]; a store that cannot be read
    /// or temporary files that cannot be read are failures too.
    pub fn check_index(self, store: &Store) -> Result<(), Failure> {
        self.merge(store.body_index())
    }

    /// [`BodyIdsSeen::check_index`] against `records`, in id order.
    fn merge(
        mut self,
        records: impl Iterator<Item = Result<(Hash, StoredSeq), StoreError>>,
    ) -> Result<(), Failure> {
        let mut records = records.peekable();
        for bucket in 0..256 {
            let pairs = self.bucket(bucket)?;
            if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
                let ((id, first), (_, again)) = (w[0], w[1]);
                return Err(Failure::at_entry(
                    again,
                    Cause::DerivedData(format!(
                        "entry {again} repeats the body of entry {first} (body {id}), a replay the body id index did not show"
                    )),
                ));
            }
            let mut pairs = pairs.into_iter().peekable();
            loop {
                let record = match records.peek() {
                    Some(Ok((id, _))) if usize::from(id.0[0]) == bucket => Some(*id),
                    Some(Err(_)) => {
                        let Some(Err(e)) = records.next() else {
                            unreachable!("peeked an error")
                        };
                        return Err(Failure::of(e));
                    }
                    _ => None,
                };
                match (pairs.peek().copied(), record) {
                    (None, None) => break,
                    (Some((id, seq)), record) if record.is_none_or(|r| id < r) => {
                        return Err(Failure::at_entry(
                            seq,
                            Cause::DerivedData(format!(
                                "the body id index is missing entry {seq} (body {id})"
                            )),
                        ));
                    }
                    (Some((id, seq)), Some(r)) if id == r => {
                        let Some(Ok((_, stored))) = records.next() else {
                            unreachable!("peeked a record")
                        };
                        pairs.next();
                        match stored {
                            Ok(s) if s == seq => {}
                            Ok(s) => {
                                return Err(Failure::at_entry(
                                    seq,
                                    Cause::DerivedData(format!(
                                        "the body id index maps entry {seq}'s body {id} to entry {s}"
                                    )),
                                ))
                            }
                            Err(NotASeq { bytes }) => {
                                return Err(Failure::at_entry(
                                    seq,
                                    Cause::DerivedData(format!(
                                        "the body id index record of entry {seq} is damaged: it holds {bytes} bytes, not a seq"
                                    )),
                                ))
                            }
                        }
                    }
                    _ => {
                        let Some(Ok((id, stored))) = records.next() else {
                            unreachable!("peeked a record")
                        };
                        return Err(derived(match stored {
                            Ok(s) => format!(
                                "the body id index lists body {id} at entry {s}, which is not that entry's body"
                            ),
                            Err(_) => format!("the body id index record of body {id} is damaged"),
                        }));
                    }
                }
            }
        }
        match records.next() {
            None => Ok(()),
            Some(Err(e)) => Err(Failure::of(e)),
            Some(Ok(_)) => unreachable!("every first byte is a bucket"),
        }
    }
}

/// A key the store derives from the leaves that disagrees with them.
fn derived(what: String) -> Failure {
    Failure::of(Cause::DerivedData(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: u64) -> Hash {
        feeledger_core::hash::sha256(&i.to_be_bytes())
    }

    #[test]
    fn the_filter_says_no_only_for_ids_never_inserted() {
        let mut seen = SeenBodies::for_entries(10_000);
        for i in 0..10_000 {
            seen.insert(&id(i));
        }
        assert!((0..10_000).all(|i| seen.may_contain(&id(i))));
        let false_maybes = (10_000..110_000)
            .filter(|&i| seen.may_contain(&id(i)))
            .count();
        // 16 bits and 6 probes an id: about 0.1% by chance.
        assert!(false_maybes < 500, "{false_maybes} of 100,000");
    }

    fn record(id: Hash, seq: u64) -> Result<(Hash, Vec<u8>), String> {
        Ok((id, seq.to_be_bytes().to_vec()))
    }

    /// The index an honest store keeps for entries `0..n` (in id order).
    fn honest(n: u64) -> Vec<Result<(Hash, Vec<u8>), String>> {
        let mut records: Vec<_> = (0..n).map(|seq| record(id(seq), seq)).collect();
        records.sort_by_key(|r| r.as_ref().unwrap().0);
        records
    }

    /// Where the record of `id` is in `records`.
    fn at_id(records: &[Result<(Hash, Vec<u8>), String>], id: Hash) -> usize {
        records
            .iter()
            .position(|r| r.as_ref().unwrap().0 == id)
            .unwrap()
    }

    fn merged(
        seqs: &[(Hash, u64)],
        records: Vec<Result<(Hash, Vec<u8>), String>>,
    ) -> Result<(), Failure> {
        let mut seen = BodyIdsSeen::new();
        for (id, seq) in seqs {
            seen.push(id, *seq).unwrap();
        }
        // The records as the store reads them: a value of other than 8
        // bytes is not a seq.
        seen.merge(records.into_iter().map(|record| {
            record.map_err(StoreError::damaged).map(|(id, raw)| {
                let seq = <[u8; 8]>::try_from(raw.as_slice())
                    .map(u64::from_be_bytes)
                    .map_err(|_| NotASeq { bytes: raw.len() });
                (id, seq)
            })
        }))
    }

    // Proves that the merge passes an honest index and names each way one
    // can be wrong: each case below passes if the merge ignores it.
    #[test]
    fn the_merge_names_every_record_that_differs() {
        let n = 3_000;
        let entries: Vec<(Hash, u64)> = (0..n).map(|seq| (id(seq), seq)).collect();
        merged(&entries, honest(n)).unwrap();

        let message = |result: Result<(), Failure>| result.unwrap_err().cause.to_string();
        let at = |result: Result<(), Failure>| result.unwrap_err().seq;

        // A record pointing at another entry.
        let mut records = honest(n);
        let i = at_id(&records, id(7));
        records[i] = record(id(7), 8);
        assert!(message(merged(&entries, records)).contains("maps entry 7's body"));

        // A record that does not hold a seq.
        let mut records = honest(n);
        let i = at_id(&records, id(9));
        records[i] = Ok((id(9), vec![1, 2, 3]));
        assert!(message(merged(&entries, records)).contains("record of entry 9 is damaged"));

        // An entry with no record.
        let mut records = honest(n);
        records.retain(|r| r.as_ref().unwrap().0 != id(11));
        let missing = merged(&entries, records.clone());
        assert_eq!(at(missing), Some(11));

        // A record of no entry, and a damaged one.
        let stranger = Hash([0xee; 32]);
        let mut records = honest(n);
        records.push(record(stranger, 5));
        records.sort_by_key(|r| r.as_ref().unwrap().0);
        assert!(message(merged(&entries, records.clone())).contains("lists body"));
        let i = at_id(&records, stranger);
        records[i] = Ok((stranger, vec![]));
        assert!(message(merged(&entries, records))
            .contains(&format!("record of body {stranger} is damaged")));

        // A read error, passed on.
        let mut records = honest(n);
        records.insert(n as usize / 2, Err("disk on fire".to_string()));
        assert!(message(merged(&entries, records)).contains("disk on fire"));

        // Entry 20 repeats entry 4's body, and the index lists only one of
        // them (either): named as the replay, at the later entry.
        let mut replayed = entries.clone();
        replayed[20] = (id(4), 20);
        for kept in [4, 20] {
            let mut records = honest(n);
            records.retain(|r| r.as_ref().unwrap().0 != id(20));
            let i = at_id(&records, id(4));
            records[i] = record(id(4), kept);
            let failure = merged(&replayed, records).unwrap_err();
            assert_eq!(failure.seq, Some(20), "{failure:?}");
            assert!(
                failure
                    .cause
                    .to_string()
                    .contains("repeats the body of entry 4"),
                "{failure:?}"
            );
        }
    }

    #[test]
    fn spilled_pairs_come_back_sorted_and_complete() {
        let mut seen = BodyIdsSeen::new();
        let count = 256 * 300; // more than one buffer per bucket: files
        for seq in 0..count {
            seen.push(&id(seq), seq).unwrap();
        }
        assert!(seen.dir.is_some(), "some buckets spilled to files");
        let mut all = Vec::new();
        for bucket in 0..256 {
            let pairs = seen.bucket(bucket).unwrap();
            assert!(pairs.windows(2).all(|w| w[0] < w[1]));
            assert!(pairs.iter().all(|(h, _)| usize::from(h.0[0]) == bucket));
            all.extend(pairs);
        }
        all.sort_unstable_by_key(|&(_, seq)| seq);
        let expected: Vec<(Hash, u64)> = (0..count).map(|seq| (id(seq), seq)).collect();
        assert_eq!(all, expected);
    }
}
