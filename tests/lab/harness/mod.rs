//! The host side of the kernel lab: checks this machine, builds the VM image,
//! boots it once for many scenarios and turns the VM's report into one
//! outcome per scenario. The VM side is `tests/lab/vm/init`.

mod cpio;
mod host;
mod image;
pub mod outcome;
pub mod plan;
mod transcript;
mod vm;

use host::Host;
use outcome::Outcome;
use std::fmt::Write as _;
use std::fs;
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Runs kept under `target/lab/runs` for looking at afterwards.
const RUNS_KEPT: usize = 5;

pub struct Config {
    /// The repository (the crate's manifest folder).
    pub repo: PathBuf,
    /// Where images and runs are kept: `target/lab`.
    pub work: PathBuf,
    /// The lvsh binary under test (`LAB_LVSH` overrides the one cargo built, e.g.
    /// with `target/release/lvsh`).
    pub lvsh: PathBuf,
    /// The folders under `tests/lab` whose scripts go into the image.
    pub folders: Vec<String>,
    /// More programs for the VM: host file, path inside the image.
    pub extra: Vec<(PathBuf, String)>,
    /// Only these scenarios (`LAB_SCENARIO`); all when `None`.
    pub only: Option<Vec<String>>,
    /// More kernel command line, for tests of the harness itself.
    pub cmdline: String,
    /// Echo the VM's report as it arrives (`LAB_VERBOSE`).
    pub verbose: bool,
    /// The VM's virtual CPUs: 2 (`LAB_SMP` for another count).
    pub cpus: u32,
}

impl Config {
    /// The lab as the test binary runs it, honouring `LAB_SCENARIO` and `LAB_VERBOSE`.
    pub fn from_env(repo: &str, target_tmp: &str, lvsh: &str) -> Config {
        let only = std::env::var("LAB_SCENARIO")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|value| {
                value
                    .split([',', ' '])
                    .filter(|name| !name.is_empty())
                    .map(String::from)
                    .collect()
            });
        let target = Path::new(target_tmp)
            .parent()
            .unwrap_or(Path::new(target_tmp));
        Config {
            repo: repo.into(),
            work: target.join("lab"),
            lvsh: std::env::var_os("LAB_LVSH")
                .filter(|v| !v.is_empty())
                .map_or_else(|| lvsh.into(), PathBuf::from),
            folders: plan::FOLDERS.iter().map(|f| f.to_string()).collect(),
            extra: Vec::new(),
            only,
            cmdline: String::new(),
            verbose: std::env::var_os("LAB_VERBOSE").is_some_and(|v| !v.is_empty()),
            cpus: std::env::var("LAB_SMP")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(2),
        }
    }
}

/// One boot of the lab and what came of it.
pub struct Lab {
    /// Why the boot as a whole went wrong, if it did (scenario results may still exist).
    pub error: Option<String>,
    /// Timings and results, for people.
    pub summary: String,
    outcomes: Vec<Outcome>,
    only: Option<Vec<String>>,
}

impl Lab {
    /// Boots the lab and runs the scenarios; never panics, every problem lands in the result.
    pub fn run(config: &Config) -> Lab {
        let mut lab = Lab {
            error: None,
            summary: String::new(),
            outcomes: Vec::new(),
            only: config.only.clone(),
        };
        if let Err(error) = lab.boot(config) {
            lab.error = Some(error);
        }
        lab
    }

    /// The outcome of one scenario, or why there is none.
    pub fn outcome(&self, name: &str) -> Result<&Outcome, String> {
        if let Some(outcome) = self.outcomes.iter().find(|o| o.name == name) {
            return Ok(outcome);
        }
        Err(match (&self.error, &self.only) {
            (Some(error), _) => format!("the kernel lab did not run scenario `{name}`: {error}"),
            (None, Some(only)) => {
                format!(
                    "scenario `{name}` was not run: LAB_SCENARIO={} chose the others",
                    only.join(",")
                )
            }
            (None, None) => {
                format!("there is no lab scenario `{name}` (tests/lab/scenarios/{name}.sh)")
            }
        })
    }

