//! `lvsh import FILE`: `ipvsadm -S` / `ipvsadm -R` text to a Rhai script.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lvsh::convert::{ipvsadm::from_ipvsadm, script::to_script};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match from_ipvsadm("<stdin>", text) {
        Ok(b) => {
            let _ = to_script(&b, "imported by lvsh from <stdin>");
            lvsh_fuzz::desired(&b);
        }
        Err(e) => {
            let _ = format!("{:?}", miette::Report::new(e));
        }
    }
});
