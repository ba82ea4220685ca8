//! `lvsh check -`: a script from standard input, evaluated in the sandbox. No file is
//! read (no base directory, no `-I`): imports resolve only in the embedded stdlib.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lvsh::dsl::{Options, evaluate_source};

fuzz_target!(|data: &[u8]| {
    // `check -` reads standard input into a String: only UTF-8 gets further.
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    match evaluate_source("<stdin>", source, None, &Options::default()) {
        Ok(ev) => lvsh_fuzz::desired(&ev.balancer),
        Err(e) => {
            // What the CLI prints: the miette report with its spans into the source.
            let _ = format!("{:?}", miette::Report::new(e));
        }
    }
});
