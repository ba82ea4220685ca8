//! Boots the image under qemu and watches the report channel until the VM
//! powers off, killing it when a limit passes: the boot, a scenario that
//! outlives its own limit (the VM should have stopped it), silence between
//! scenarios, the power-off, and the whole run.

use super::host::Host;
use super::plan::Scenario;
use super::transcript::{Event, Transcript};
use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// TCG: KVM is not usable on the machines the lab runs on.
const QEMU_ARGS: [&str; 13] = [
    "-accel",
    "tcg",
    "-cpu",
    "max",
    "-m",
    "1024",
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-no-reboot",
    "-monitor",
    "none",
];
/// Seconds from qemu's start to the ready marker.
pub const BOOT_LIMIT: u64 = 120;
/// Seconds a scenario may run beyond its own limit before the host gives up on the VM.
pub const GRACE: u64 = 30;
/// Seconds of silence allowed outside a scenario (between two, and before power-off).
pub const QUIET_LIMIT: u64 = 60;
/// Seconds for the whole boot, whatever happens.
pub const TOTAL_LIMIT: u64 = 1500;

const POLL: Duration = Duration::from_millis(25);

pub struct Boot<'a> {
    pub host: &'a Host,
    pub image: &'a Path,
    pub run_dir: &'a Path,
    pub token: &'a str,
    /// The kernel command line after the lab's own part.
    pub cmdline: &'a str,
    /// The scenarios the VM will run, for their limits.
    pub scenarios: &'a [Scenario],
    /// Echo the channel to stderr as it arrives.
    pub verbose: bool,
    /// Virtual CPUs (`-smp`).
    pub cpus: u32,
}

/// How the boot went, seen from the host.
pub struct Watched {
    pub transcript: Transcript,
    pub stop: Stop,
    /// Seconds since qemu started when the VM said it was ready.
    pub ready_at: Option<f64>,
    /// Seconds since qemu started when each scenario began and ended.
    pub scenario_at: HashMap<String, (f64, Option<f64>)>,
    pub total: f64,
}

pub enum Stop {
    Exited(ExitStatus),
    /// The host killed qemu, for this reason.
    Killed(String),
}

impl Boot<'_> {
    pub fn console_log(&self) -> PathBuf {
        self.run_dir.join("console.log")
    }

    pub fn qemu_log(&self) -> PathBuf {
        self.run_dir.join("qemu.log")
    }

    fn channel_log(&self) -> PathBuf {
        self.run_dir.join("channel.log")
    }

    pub fn run(&self) -> Result<Watched, String> {
        let channel_path = self.channel_log();
        // Created before qemu opens it, so reading can start at once.
        let fail =
            |path: &Path, e: std::io::Error| format!("cannot create `{}`: {e}", path.display());
        fs::write(&channel_path, "").map_err(|e| fail(&channel_path, e))?;
        let qemu_log = fs::File::create(self.qemu_log()).map_err(|e| fail(&self.qemu_log(), e))?;
        let mut channel = fs::File::open(&channel_path).map_err(|e| fail(&channel_path, e))?;

        let mut command = Command::new(&self.host.qemu);
        command
            .args(QEMU_ARGS)
            .arg("-smp")
            .arg(self.cpus.to_string())
            .arg("-kernel")
            .arg(&self.host.kernel.image)
            .arg("-initrd")
            .arg(self.image)
            .arg("-append")
            .arg(format!(
                "console=ttyS0 quiet panic=-1 lab.token={} {}",
                self.token, self.cmdline
            ))
            .arg("-serial")
            .arg(format!("file:{}", self.console_log().display()))
            .arg("-serial")
            .arg(format!("file:{}", channel_path.display()))
            .stdin(Stdio::null())
            .stdout(
                qemu_log
                    .try_clone()
                    .map_err(|e| fail(&self.qemu_log(), e))?,
            )
            .stderr(qemu_log);
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to kill
        // qemu if the thread that started it dies (a test run cut short).
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let started = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", self.host.qemu.display()))?;

        let mut watched = Watched {
            transcript: Transcript::new(self.token),
            stop: Stop::Killed(String::new()),
            ready_at: None,
            scenario_at: HashMap::new(),
            total: 0.0,
        };
        let mut pending = Vec::new();
        let mut last_event = 0.0;
        loop {
            let exited = child
                .try_wait()
                .map_err(|e| format!("cannot wait for qemu: {e}"))?;
            // Read after checking the exit, so nothing written before it is missed.
            let _ = channel.read_to_end(&mut pending);
            let now = started.elapsed().as_secs_f64();
            let complete = pending
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let lines: Vec<u8> = pending.drain(..complete).collect();
            let mut events = self.feed(&mut watched.transcript, &String::from_utf8_lossy(&lines));
            if exited.is_some() {
                events.extend(watched.transcript.feed(&String::from_utf8_lossy(&pending)));
                events.extend(watched.transcript.finish());
            }
            for event in events {
                last_event = now;
                match event {
                    Event::Ready => watched.ready_at = Some(now),
                    Event::Begin(name) => {
                        watched.scenario_at.insert(name, (now, None));
                    }
                    Event::End(name) => {
                        if let Some(times) = watched.scenario_at.get_mut(&name) {
                            times.1 = Some(now);
                        }
                    }
                    Event::Done => {}
                }
            }
            if let Some(status) = exited {
                watched.stop = Stop::Exited(status);
                break;
            }
            if let Some(reason) = overdue(self.scenarios, &watched, now, last_event) {
                let _ = child.kill();
                let _ = child.wait();
                watched.stop = Stop::Killed(reason);
                break;
            }
            thread::sleep(POLL);
        }
        watched.total = started.elapsed().as_secs_f64();
        Ok(watched)
    }

    fn feed(&self, transcript: &mut Transcript, text: &str) -> Vec<Event> {
        if self.verbose {
            for line in text.lines() {
                eprintln!("lab| {line}");
            }
        }
        transcript.feed(text)
    }
}

