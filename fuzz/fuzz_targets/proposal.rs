//! Fuzz target `proposal`: POST /api/v1/proposals through the real router
//! and store; see `feeledger_fuzz::server::check_proposal`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    feeledger_fuzz::server::check_proposal(data);
});
