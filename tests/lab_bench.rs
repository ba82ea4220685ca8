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
        (
            compile(
                &repo.join("tests/lab/bench/dumpfloor.c"),
                &tools.join("dumpfloor"),
            ),
            "/lab/bin/dumpfloor".into(),
        ),
    ];
    config.folders = vec!["bench".into()];
    // LAB_SCENARIO may name another script of tests/lab/bench (a probe).
    config.only = config.only.or_else(|| Some(vec!["bench".into()]));
    println!("lvsh under test: {}", config.lvsh.display());

    // LAB_SMP: the virtual CPU counts to boot with, one boot each ("2 1" by
    // tests/lab/bench.sh; 2 alone when unset).
    let counts: Vec<u32> = std::env::var("LAB_SMP")
        .unwrap_or_else(|_| "2".into())
        .split([',', ' '])
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.parse()
                .unwrap_or_else(|_| panic!("LAB_SMP: `{c}` is not a CPU count"))
        })
        .collect();
    let mut report = String::new();
    for cpus in counts {
        config.cpus = cpus;
        println!("booting with {cpus} virtual CPU(s)");
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
            continue;
        }
        let machine = outcome
            .output
            .lines()
            .find_map(|l| l.strip_prefix("machine: "))
            .unwrap_or("?");
        let runs = parse(&outcome.output);
        let _ = writeln!(report, "## {cpus} vCPU(s): {machine}\n\n{}", table(&runs));
        println!("{report}");
        // Written after each boot, so that a later boot's failure keeps the first.
        let out = config.work.join("bench-results.md");
        std::fs::write(&out, &report).unwrap();
        println!("written to {}", out.display());
    }
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
    /// `loop` or `literal` for lvsh, `-` for the peers.
    script: String,
    /// `cold` or `warm` for lvsh, `-` for the peers.
    cache: String,
    n: u64,
    seconds: f64,
    rss_kib: u64,
    /// lvsh's own phases (`-v`: the apply's, then the evaluation's), in seconds.
    phases: BTreeMap<String, f64>,
}

fn parse(output: &str) -> Vec<Run> {
    output
        .lines()
        .filter_map(|line| line.strip_prefix("result "))
        .map(|line| {
            let (fields, timings) = line.split_once(" | ").unwrap_or((line, ""));
            let find = |key: &str| {
                fields
                    .split_whitespace()
                    .find_map(|f| f.strip_prefix(key)?.strip_prefix('='))
            };
            let get = |key: &str| find(key).unwrap_or_else(|| panic!("no `{key}` in `{line}`"));
            let mut phases = BTreeMap::new();
            let timings = timings.strip_prefix("timings: ").unwrap_or("");
            for part in timings.split([';', ',']) {
                let words: Vec<&str> = part.split_whitespace().collect();
                if let [name, value, "ms", ..] = words[..] {
                    phases.insert(name.to_string(), value.parse::<f64>().unwrap() / 1e3);
                }
            }
            Run {
                case: get("case").into(),
                tool: get("tool").into(),
                script: find("script").unwrap_or("-").into(),
                cache: find("cache").unwrap_or("-").into(),
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

/// Which runs: a case, a tool, and for lvsh its script and cache (`-` for peers).
#[derive(Clone, Copy)]
struct Sel<'a> {
    case: &'a str,
    tool: &'a str,
    script: &'a str,
    cache: &'a str,
    n: u64,
}

fn peer<'a>(case: &'a str, tool: &'a str, n: u64) -> Sel<'a> {
    Sel {
        case,
        tool,
        script: "-",
        cache: "-",
        n,
    }
}

fn lvsh<'a>(case: &'a str, script: &'a str, cache: &'a str, n: u64) -> Sel<'a> {
    Sel {
        case,
        tool: "lvsh",
        script,
        cache,
        n,
    }
}

struct Stats<'a> {
    runs: &'a [Run],
}

