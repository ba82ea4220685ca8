//! Golden tests against what the real kernel and ipvsadm printed.
//!
//! `tests/fixtures/ipvsadm/NAME.rules` was restored with `ipvsadm -R` on a kernel
//! with IPVS; `NAME.saved` is what `ipvsadm -S -n` printed afterwards and
//! `NAME.named` what `ipvsadm -S` printed (see the README there). `NAME.rhai` is the
//! script `lvsh import` writes for `NAME.rules`; set `LVSH_BLESS=1` to rewrite those
//! after a deliberate change, and review the diff.

use super::ipvsadm::{from_ipvsadm, to_ipvsadm, unexpressible};
use super::script::to_script;
use crate::model::{Balancer, Family, ServiceKey};
use std::collections::BTreeSet;
use std::path::PathBuf;

const SAVED: [&str; 6] = [
    "article",
    "features",
    "messy",
    "names",
    "sched_none",
    "wrap",
];

fn path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ipvsadm")
        .join(file)
}

fn read(file: &str) -> String {
    std::fs::read_to_string(path(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn import(file: &str) -> Balancer {
    from_ipvsadm(file, &read(file)).unwrap_or_else(|e| panic!("{file}: {e:?}"))
}

fn lines(text: &str) -> BTreeSet<&str> {
    text.lines().collect()
}

/// Line for line, in ipvsadm's order: a diff against a director's save shows only
/// real differences (`wrap` has the orders ipvsadm's wrapping comparison gives).
#[test]
fn emitting_the_rules_gives_what_the_kernel_saved() {
    for name in SAVED {
        let emitted = to_ipvsadm(&import(&format!("{name}.rules")));
        let saved = read(&format!("{name}.saved"));
        assert_eq!(emitted, saved, "{name}");
    }
}

#[test]
fn saved_tables_import_back_to_the_same_rules() {
    for name in SAVED {
        let saved = read(&format!("{name}.saved"));
        let emitted = to_ipvsadm(&import(&format!("{name}.saved")));
        assert_eq!(emitted, saved, "{name}");
    }
}

#[test]
fn saves_with_service_names_import_like_numeric_ones() {
    // `ipvsadm -S` without `-n`: ports as names from the services file.
    for file in ["features.named", "article.named", "names.rules"] {
        let saved = read(&file.replace(".named", ".saved").replace(".rules", ".saved"));
        let emitted = to_ipvsadm(&import(file));
        assert_eq!(emitted, saved, "{file}");
    }
    assert!(read("features.named").contains("10.1.1.1:snpp"));
}

#[test]
fn rules_and_saved_tables_are_the_same_model_up_to_what_save_drops() {
    for name in SAVED {
        let mut rules = import(&format!("{name}.rules"));
        let saved = import(&format!("{name}.saved"));
        // `ipvsadm -S` drops thresholds, timeouts, sync daemons and netmasks of
        // services without persistence.
        rules.timeouts = Default::default();
        rules.daemons.clear();
        for s in rules.services.values_mut() {
            if s.persistence.is_none() {
                s.netmask = None;
            }
            for d in s.dests.values_mut() {
                d.upper_threshold = 0;
                d.lower_threshold = 0;
            }
        }
        assert_eq!(rules, saved, "{name}");
    }
}

#[test]
fn marks_above_i32_max_round_trip_through_ipvsadm_1_31_output() {
    // ipvsadm 1.31 -S prints these marks as signed numbers (-1, -2147483648).
    let rules = import("bigmark.rules");
    assert_eq!(rules, import("bigmark.saved"));
    assert!(
        rules
            .services
            .contains_key(&ServiceKey::fwmark(Family::Inet, u32::MAX))
    );
    let emitted = to_ipvsadm(&rules);
    assert_eq!(lines(&emitted), lines(&read("bigmark.rules")));
}

#[test]
fn what_ipvsadm_cannot_carry_is_reported() {
    let lost = unexpressible(&import("features.rules"));
    assert_eq!(
        lost,
        [
            "service tcp 10.1.1.2:80: netmask 255.255.0.0 without persistence is not saved by `ipvsadm -S`",
            "real server 10.1.2.13:80 of tcp 10.1.1.6:80: thresholds (upper 100, lower 50) are not saved by `ipvsadm -S`; add `-x 100 -y 50` by hand",
            "real server 10.1.2.14:8080 of tcp 10.1.1.6:80: thresholds (upper 100, lower 0) are not saved by `ipvsadm -S`; add `-x 100 -y 0` by hand",
        ]
    );
    let lost = unexpressible(&import("messy.rules"));
    assert_eq!(
        lost,
        [
            "timeouts (tcp 901, tcpfin 121, udp 301): `ipvsadm -S` does not save them; set them with `ipvsadm --set`"
        ]
    );
    assert!(unexpressible(&import("article.rules")).is_empty());
}

#[test]
fn imported_scripts_match_their_goldens() {
    let bless = std::env::var_os("LVSH_BLESS").is_some();
    for name in SAVED.iter().chain(&["bigmark"]) {
        let rules = format!("{name}.rules");
        let script = to_script(&import(&rules), &format!("imported from {rules}"));
        let golden = format!("{name}.rhai");
        if bless {
            std::fs::write(path(&golden), &script).unwrap();
        }
        assert_eq!(script, read(&golden), "{golden}");
    }
}
