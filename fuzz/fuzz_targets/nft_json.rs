//! `nft -j list table inet lvsh` as lvsh reads it back: marks and foreign objects,
//! then the observed model as `plan` and `show` use it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lvsh::{backend::nft::parse_table, model::Balancer};

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(observed) = parse_table(json) else {
        return;
    };
    let marks = match observed.into_marks() {
        Ok(marks) => marks,
        Err(e) => {
            let _ = e.to_string();
            match e {
                lvsh::backend::nft::Error::Foreign { marks, .. } => marks,
                _ => return,
            }
        }
    };
    let b = Balancer {
        marks,
        ..Balancer::default()
    };
    lvsh_fuzz::observed(&b);
});
