//! The lab benchmark: lvsh against `ipvsadm` and against the kernel's floor
//! (`nlbatch`, batched generic netlink written in C), in one boot of the lab VM.
//! It is slow (minutes under emulation), so it is not part of `cargo test`:
//! run it with `tests/lab/bench.sh`, which builds the release lvsh first.
//! What it measures and the goals: `BENCHMARKS.md`; the VM side:
//! `tests/lab/bench/bench.sh`.

#[path = "lab/harness/mod.rs"]
mod harness;

use harness::{Config, Lab};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const REPO: &str = env!("CARGO_MANIFEST_DIR");

#[test]
#[ignore = "minutes under emulation: run tests/lab/bench.sh"]
fn bench() {
    let repo = Path::new(REPO);
    let mut config = Config::from_env(
        REPO,
        env!("CARGO_TARGET_TMPDIR"),
        env!("CARGO_BIN_EXE_lvsh"),
    );
    if std::env::var_os("LAB_LVSH").is_none() {
        let release = repo.join("target/release/lvsh");
        assert!(
            release.is_file(),
            "no release build at `{}`: run `cargo build --release` (tests/lab/bench.sh does), \
             or name the binary in LAB_LVSH",
            release.display()
        );
        config.lvsh = release;
    }
    let tools = config.work.join("bench");
    std::fs::create_dir_all(&tools).unwrap();
    let nlbatch_c = std::env::var_os("LAB_NLBATCH_C")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared/lab/nlbatch.c"));
    assert!(
        nlbatch_c.is_file(),
        "the floor tool `nlbatch.c` is missing: looked for `{}` (the shared lab folder beside \
         the repository); name it in LAB_NLBATCH_C",
        nlbatch_c.display()
    );
    config.extra = vec![
        (
            compile(&nlbatch_c, &tools.join("nlbatch")),
            "/lab/bin/nlbatch".into(),
        ),
        (
            compile(
                &repo.join("tests/lab/bench/timeit.c"),
                &tools.join("timeit"),
            ),
            "/lab/bin/timeit".into(),
        ),
    ];
    config.folders = vec!["bench".into()];
    // LAB_SCENARIO may name another script of tests/lab/bench (a probe).
    config.only = config.only.or_else(|| Some(vec!["bench".into()]));
    println!("lvsh under test: {}", config.lvsh.display());

    let lab = Lab::run(&config);
    println!("{}", lab.summary);
    let name = &config.only.as_ref().unwrap()[0];
    let outcome = lab.outcome(name).unwrap_or_else(|why| panic!("{why}"));
    if !config.verbose {
        println!("{}", outcome.transcript());
    }
    if let Err(why) = outcome.check() {
        panic!("{why}");
    }
    if outcome.name != "bench" {
        return;
    }
    let runs = parse(&outcome.output);
    let table = table(&runs);
    println!("{table}");
    let out = config.work.join("bench-results.md");
    std::fs::write(&out, &table).unwrap();
    println!("written to {}", out.display());
}

/// `gcc -O2` of a measuring helper, into the lab's work folder.
fn compile(source: &Path, to: &Path) -> PathBuf {
    let status = Command::new("gcc")
        .args(["-O2", "-Wall", "-o"])
        .arg(to)
        .arg(source)
        .status()
        .unwrap_or_else(|e| panic!("cannot run gcc for `{}`: {e}", source.display()));
    assert!(status.success(), "gcc {} failed", source.display());
    to.to_path_buf()
}

/// One timed run, from a `result case=... tool=... | timings: ...` line.
#[derive(Debug, Clone, PartialEq)]
struct Run {
    case: String,
    tool: String,
    n: u64,
    seconds: f64,
    rss_kib: u64,
    /// lvsh's own phases (`-v`), in seconds.
    phases: BTreeMap<String, f64>,
}

fn parse(output: &str) -> Vec<Run> {
    output
        .lines()
        .filter_map(|line| line.strip_prefix("result "))
        .map(|line| {
            let (fields, timings) = line.split_once(" | ").unwrap_or((line, ""));
            let get = |key: &str| {
                fields
                    .split_whitespace()
                    .find_map(|f| f.strip_prefix(key)?.strip_prefix('='))
                    .unwrap_or_else(|| panic!("no `{key}` in `{line}`"))
            };
            let mut phases = BTreeMap::new();
            let timings = timings.strip_prefix("timings: ").unwrap_or("");
            let timings = timings.split(';').next().unwrap_or("");
            for part in timings.split(", ") {
                let words: Vec<&str> = part.split_whitespace().collect();
                if let [name, value, "ms", ..] = words[..] {
                    phases.insert(name.to_string(), value.parse::<f64>().unwrap() / 1e3);
                }
            }
            Run {
                case: get("case").into(),
                tool: get("tool").into(),
                n: get("n").parse().unwrap(),
                seconds: get("seconds").parse().unwrap(),
                rss_kib: get("rss_kib").parse().unwrap(),
                phases,
            }
        })
        .collect()
}