impl Stats<'_> {
    fn select(&self, w: Sel) -> Vec<&Run> {
        let chosen: Vec<&Run> = self
            .runs
            .iter()
            .filter(|r| {
                r.case == w.case
                    && r.tool == w.tool
                    && r.n == w.n
                    && r.script == w.script
                    && r.cache == w.cache
            })
            .collect();
        assert!(
            !chosen.is_empty(),
            "no `{}` runs of {} {} {} at n = {}",
            w.case,
            w.tool,
            w.script,
            w.cache,
            w.n
        );
        chosen
    }

    fn seconds(&self, w: Sel) -> (f64, f64) {
        min_median(self.select(w).iter().map(|r| r.seconds).collect())
    }
}

fn ms((min, median): (f64, f64)) -> String {
    format!("{:.0} / {:.0} ms", min * 1e3, median * 1e3)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

const SCRIPTS: [&str; 2] = ["loop", "literal"];
const CACHES: [&str; 2] = ["cold", "warm"];

/// The results as the Markdown tables of BENCHMARKS.md: issue 16's goals, then
/// every time as min / median of the runs (ratios of medians, of mins in
/// parentheses), then lvsh's phases.
fn table(runs: &[Run]) -> String {
    let s = Stats { runs };
    let mid = 2000;
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
    let (small, large) = (sizes[0], sizes[sizes.len() - 1]);
    let ratio = |a: (f64, f64), b: (f64, f64)| (a.1 / b.1, a.0 / b.0);

    let save = s.seconds(peer("noop", "ipvsadm", mid));
    let dump = s.seconds(peer("noop", "nlbatch", mid));
    let small_dump = s.seconds(peer("noop", "dumpfloor", mid));
    let restore = s.seconds(peer("apply", "ipvsadm", mid));
    let write_floor = s.seconds(peer("apply", "nlbatch", mid));
    let reconcile = s.seconds(peer("change", "ipvsadm", mid));

    let mut t = String::new();
    let _ = writeln!(
        t,
        "| goal (issue 16), 2,000 × 4 | script | cache | lvsh (min / median) | peer (min / median) | ratio (median; min) | |"
    );
    let _ = writeln!(t, "| --- | --- | --- | --- | --- | --- | --- |");
    let mut goal = |name: &str,
                    script: &str,
                    cache: &str,
                    lv: (f64, f64),
                    peer: String,
                    r: (f64, f64),
                    ok: bool| {
        let _ = writeln!(
            t,
            "| {name} | {script} | {cache} | {} | {peer} | {:.2}× ({:.2}×) | {} |",
            ms(lv),
            r.0,
            r.1,
            verdict(ok)
        );
    };
    for script in SCRIPTS {
        let lv = s.seconds(lvsh("noop", script, "warm", mid));
        let r = ratio(save, lv);
        goal(
            "no-op: ipvsadm -S -n / lvsh ≥ 2",
            script,
            "warm",
            lv,
            format!("ipvsadm -S -n {}", ms(save)),
            r,
            r.0 >= 2.0,
        );
        let r = ratio(lv, dump);
        goal(
            "no-op: lvsh / dump floor ≤ 1.5",
            script,
            "warm",
            lv,
            format!("nlbatch r {}", ms(dump)),
            r,
            r.0 <= 1.5,
        );
        let lv = s.seconds(lvsh("noop", script, "cold", mid));
        let r = ratio(save, lv);
        goal(
            "no-op: ipvsadm -S -n / lvsh ≥ 1",
            script,
            "cold",
            lv,
            format!("ipvsadm -S -n {}", ms(save)),
            r,
            r.0 >= 1.0,
        );
    }
    for (case, name, peer, peer_time, at_least) in [
        (
            "apply",
            "apply from empty: ipvsadm -R / lvsh ≥ 4",
            "ipvsadm -R",
            restore,
            4.0,
        ),
        (
            "change",
            "1% change: reconciler / lvsh ≥ 2",
            "ipvsadm -S -n + awk + -R",
            reconcile,
            2.0,
        ),
    ] {
        for script in SCRIPTS {
            for cache in CACHES {
                let lv = s.seconds(lvsh(case, script, cache, mid));
                let r = ratio(peer_time, lv);
                goal(
                    name,
                    script,
                    cache,
                    lv,
                    format!("{peer} {}", ms(peer_time)),
                    r,
                    r.0 >= at_least,
                );
            }
        }
    }
    let large_runs = s.select(lvsh("apply", "loop", "cold", large));
    let (rss_min, rss_median) = min_median(large_runs.iter().map(|r| r.rss_kib as f64).collect());
    let _ = writeln!(
        t,
        "| peak memory, apply from empty of {large} × 4 < 32 MiB | loop | cold | {:.1} / {:.1} MiB | | | {} |",
        rss_min / 1024.0,
        rss_median / 1024.0,
        verdict(rss_median < 32.0 * 1024.0)
    );

    let _ = writeln!(
        t,
        "\nOther measures: the write floor, the read floor at lvsh's receive lengths \
         (`dumpfloor`: one socket lists the services, another dumps destinations) and \
         scaling (not goals of issue 16).\n"
    );
    let _ = writeln!(t, "| measure | lvsh (min / median) | ratio (median; min) |");
    let _ = writeln!(t, "| --- | --- | --- |");
    let mut against_floor = |what: String, lv: (f64, f64), floor: (f64, f64)| {
        let r = ratio(lv, floor);
        let _ = writeln!(
            t,
            "| {what} ({}) | {} | {:.2}× ({:.2}×) |",
            ms(floor),
            ms(lv),
            r.0,
            r.1
        );
    };
    for script in SCRIPTS {
        for cache in CACHES {
            against_floor(
                format!("apply from empty, {script} {cache}, / nlbatch {mid} 4"),
                s.seconds(lvsh("apply", script, cache, mid)),
                write_floor,
            );
        }
        against_floor(
            format!("no-op, {script} warm, / dumpfloor"),
            s.seconds(lvsh("noop", script, "warm", mid)),
            small_dump,
        );
    }
    let per_object = |n: u64| {
        let (min, median) = s.seconds(lvsh("apply", "loop", "cold", n));
        let objects = (n * 5) as f64;
        (min / objects, median / objects)
    };
    let cells: Vec<String> = sizes
        .iter()
        .map(|&n| {
            let (min, median) = per_object(n);
            format!("{n}: {:.1} / {:.1} µs", min * 1e6, median * 1e6)
        })
        .collect();
    let r = ratio(per_object(large), per_object(small));
    let _ = writeln!(
        t,
        "| per object, apply from empty, loop cold ({large} vs {small}) | {} | {:.2}× ({:.2}×) |",
        cells.join("; "),
        r.0,
        r.1
    );

    let _ = writeln!(
        t,
        "\nlvsh's phases (`-v`), median of the runs, ms. open and read run beside the \
         evaluation (wait is what is left of them after it); engine, parse, run and validate \
         are the evaluation's parts (none when the entry came from the cache):\n"
    );
    let names = [
        "evaluate", "engine", "parse", "run", "validate", "wait", "open", "read", "plan", "show",
        "apply", "re-read",
    ];
    let _ = writeln!(t, "| run | wall | {} | peak MiB |", names.join(" | "));
    let _ = writeln!(t, "| --- | --- |{} --- |", " --- |".repeat(names.len()));
    let mut lines = vec![];
    for &n in &sizes {
        if n != mid {
            lines.push(("apply", "loop", "cold", n));
        }
    }
    for case in ["apply", "noop", "change"] {
        for script in SCRIPTS {
            for cache in CACHES {
                lines.push((case, script, cache, mid));
            }
        }
    }
    for (case, script, cache, n) in lines {
        let chosen = s.select(lvsh(case, script, cache, n));
        let med = |f: &dyn Fn(&Run) -> f64| min_median(chosen.iter().map(|r| f(r)).collect()).1;
        let mut cells = vec![format!("{:.0}", med(&|r| r.seconds) * 1e3)];
        for name in names {
            cells.push(format!(
                "{:.1}",
                med(&|r| *r.phases.get(name).unwrap_or(&0.0)) * 1e3
            ));
        }
        cells.push(format!("{:.1}", med(&|r| r.rss_kib as f64) / 1024.0));
        let _ = writeln!(
            t,
            "| {case} {script} {cache} {n} × 4 | {} |",
            cells.join(" | ")
        );
    }
    t
}

#[test]
fn result_lines_parse_with_their_phases() {
    let runs = parse(
        "noise\nresult case=apply tool=lvsh script=loop cache=cold n=500 run=1 seconds=0.250000 rss_kib=9000 | \
         timings: evaluate 12.5 ms, read 3.0 ms, apply 200.0 ms (2500 IPVS requests), re-read 20.0 ms; peak memory 8.8 MiB; \
         engine 0.5 ms, parse 4.0 ms, run 6.0 ms, validate 1.0 ms\n\
         result case=apply tool=ipvsadm script=- cache=- n=2000 run=1 seconds=2.5 rss_kib=1000 \n",
    );
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].n, 500);
    assert_eq!(runs[0].script, "loop");
    assert_eq!(runs[0].cache, "cold");
    assert_eq!(runs[0].phases["evaluate"], 0.0125);
    assert_eq!(runs[0].phases["apply"], 0.2);
    assert_eq!(runs[0].phases["re-read"], 0.02);
    assert_eq!(runs[0].phases["parse"], 0.004);
    assert_eq!(runs[0].phases["validate"], 0.001);
    assert_eq!(runs[1].tool, "ipvsadm");
    assert_eq!(runs[1].script, "-");
    assert!(runs[1].phases.is_empty());
    assert_eq!(min_median(vec![3.0, 1.0, 2.0]), (1.0, 2.0));
}