    fn boot(&mut self, config: &Config) -> Result<(), String> {
        let host = Host::probe()?;
        let all = plan::discover_in(&config.repo.join("tests/lab"), &config.folders)?;
        let chosen = plan::select(&all, config.only.as_deref())?;
        let image = image::build(&host, config, &all)?;
        let run_dir = new_run_dir(&config.work)?;
        let token = token();
        let mut cmdline = config.cmdline.clone();
        if let Some(only) = &config.only {
            cmdline = format!("lab.only={} {cmdline}", only.join(","));
        }
        let boot = vm::Boot {
            host: &host,
            image: &image.path,
            run_dir: &run_dir,
            token: &token,
            cmdline: &cmdline,
            scenarios: &chosen,
            verbose: config.verbose,
            cpus: config.cpus,
        };
        let watched = boot.run()?;

        let problem = match &watched.stop {
            vm::Stop::Killed(reason) => Some(format!("{reason}; the host killed the VM")),
            vm::Stop::Exited(status) if watched.transcript.ready.is_none() => Some(format!(
                "the VM did not boot: qemu ended ({status}) before the VM was ready"
            )),
            vm::Stop::Exited(status) if watched.transcript.done.is_none() => {
                let during = watched
                    .transcript
                    .open_run()
                    .map(|run| format!(" during scenario `{}`", run.name))
                    .unwrap_or_default();
                Some(format!(
                    "the VM stopped ({status}){during}, before it had run every scenario"
                ))
            }
            vm::Stop::Exited(status) if !status.success() => {
                Some(format!("qemu failed ({status})"))
            }
            vm::Stop::Exited(_) => None,
        };
        self.outcomes = outcome::outcomes(&chosen, &watched.transcript, problem.as_deref());
        self.summary = summary(&host, &image, &watched, &self.outcomes, &run_dir);
        let _ = fs::write(run_dir.join("summary.txt"), &self.summary);
        if let Some(problem) = problem {
            let mut error = format!("{problem}\n");
            for (what, file) in [
                ("qemu's own output", boot.qemu_log()),
                ("the kernel console", boot.console_log()),
            ] {
                let text = fs::read_to_string(&file).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(25).collect();
                if !tail.is_empty() {
                    let _ = writeln!(error, "--- last lines of {what} ({}) ---", file.display());
                    for line in tail.iter().rev() {
                        let _ = writeln!(error, "{}", line.trim_end_matches('\r'));
                    }
                }
            }
            if !watched.transcript.stray.trim().is_empty() {
                let _ = write!(
                    error,
                    "--- report lines outside any scenario ---\n{}",
                    watched.transcript.stray
                );
            }
            return Err(error);
        }
        Ok(())
    }
}

fn summary(
    host: &Host,
    image: &image::Built,
    watched: &vm::Watched,
    outcomes: &[Outcome],
    run_dir: &Path,
) -> String {
    let mut text = String::new();
    let cached = if image.cached { "cached" } else { "built" };
    let _ = writeln!(
        text,
        "image: {} ({:.1} MB, {cached} in {:.2} s), kernel {}",
        image.path.display(),
        image.bytes as f64 / 1e6,
        image.seconds,
        host.kernel.release
    );
    match (watched.ready_at, &watched.transcript.ready) {
        (Some(at), Some((uptime, _))) => {
            let _ = writeln!(
                text,
                "boot: ready {at:.2} s after qemu started (VM uptime {uptime:.2} s)"
            );
        }
        _ => {
            let _ = writeln!(text, "boot: the VM never became ready");
        }
    }
    let _ = writeln!(
        text,
        "{:<34} {:<20} {:>8} {:>8}",
        "scenario", "result", "VM s", "host s"
    );
    for outcome in outcomes {
        let vm = outcome
            .seconds
            .map(|s| format!("{s:.2}"))
            .unwrap_or_else(|| "-".into());
        let host = match watched.scenario_at.get(&outcome.name) {
            Some((began, Some(ended))) => format!("{:.2}", ended - began),
            _ => "-".into(),
        };
        let _ = writeln!(
            text,
            "{:<34} {:<20} {vm:>8} {host:>8}",
            outcome.name,
            outcome.label()
        );
    }
    let _ = writeln!(
        text,
        "total: {:.2} s from qemu's start to its end",
        watched.total
    );
    let _ = writeln!(
        text,
        "run folder: {} (console.log, channel.log, qemu.log)",
        run_dir.display()
    );
    text
}

/// A fresh folder for this boot's logs; older ones beyond the last few go.
fn new_run_dir(work: &Path) -> Result<PathBuf, String> {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let runs = work.join("runs");
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = format!(
        "{secs:011}-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    );
    let dir = runs.join(name);
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    if let Ok(entries) = fs::read_dir(&runs) {
        let mut old: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        old.sort();
        old.truncate(old.len().saturating_sub(RUNS_KEPT));
        for path in old {
            let _ = fs::remove_dir_all(path);
        }
    }
    Ok(dir)
}

/// A token no scenario output will contain by chance.
fn token() -> String {
    format!("{:016x}", RandomState::new().hash_one(SystemTime::now()))
}
