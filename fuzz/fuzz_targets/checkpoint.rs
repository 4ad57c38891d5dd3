//! Fuzz target `checkpoint`: see `feeledger_fuzz::invariants::check_checkpoint` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    feeledger_fuzz::invariants::check_checkpoint(data);
});
