//! Fuzz target `witness_request`: the tlog-witness add-checkpoint body
//! parser in the core; see `feeledger_fuzz::invariants::check_witness_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    feeledger_fuzz::invariants::check_witness_request(data);
});