/// Min and median of a non-empty list.
fn min_median(mut v: Vec<f64>) -> (f64, f64) {
    assert!(!v.is_empty(), "no runs");
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    let median = if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    };
    (v[0], median)
}

struct Stats<'a> {
    runs: &'a [Run],
}

impl Stats<'_> {
    fn select(&self, case: &str, tool: &str, n: u64) -> Vec<&Run> {
        let chosen: Vec<&Run> = self
            .runs
            .iter()
            .filter(|r| r.case == case && r.tool == tool && r.n == n)
            .collect();
        assert!(!chosen.is_empty(), "no `{case}` runs of {tool} at n = {n}");
        chosen
    }

    fn seconds(&self, case: &str, tool: &str, n: u64) -> (f64, f64) {
        min_median(
            self.select(case, tool, n)
                .iter()
                .map(|r| r.seconds)
                .collect(),
        )
    }
}

fn ms((min, median): (f64, f64)) -> String {
    format!("{:.0} / {:.0} ms", min * 1e3, median * 1e3)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// The results as the Markdown table of BENCHMARKS.md: times as min / median of
/// the runs, ratios of medians (of mins in parentheses).
fn table(runs: &[Run]) -> String {
    let s = Stats { runs };
    let mid = 2000;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "| case | lvsh (min / median) | peer (min / median) | ratio (median; min) | goal | |"
    );
    let _ = writeln!(t, "| --- | --- | --- | --- | --- | --- |");
    let ratio = |a: (f64, f64), b: (f64, f64)| (a.1 / b.1, a.0 / b.0);
    let mut row = |case: &str, lvsh: String, peer: String, r: (f64, f64), goal: &str, ok: bool| {
        let _ = writeln!(
            t,
            "| {case} | {lvsh} | {peer} | {:.2}× ({:.2}×) | {goal} | {} |",
            r.0,
            r.1,
            verdict(ok)
        );
    };

    let lvsh = s.seconds("apply", "lvsh", mid);
    let ipvsadm = s.seconds("apply", "ipvsadm", mid);
    let floor = s.seconds("apply", "nlbatch", mid);
    let r = ratio(ipvsadm, lvsh);
    row(
        "apply from empty, 2,000 × 4",
        ms(lvsh),
        format!("ipvsadm -R {}", ms(ipvsadm)),
        r,
        "ipvsadm / lvsh ≥ 4",
        r.0 >= 4.0,
    );
    let r = ratio(lvsh, floor);
    row(
        "",
        String::new(),
        format!("nlbatch 2000 4 {}", ms(floor)),
        r,
        "lvsh / floor ≤ 1.25",
        r.0 <= 1.25,
    );

    let noop = s.seconds("noop", "lvsh", mid);
    let save = s.seconds("noop", "ipvsadm", mid);
    let dump = s.seconds("noop", "nlbatch", mid);
    let r = ratio(save, noop);
    row(
        "no-op re-apply, 2,000 × 4",
        ms(noop),
        format!("ipvsadm -S -n {}", ms(save)),
        r,
        "ipvsadm / lvsh ≥ 2",
        r.0 >= 2.0,
    );
    let r = ratio(noop, dump);
    row(
        "",
        String::new(),
        format!("nlbatch r 2000 {}", ms(dump)),
        r,
        "lvsh / floor ≤ 1.5",
        r.0 <= 1.5,
    );

    let change = s.seconds("change", "lvsh", mid);
    let reconcile = s.seconds("change", "ipvsadm", mid);
    let r = ratio(reconcile, change);
    row(
        "1% change, 2,000 × 4",
        ms(change),
        format!("ipvsadm -S -n + -R {}", ms(reconcile)),
        r,
        "ipvsadm / lvsh ≥ 2",
        r.0 >= 2.0,
    );
    let r = ratio(change, noop);
    row(
        "",
        String::new(),
        format!("lvsh no-op {}", ms(noop)),
        r,
        "change / no-op ≤ 1.5",
        r.0 <= 1.5,
    );

    let sizes: Vec<u64> = {
        let mut v: Vec<u64> = runs
            .iter()
            .filter(|r| r.case == "apply" && r.tool == "lvsh")
            .map(|r| r.n)
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let per_object = |n: u64| {
        let (min, median) = s.seconds("apply", "lvsh", n);
        let objects = (n * 5) as f64;
        (min / objects, median / objects)
    };
    let (small, large) = (sizes[0], sizes[sizes.len() - 1]);
    let cells: Vec<String> = sizes
        .iter()
        .map(|&n| {
            let (min, median) = per_object(n);
            format!("{n}: {:.1} / {:.1} µs", min * 1e6, median * 1e6)
        })
        .collect();
    let r = ratio(per_object(large), per_object(small));
    row(
        "scaling: lvsh apply per object",
        cells.join("; "),
        String::new(),
        r,
        &format!("{large} vs {small} ≤ 1.3"),
        r.0 <= 1.3,
    );

    let (rss_min, rss_median) = min_median(
        s.select("apply", "lvsh", large)
            .iter()
            .map(|r| r.rss_kib as f64)
            .collect(),
    );
    let _ = writeln!(
        t,
        "| peak memory, apply of {large} × 4 | {:.1} / {:.1} MiB | | | < 32 MiB | {} |",
        rss_min / 1024.0,
        rss_median / 1024.0,
        verdict(rss_median < 32.0 * 1024.0)
    );

    for n in [mid, large] {
        let shares: Vec<f64> = s
            .select("apply", "lvsh", n)
            .iter()
            .map(|r| {
                let own =
                    r.phases.get("evaluate").unwrap_or(&0.0) + r.phases.get("plan").unwrap_or(&0.0);
                own / r.seconds
            })
            .collect();
        let (min, median) = min_median(shares);
        let _ = writeln!(
            t,
            "| evaluate + plan share of a full apply, {n} × 4 | {:.1}% / {:.1}% | | | < 10% | {} |",
            min * 100.0,
            median * 100.0,
            verdict(median < 0.10)
        );
    }

    let _ = writeln!(
        t,
        "\nlvsh's phases (`-v`), median of the runs, ms (open and read run beside evaluate; \
         wait is the part of them left after it):\n"
    );
    let names = [
        "evaluate", "wait", "open", "read", "plan", "show", "apply", "re-read",
    ];
    let _ = writeln!(t, "| run | wall | {} | peak MiB |", names.join(" | "));
    let _ = writeln!(t, "| --- | --- |{} --- |", " --- |".repeat(names.len()));
    let mut lines = vec![];
    for &n in &sizes {
        lines.push(("apply", n));
    }
    lines.push(("noop", mid));
    lines.push(("change", mid));
    for (case, n) in lines {
        let chosen = s.select(case, "lvsh", n);
        let med = |f: &dyn Fn(&Run) -> f64| min_median(chosen.iter().map(|r| f(r)).collect()).1;
        let mut cells = vec![format!("{:.0}", med(&|r| r.seconds) * 1e3)];
        for name in names {
            cells.push(format!(
                "{:.1}",
                med(&|r| *r.phases.get(name).unwrap_or(&0.0)) * 1e3
            ));
        }
        cells.push(format!("{:.1}", med(&|r| r.rss_kib as f64) / 1024.0));
        let _ = writeln!(t, "| {case} {n} × 4 | {} |", cells.join(" | "));
    }
    t
}

#[test]
fn result_lines_parse_with_their_phases() {
    let runs = parse(
        "noise\nresult case=apply tool=lvsh n=500 run=1 seconds=0.250000 rss_kib=9000 | \
         timings: evaluate 12.5 ms, read 3.0 ms, apply 200.0 ms (2500 IPVS requests), re-read 20.0 ms; peak memory 8.8 MiB\n\
         result case=apply tool=ipvsadm n=2000 run=1 seconds=2.5 rss_kib=1000 \n",
    );
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].n, 500);
    assert_eq!(runs[0].phases["evaluate"], 0.0125);
    assert_eq!(runs[0].phases["apply"], 0.2);
    assert_eq!(runs[0].phases["re-read"], 0.02);
    assert_eq!(runs[1].tool, "ipvsadm");
    assert!(runs[1].phases.is_empty());
    assert_eq!(min_median(vec![3.0, 1.0, 2.0]), (1.0, 2.0));
}
