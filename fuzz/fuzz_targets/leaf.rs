//! Fuzz target `leaf`: see `feeledger_fuzz::invariants::check_leaf` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    feeledger_fuzz::invariants::check_leaf(data);
});
