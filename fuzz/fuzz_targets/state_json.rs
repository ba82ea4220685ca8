//! `--state FILE.json` (`plan`, `repl`): a state file read into the model, then what
//! those commands do with it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lvsh::model::Balancer;

fuzz_target!(|data: &[u8]| {
    // As `read_state` reads it: serde_json straight from the bytes.
    let Ok(b) = serde_json::from_slice::<Balancer>(data) else {
        return;
    };
    lvsh_fuzz::observed(&b);
});
