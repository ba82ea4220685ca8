//! The host side of the boot lab: a Debian root file system with systemd,
//! booted under qemu with the lab kernel, where the `.deb` is installed and
//! scenarios run across reboots (`tests/lab/boot/plan`). It reuses the kernel
//! lab's host checks, report protocol and outcomes (`tests/lab/harness`).

mod disk;
mod machine;
mod rootfs;
pub mod steps;

#[allow(dead_code)] // the parts the initramfs lab uses only
#[path = "../../harness/host.rs"]
mod host;
#[allow(dead_code)]
#[path = "../../harness/outcome.rs"]
pub mod outcome;
#[allow(dead_code)]
#[path = "../../harness/plan.rs"]
pub mod plan;
#[allow(dead_code)]
#[path = "../../harness/transcript.rs"]
mod transcript;

use outcome::Outcome;
use std::fmt::Write as _;
use std::fs;
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const RUNS_KEPT: usize = 3;

pub struct Config {
    pub repo: PathBuf,
    /// `target/lab/boot`: the cached root file system and the runs.
    pub work: PathBuf,
    /// A `.deb` to install instead of building one (`LAB_BOOT_DEB`).
    pub deb: Option<PathBuf>,
    /// The dev binary cargo built, which the `.deb` packs.
    pub lvsh: PathBuf,
    /// Only these scenarios (`LAB_SCENARIO`); reboots always happen.
    pub only: Option<Vec<String>>,
    /// Echo the report channel as it arrives (`LAB_VERBOSE`).
    pub verbose: bool,
    /// More kernel command line (`LAB_CMDLINE`), e.g. `systemd.show_status=1`
    /// to see on the console what a slow boot waits for.
    pub cmdline: String,
}

impl Config {
    pub fn from_env(repo: &str, target_tmp: &str, lvsh: &str) -> Config {
        let target = Path::new(target_tmp)
            .parent()
            .unwrap_or(Path::new(target_tmp));
        let var = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Config {
            repo: repo.into(),
            work: target.join("lab/boot"),
            deb: var("LAB_BOOT_DEB").map(PathBuf::from),
            lvsh: lvsh.into(),
            only: var("LAB_SCENARIO").map(|v| {
                v.split([',', ' '])
                    .filter(|n| !n.is_empty())
                    .map(String::from)
                    .collect()
            }),
            verbose: var("LAB_VERBOSE").is_some(),
            cmdline: var("LAB_CMDLINE").unwrap_or_default(),
        }
    }
}

pub struct BootLab {
    pub error: Option<String>,
    pub summary: String,
    /// How many times the VM said it was ready: one per boot.
    pub boots: usize,
    outcomes: Vec<Outcome>,
}

impl BootLab {
    pub fn run(config: &Config) -> BootLab {
        let mut lab = BootLab {
            error: None,
            summary: String::new(),
            boots: 0,
            outcomes: Vec::new(),
        };
        if let Err(error) = lab.boot(config) {
            lab.error = Some(error);
        }
        lab
    }

    pub fn outcome(&self, name: &str) -> Result<&Outcome, String> {
        self.outcomes
            .iter()
            .find(|o| o.name == name)
            .ok_or_else(|| match &self.error {
                Some(error) => format!("the boot lab did not run scenario `{name}`: {error}"),
                None => format!("scenario `{name}` was not run (LAB_SCENARIO chose others)"),
            })
    }

