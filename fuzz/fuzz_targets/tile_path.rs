//! Fuzz target `tile_path`: see `feeledger_fuzz::invariants::check_tile_path` for what it asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    feeledger_fuzz::invariants::check_tile_path(data);
});
