//! Fuzz target `receipt`: see `feeledger_fuzz::invariants::check_receipt` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    feeledger_fuzz::invariants::check_receipt(data);
});