    fn boot(&mut self, config: &Config) -> Result<(), String> {
        let started = Instant::now();
        let host = host::Host::probe()?;
        let plan = steps::Plan::load(&config.repo.join("tests/lab/boot"))?;
        let chosen: Vec<plan::Scenario> = plan
            .scenarios()
            .into_iter()
            .filter(|s| {
                config
                    .only
                    .as_ref()
                    .is_none_or(|only| only.contains(&s.name))
            })
            .collect();
        let rootfs = rootfs::ensure(&host, &config.repo, &config.work)?;
        let deb_started = Instant::now();
        let deb = match &config.deb {
            Some(deb) => Ok(deb.clone()),
            None => build_deb(&config.repo, &config.lvsh),
        };
        let deb_seconds = deb_started.elapsed().as_secs_f64();
        let run_dir = new_run_dir(&config.work)?;
        let disk = disk::build(
            &host,
            &run_dir,
            &disk::Contents {
                repo: &config.repo,
                plan: &plan.file(),
                deb: &deb,
            },
        )?;
        // The VM's own root disk for this run: it persists across the run's
        // reboots, and the cached image stays as built.
        let root = run_dir.join("root.img");
        let copied = Command::new("cp")
            .arg("--sparse=always")
            .arg(&rootfs.path)
            .arg(&root)
            .status()
            .map_err(|e| format!("cannot run cp: {e}"))?;
        if !copied.success() {
            return Err(format!(
                "cannot copy `{}` to `{}`",
                rootfs.path.display(),
                root.display()
            ));
        }
        let prepared = started.elapsed().as_secs_f64();
        let token = format!("{:016x}", RandomState::new().hash_one(SystemTime::now()));
        let cmdline = match &config.only {
            Some(only) => format!("lab.only={} {}", only.join(","), config.cmdline),
            None => config.cmdline.clone(),
        };
        let boot = machine::Boot {
            host: &host,
            rootfs: &root,
            disk: &disk,
            run_dir: &run_dir,
            token: &token,
            cmdline: &cmdline,
            scenarios: &chosen,
            boots: plan.boots(),
            verbose: config.verbose,
        };
        let watched = boot.run();
        let _ = fs::remove_file(&root);
        let watched = watched?;
        self.boots = watched.readies.len();
        let problem = match &watched.stop {
            machine::Stop::Killed(reason) => Some(format!("{reason}; the host killed the VM")),
            machine::Stop::Exited(status) if watched.readies.is_empty() => Some(format!(
                "the VM did not boot: qemu ended ({status}) before the VM was ready"
            )),
            machine::Stop::Exited(status) if watched.transcript.done.is_none() => Some(format!(
                "the VM stopped ({status}) before it had run every step"
            )),
            machine::Stop::Exited(_) if self.boots != plan.boots() => Some(format!(
                "the VM booted {} times, the plan has {} boots",
                self.boots,
                plan.boots()
            )),
            machine::Stop::Exited(_) => None,
        };
        self.outcomes = outcome::outcomes(&chosen, &watched.transcript, problem.as_deref());

        let mut text = String::new();
        let how = if rootfs.cached { "cached" } else { "built" };
        let _ = writeln!(
            text,
            "root file system: {} ({how}, {:.1} s; mirror {}), kernel {}",
            rootfs.path.display(),
            rootfs.seconds,
            rootfs.mirror,
            host.kernel.release
        );
        let _ = writeln!(
            text,
            ".deb: {} ({deb_seconds:.1} s); ready to boot {prepared:.1} s after the start",
            match &deb {
                Ok(path) => path.display().to_string(),
                Err(why) => format!("none: {why}"),
            }
        );
        let readies: Vec<String> = watched.readies.iter().map(|s| format!("{s:.1}")).collect();
        let _ = writeln!(
            text,
            "boots: {} (ready at {} s after qemu started)",
            self.boots,
            readies.join(", ")
        );
        let _ = writeln!(text, "{:<24} {:<20} {:>8}", "scenario", "result", "VM s");
        for outcome in &self.outcomes {
            let seconds = outcome
                .seconds
                .map_or_else(|| "-".into(), |s| format!("{s:.2}"));
            let _ = writeln!(
                text,
                "{:<24} {:<20} {seconds:>8}",
                outcome.name,
                outcome.label()
            );
        }
        let _ = writeln!(
            text,
            "total: {:.1} s in qemu, {:.1} s with the preparation",
            watched.total,
            started.elapsed().as_secs_f64()
        );
        let _ = writeln!(
            text,
            "run folder: {} (console.log, channel.log, qemu.log)",
            run_dir.display()
        );
        let _ = fs::write(run_dir.join("summary.txt"), &text);
        self.summary = text;

        if let Some(problem) = problem {
            let mut error = format!("{problem}\n");
            for (what, file) in [
                ("qemu's own output", boot.qemu_log()),
                ("the console", boot.console_log()),
            ] {
                let text = fs::read_to_string(&file).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(30).collect();
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

/// The package as `packaging/build-deb.sh --dev` makes it from the dev binary
/// cargo built for the tests (no compile inside the test).
fn build_deb(repo: &Path, lvsh: &Path) -> Result<PathBuf, String> {
    let script = repo.join("packaging/build-deb.sh");
    if !script.is_file() {
        return Err(format!("there is no `{}` to build it", script.display()));
    }
    let output = Command::new("bash")
        .arg(&script)
        .arg("--dev")
        .env("LVSH_DEV_BIN", lvsh)
        .current_dir(repo)
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", script.display()))?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() {
        return Err(format!(
            "`LVSH_DEV_BIN={} bash packaging/build-deb.sh --dev` failed ({}):\n{said}",
            lvsh.display(),
            output.status
        ));
    }
    // cargo deb names the package it wrote.
    said.lines()
        .rev()
        .map(|line| repo.join(line.trim()))
        .find(|path| path.extension().is_some_and(|e| e == "deb") && path.is_file())
        .ok_or_else(|| format!("`bash packaging/build-deb.sh --dev` named no .deb:\n{said}"))
}

fn new_run_dir(work: &Path) -> Result<PathBuf, String> {
    let runs = work.join("runs");
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let dir = runs.join(format!("{secs:011}-{}", std::process::id()));
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
