//! Fuzz target `add_checkpoint`: POST /add-checkpoint through the real router
//! and store; see `feeledger_fuzz::server::check_add_checkpoint`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    feeledger_fuzz::server::check_add_checkpoint(data);
});
