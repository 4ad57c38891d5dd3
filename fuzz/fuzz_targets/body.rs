//! Fuzz target `body`: see `feeledger_fuzz::invariants::check_body` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    feeledger_fuzz::invariants::check_body(data);
});
