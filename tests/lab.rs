//! The kernel lab: a real Linux kernel with IPVS, booted once under qemu for
//! all scenarios in `tests/lab/scenarios`, each reported as its own test.
//! How it works, and how to add a scenario: `tests/lab/README.md`.
//!
//! A machine that cannot run the lab (no qemu, no cloud kernel, ...) fails
//! every test here with the reason; nothing is skipped.

#[path = "lab/harness/mod.rs"]
mod harness;

use harness::outcome::Verdict;
use harness::{Config, Lab};
use std::sync::OnceLock;

fn config() -> Config {
    Config::from_env(
        env!("CARGO_MANIFEST_DIR"),
        env!("CARGO_TARGET_TMPDIR"),
        env!("CARGO_BIN_EXE_lvsh"),
    )
}

/// The one boot every test of this binary shares (tests run in parallel threads).
fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| Lab::run(&config()))
}

/// Passes when the scenario passed in the VM; prints its output either way
/// (unless `LAB_VERBOSE` showed it as it came).
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
        /// Every scenario file has its test here (checked by `every_scenario_file_has_a_test`).
        const SCENARIOS: &[&str] = &[$(stringify!($name)),*];
        mod scenario {
            $(#[test] fn $name() { super::scenario(stringify!($name)) })*
        }
    };
}

scenarios! {
    dr_rr,
    ipvsadm_defaults,
    ipvsadm_fresh_namespace,
    ipvsadm_pe_sip,
    ipvsadm_port_zero,
    ipvsadm_restore_goes_on,
    ipvsadm_save_loses_state,
    ipvsadm_schedulers,
    ipvsadm_timeouts,
    lvsh_binary,
    lvsh_confirm,
    lvsh_edit_every_field,
    lvsh_emit_matches_kernel,
    lvsh_emit_order,
    lvsh_missing_modules,
    lvsh_errors,
    lvsh_netns,
    lvsh_nft_probe,
    lvsh_nft_flush,
    lvsh_pcc,
    lvsh_pfmc,
    lvsh_read_many,
    lvsh_recipes_sites,
    lvsh_ppc,
    lvsh_repl_apply,
    lvsh_rollback,
    lvsh_interrupted,
    lvsh_consent,
    lvsh_drain,
    lvsh_roundtrip_marks,
    lvsh_save_roundtrip,
    lvsh_sched_none,
    lvsh_scope,
    lvsh_show,
    lvsh_weight_keeps_connections,
    lvsh_sysctls,
    lvsh_host_settings,
    lvsh_watch_health,
    lvsh_watch_reload,
    lvsh_watch_flap_sorry,
    lvsh_watch_via_vip,
    lvsh_watch_drain,
    lvsh_watch_capabilities,
    nft_json,
    pcc,
    pfmc,
    ppc,
}

#[test]
fn every_scenario_file_has_a_test() {
    let lab_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab");
    let mut files: Vec<String> = harness::plan::discover(&lab_dir)
        .unwrap()
        .into_iter()
        .filter(|s| s.path.starts_with("scenarios/"))
        .map(|s| s.name)
        .collect();
    files.sort();
    let mut tests: Vec<&str> = SCENARIOS.to_vec();
    tests.sort();
    assert_eq!(
        files, tests,
        "tests/lab/scenarios/*.sh and the list in tests/lab.rs differ"
    );
}

/// The VM booted, ran every scenario and powered off by itself.
#[test]
fn the_vm_boots_runs_everything_and_powers_off() {
    let lab = lab();
    println!("{}", lab.summary);
    if let Some(error) = &lab.error {
        panic!("{error}");
    }
}

/// The harness reports failures: these scenarios fail on purpose in the same
/// boot, and the tests pass only when the harness says so.
mod harness_self_check {
    use super::*;

    #[test]
    fn a_scenario_that_exits_non_zero_is_reported_failed() {
        let outcome = lab()
            .outcome("selftest_fails")
            .unwrap_or_else(|why| panic!("{why}"));
        assert_eq!(outcome.verdict, Verdict::Failed(3));
        assert!(
            outcome.output.contains("selftest: failing on purpose"),
            "{}",
            outcome.transcript()
        );
        let why = outcome.check().unwrap_err();
        assert!(
            why.starts_with("lab scenario `selftest_fails` failed: exit status 3"),
            "{why}"
        );
    }

    #[test]
    fn a_scenario_that_hangs_is_killed_at_its_limit_and_reported() {
        let outcome = lab()
            .outcome("selftest_hangs")
            .unwrap_or_else(|why| panic!("{why}"));
        assert_eq!(outcome.verdict, Verdict::TimedOut(2));
        assert!(
            outcome.output.contains("selftest: hanging on purpose"),
            "{}",
            outcome.transcript()
        );
        let seconds = outcome.seconds.unwrap();
        assert!(
            (2.0..10.0).contains(&seconds),
            "killed after {seconds} s, its limit is 2 s"
        );
        assert!(outcome.check().unwrap_err().contains("timed out"));
    }

    /// A VM without its init: the kernel panics, qemu ends, and every test of
    /// such a boot must fail saying the VM did not boot.
    #[test]
    fn a_vm_that_does_not_boot_fails_loudly() {
        lab(); // one VM at a time: after the shared boot
        let mut config = config();
        config.cmdline = "rdinit=/no-such-init".into();
        config.only = Some(vec!["selftest_fails".into()]);
        let broken = Lab::run(&config);
        let error = broken.error.as_deref().unwrap_or("no error at all");
        assert!(error.starts_with("the VM did not boot"), "{error}");
        assert!(
            error.contains("Kernel panic"),
            "the console tail shows why: {error}"
        );
        let why = broken
            .outcome("selftest_fails")
            .unwrap()
            .check()
            .unwrap_err();
        assert!(why.contains("did not run: the VM did not boot"), "{why}");
    }
}