#[test]
fn the_table_has_every_goal_and_floor_row() {
    let mut lines = String::new();
    let mut line = |case: &str, tool: &str, script: &str, cache: &str, n: u64, secs: f64| {
        lines.push_str(&format!(
            "result case={case} tool={tool} script={script} cache={cache} n={n} run=1 \
             seconds={secs} rss_kib=30000 | timings: read 1.0 ms\n"
        ));
    };
    for case in ["apply", "noop", "change"] {
        for script in SCRIPTS {
            for cache in CACHES {
                line(case, "lvsh", script, cache, 2000, 0.5);
            }
        }
    }
    line("apply", "lvsh", "loop", "cold", 500, 0.2);
    line("apply", "lvsh", "loop", "cold", 10000, 2.0);
    for (case, tool, secs) in [
        ("noop", "ipvsadm", 1.0),
        ("noop", "nlbatch", 0.4),
        ("noop", "dumpfloor", 0.25),
        ("apply", "ipvsadm", 3.0),
        ("apply", "nlbatch", 0.2),
        ("change", "ipvsadm", 2.0),
    ] {
        line(case, tool, "-", "-", 2000, secs);
    }
    let table = table(&parse(&lines));
    for row in [
        "| no-op: ipvsadm -S -n / lvsh ≥ 2 | loop | warm | 500 / 500 ms | ipvsadm -S -n 1000 / 1000 ms | 2.00× (2.00×) | met |",
        "| apply from empty: ipvsadm -R / lvsh ≥ 4 | literal | cold | 500 / 500 ms | ipvsadm -R 3000 / 3000 ms | 6.00× (6.00×) | met |",
        "| apply from empty, literal warm, / nlbatch 2000 4 (200 / 200 ms) | 500 / 500 ms | 2.50× (2.50×) |",
        "| no-op, loop warm, / dumpfloor (250 / 250 ms) | 500 / 500 ms | 2.00× (2.00×) |",
        "| no-op, literal warm, / dumpfloor (250 / 250 ms) | 500 / 500 ms | 2.00× (2.00×) |",
    ] {
        assert!(table.contains(row), "no `{row}` in:\n{table}");
    }
}
