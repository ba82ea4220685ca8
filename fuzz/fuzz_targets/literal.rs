//! The evaluator of literal statements (`src/dsl/literal.rs`) against rhai: on any
//! text it either gives up, or registers exactly what rhai's evaluation does, every
//! script position included. It must never take a script rhai refuses.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = lvsh::dsl::compare_with_rhai(text) {
        panic!("{e}\n--- script:\n{text}");
    }
});