/// Why the VM must be stopped now, if it must: `now` and `last_event` are
/// seconds since qemu started.
fn overdue(scenarios: &[Scenario], watched: &Watched, now: f64, last_event: f64) -> Option<String> {
    let transcript = &watched.transcript;
    let open = transcript.open_run();
    if now > TOTAL_LIMIT as f64 {
        let during = open
            .map(|run| format!(", during scenario `{}`", run.name))
            .unwrap_or_default();
        return Some(format!(
            "the boot took longer than its {TOTAL_LIMIT} s limit{during}"
        ));
    }
    if transcript.ready.is_none() {
        return (now > BOOT_LIMIT as f64).then(|| {
            format!("the VM did not boot: it was not ready {BOOT_LIMIT} s after qemu started")
        });
    }
    if let Some(run) = open {
        let limit = scenarios
            .iter()
            .find(|s| s.name == run.name)
            .map_or(0, |s| s.limit);
        let began = watched
            .scenario_at
            .get(&run.name)
            .map_or(last_event, |times| times.0);
        return (now > began + (limit as u64 + GRACE) as f64).then(|| {
            format!(
                "scenario `{}` hung: no end {} s after it began, though the VM should stop it after {limit} s",
                run.name,
                limit as u64 + GRACE
            )
        });
    }
    if now <= last_event + QUIET_LIMIT as f64 {
        return None;
    }
    Some(if transcript.done.is_some() {
        format!("the VM did not power off within {QUIET_LIMIT} s after its last scenario")
    } else {
        let after = transcript
            .runs
            .last()
            .map_or("it was ready".to_string(), |run| {
                format!("scenario `{}`", run.name)
            });
        format!("the VM stopped reporting: nothing for {QUIET_LIMIT} s after {after}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watched(channel: &str) -> Watched {
        let mut transcript = Transcript::new("t");
        transcript.feed(channel);
        let scenario_at = transcript
            .runs
            .iter()
            .map(|run| (run.name.clone(), (run.began, None)))
            .collect();
        Watched {
            transcript,
            stop: Stop::Killed(String::new()),
            ready_at: None,
            scenario_at,
            total: 0.0,
        }
    }

    fn scenarios() -> Vec<Scenario> {
        vec![Scenario::named("slow", 10)]
    }

    #[test]
    fn a_vm_that_is_not_ready_in_time_did_not_boot() {
        let booting = watched("");
        assert_eq!(overdue(&scenarios(), &booting, 100.0, 0.0), None);
        let why = overdue(&scenarios(), &booting, BOOT_LIMIT as f64 + 1.0, 0.0).unwrap();
        assert!(why.starts_with("the VM did not boot"), "{why}");
    }

    #[test]
    fn a_scenario_past_its_limit_and_the_grace_is_named_as_hung() {
        // Began 5 s after qemu started, limit 10 s.
        let running = watched("@@t ready 1 k\n@@t begin slow 5\n");
        let deadline = 5.0 + (10 + GRACE) as f64;
        assert_eq!(
            overdue(&scenarios(), &running, deadline - 1.0, 5.0),
            None,
            "silence inside a scenario is fine"
        );
        let why = overdue(&scenarios(), &running, deadline + 1.0, 5.0).unwrap();
        assert!(why.starts_with("scenario `slow` hung"), "{why}");
    }

    #[test]
    fn silence_outside_a_scenario_and_a_missing_power_off_are_named() {
        let between = watched("@@t ready 1 k\n@@t begin slow 5\n@@t end slow 0 exit 6\n");
        assert_eq!(
            overdue(&scenarios(), &between, 6.0 + QUIET_LIMIT as f64 - 1.0, 6.0),
            None
        );
        let why = overdue(&scenarios(), &between, 6.0 + QUIET_LIMIT as f64 + 1.0, 6.0).unwrap();
        assert!(
            why.contains("stopped reporting") && why.contains("after scenario `slow`"),
            "{why}"
        );
        let done = watched("@@t ready 1 k\n@@t done 2\n");
        let why = overdue(&scenarios(), &done, 2.0 + QUIET_LIMIT as f64 + 1.0, 2.0).unwrap();
        assert!(why.contains("did not power off"), "{why}");
    }

    #[test]
    fn the_whole_boot_has_a_limit_too() {
        let running = watched("@@t ready 1 k\n@@t begin slow 5\n");
        let why = overdue(
            &scenarios(),
            &running,
            TOTAL_LIMIT as f64 + 1.0,
            TOTAL_LIMIT as f64,
        )
        .unwrap();
        assert!(
            why.contains("longer than its") && why.contains("during scenario `slow`"),
            "{why}"
        );
    }
}
