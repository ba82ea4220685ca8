//! The boot lab: lvsh as an operator runs it on a Debian director. A Debian
//! root file system with systemd (built from Debian's packages, cached), booted
//! under qemu with the lab kernel; the `.deb` installed with dpkg, the units
//! enabled, a reboot, and the balancer restored at boot and kept across
//! nftables restarts. Each scenario of `tests/lab/boot/plan` is its own test.
//! How it works and what it costs: `tests/lab/README.md` ("The boot lab").

#[path = "lab/boot/harness/mod.rs"]
mod harness;

use harness::{BootLab, Config};
use std::sync::OnceLock;

fn config() -> Config {
    Config::from_env(
        env!("CARGO_MANIFEST_DIR"),
        env!("CARGO_TARGET_TMPDIR"),
        env!("CARGO_BIN_EXE_lvsh"),
    )
}

/// The one VM run every test of this binary shares.
fn lab() -> &'static BootLab {
    static LAB: OnceLock<BootLab> = OnceLock::new();
    LAB.get_or_init(|| BootLab::run(&config()))
}

fn scenario(name: &str) {
    match lab().outcome(name) {
        Ok(outcome) => {
            if !config().verbose {
                println!("{}", outcome.transcript());
            }
            if let Err(why) = outcome.check() {
                panic!("{why}");
            }
        }
        Err(why) => panic!("{why}"),
    }
}

macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        const SCENARIOS: &[&str] = &[$(stringify!($name)),*];
        mod scenario {
            $(#[test] fn $name() { super::scenario(stringify!($name)) })*
        }
    };
}

scenarios! {
    deb_install,
    units_verify,
    enable_at_boot,
    restored_at_boot,
    nftables_restart,
    nftables_reload,
    watch_status,
    watch_service,
}

#[test]
fn every_scenario_of_the_plan_has_a_test() {
    let boot = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/boot");
    let plan = harness::steps::Plan::load(&boot).unwrap_or_else(|e| panic!("{e}"));
    let mut planned: Vec<String> = plan.scenarios().into_iter().map(|s| s.name).collect();
    planned.sort();
    let mut tests: Vec<&str> = SCENARIOS.to_vec();
    tests.sort();
    assert_eq!(
        planned, tests,
        "tests/lab/boot/plan and the list in tests/lab_boot.rs differ"
    );
}

/// The VM booted, rebooted where the plan says, ran every step and powered off.
#[test]
fn the_vm_boots_reboots_runs_everything_and_powers_off() {
    let lab = lab();
    println!("{}", lab.summary);
    if let Some(error) = &lab.error {
        panic!("{error}");
    }
}
