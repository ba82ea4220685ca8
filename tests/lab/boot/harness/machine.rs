//! Boots the Debian image under qemu with the lab kernel and watches the
//! report channel until the VM powers off. A reboot in the VM (`systemctl
//! reboot`) ends qemu (`-no-reboot`) and the host starts it again on the same
//! root disk, a copy of the cached image made for this run: under TCG a warm
//! reset leaves the PIT so that the next kernel spends 80 s failing to
//! calibrate the TSC against it, a cold start does not.

use super::host::Host;
use super::plan::Scenario;
use super::transcript::{Event, Transcript};
use std::collections::HashMap;
use std::fs;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// TCG (no KVM on the machines the lab runs on); systemd needs more memory than
/// the initramfs lab's busybox.
const QEMU_ARGS: [&str; 15] = [
    "-accel",
    "tcg",
    "-cpu",
    "max",
    "-smp",
    "2",
    "-m",
    "1024",
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-monitor",
    "none",
    "-no-reboot",
];
/// Seconds from qemu's start to the first ready marker (systemd boot under TCG).
pub const BOOT_LIMIT: u64 = 150;
/// Seconds a scenario may run beyond its own limit before the host gives up.
pub const GRACE: u64 = 30;
/// Seconds of silence outside a scenario: a reboot (shutdown and a whole boot) fits.
pub const QUIET_LIMIT: u64 = 150;
/// Seconds for the whole run, whatever happens.
pub const TOTAL_LIMIT: u64 = 900;

const POLL: Duration = Duration::from_millis(50);

pub struct Boot<'a> {
    pub host: &'a Host,
    pub rootfs: &'a Path,
    pub disk: &'a Path,
    pub run_dir: &'a Path,
    pub token: &'a str,
    pub cmdline: &'a str,
    pub scenarios: &'a [Scenario],
    /// How many times the plan boots the VM.
    pub boots: usize,
    pub verbose: bool,
}

pub struct Watched {
    pub transcript: Transcript,
    pub stop: Stop,
    /// Seconds since qemu started at each ready marker (one per boot).
    pub readies: Vec<f64>,
    /// Seconds since qemu started when each scenario began and ended.
    pub scenario_at: HashMap<String, (f64, Option<f64>)>,
    pub total: f64,
}

pub enum Stop {
    Exited(ExitStatus),
    Killed(String),
}

impl Boot<'_> {
    pub fn console_log(&self) -> PathBuf {
        self.run_dir.join("console.log")
    }

    pub fn qemu_log(&self) -> PathBuf {
        self.run_dir.join("qemu.log")
    }

    pub fn run(&self) -> Result<Watched, String> {
        let channel_path = self.run_dir.join("channel.log");
        let fail =
            |path: &Path, e: std::io::Error| format!("cannot create `{}`: {e}", path.display());
        fs::write(&channel_path, "").map_err(|e| fail(&channel_path, e))?;
        for log in [self.console_log(), self.qemu_log()] {
            fs::write(&log, "").map_err(|e| fail(&log, e))?;
        }
        let mut channel = fs::File::open(&channel_path).map_err(|e| fail(&channel_path, e))?;
        let started = Instant::now();
        let mut child = self.start(&channel_path)?;
        let mut watched = Watched {
            transcript: Transcript::new(self.token),
            stop: Stop::Killed(String::new()),
            readies: Vec::new(),
            scenario_at: HashMap::new(),
            total: 0.0,
        };
        let mut pending = Vec::new();
        let mut last_event = 0.0;
        loop {
            let exited = child
                .try_wait()
                .map_err(|e| format!("cannot wait for qemu: {e}"))?;
            let _ = channel.read_to_end(&mut pending);
            let now = started.elapsed().as_secs_f64();
            let complete = pending
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let lines: Vec<u8> = pending.drain(..complete).collect();
            let text = String::from_utf8_lossy(&lines);
            if self.verbose {
                for line in text.lines() {
                    eprintln!("boot| {line}");
                }
            }
            let mut events = watched.transcript.feed(&text);
            // A reboot the plan asked for: the VM was ready, no scenario is open,
            // qemu ended well and the plan has boots left.
            let rebooted =
                exited.is_some_and(|status| rebooted(status.success(), &watched, self.boots));
            if exited.is_some() && !rebooted {
                events.extend(watched.transcript.feed(&String::from_utf8_lossy(&pending)));
                events.extend(watched.transcript.finish());
            }
            for event in events {
                last_event = now;
                match event {
                    Event::Ready => watched.readies.push(now),
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
            if rebooted {
                child = self.start(&channel_path)?;
                last_event = now;
                continue;
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

    /// Starts qemu; the console and the report channel are appended to, so
    /// each holds every boot of the run.
    fn start(&self, channel_path: &Path) -> Result<Child, String> {
        let qemu_log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.qemu_log())
            .map_err(|e| format!("cannot open `{}`: {e}", self.qemu_log().display()))?;
        let mut command = Command::new(&self.host.qemu);
        command
            .args(QEMU_ARGS)
            .arg("-kernel")
            .arg(&self.host.kernel.image)
            .arg("-append")
            .arg(format!(
                "root=/dev/nvme0n1 rootfstype=ext4 rw console=ttyS0 quiet \
                 systemd.show_status=error lab.token={} {}",
                self.token, self.cmdline
            ))
            // The cloud kernel has NVMe built in (virtio-blk is a module, and
            // there is no initramfs): one controller, the root file system as
            // namespace 1, the lab disk as namespace 2.
            .arg("-drive")
            .arg(drive("root", self.rootfs, false))
            .arg("-drive")
            .arg(drive("lab", self.disk, true))
            .args(["-device", "nvme,id=nvme0,serial=lab"])
            .args(["-device", "nvme-ns,bus=nvme0,drive=root,nsid=1"])
            .args(["-device", "nvme-ns,bus=nvme0,drive=lab,nsid=2"])
            .arg("-chardev")
            .arg(format!(
                "file,id=console,append=on,path={}",
                escaped(&self.console_log())
            ))
            .arg("-chardev")
            .arg(format!(
                "file,id=report,append=on,path={}",
                escaped(channel_path)
            ))
            .args(["-serial", "chardev:console", "-serial", "chardev:report"])
            .stdin(Stdio::null())
            .stdout(
                qemu_log
                    .try_clone()
                    .map_err(|e| format!("cannot open `{}`: {e}", self.qemu_log().display()))?,
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
        command
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", self.host.qemu.display()))
    }
}

fn escaped(path: &Path) -> String {
    path.display().to_string().replace(',', ",,")
}

/// A raw disk image as an NVMe namespace's backing; with `snapshot`, writes go
/// to a temporary overlay and the file stays as it was.
fn drive(id: &str, file: &Path, snapshot: bool) -> String {
    let snapshot = if snapshot { "on" } else { "off" };
    format!(
        "if=none,id={id},format=raw,snapshot={snapshot},file={}",
        escaped(file)
    )
}

/// Whether qemu ended for a reboot the plan asked for: well, after the VM was
/// ready, with no scenario open, no `done`, and boots left in the plan.
fn rebooted(success: bool, watched: &Watched, boots: usize) -> bool {
    success
        && watched.transcript.done.is_none()
        && watched.transcript.open_run().is_none()
        && !watched.readies.is_empty()
        && watched.readies.len() < boots
}

/// Why the VM must be stopped now, if it must.
fn overdue(scenarios: &[Scenario], watched: &Watched, now: f64, last_event: f64) -> Option<String> {
    let transcript = &watched.transcript;
    let open = transcript.open_run();
    if now > TOTAL_LIMIT as f64 {
        let during = open
            .map(|run| format!(", during scenario `{}`", run.name))
            .unwrap_or_default();
        return Some(format!(
            "the boot lab took longer than its {TOTAL_LIMIT} s limit{during}"
        ));
    }
    if watched.readies.is_empty() {
        return (now > BOOT_LIMIT as f64).then(|| {
            format!("the VM did not boot: it was not ready {BOOT_LIMIT} s after qemu started")
        });
    }
    if let Some(run) = open {
        let limit = scenarios
            .iter()
            .find(|s| s.name == run.name)
            .map_or(0, |s| s.limit) as u64;
        let began = watched
            .scenario_at
            .get(&run.name)
            .map_or(last_event, |times| times.0);
        return (now > began + (limit + GRACE) as f64).then(|| {
            format!(
                "scenario `{}` hung: no end {} s after it began, though the VM should stop it after {limit} s",
                run.name,
                limit + GRACE
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
        format!(
            "the VM stopped reporting: nothing for {QUIET_LIMIT} s after {after} (a reboot that did not come back?)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watched(channel: &str) -> Watched {
        let mut transcript = Transcript::new("t");
        let mut readies = Vec::new();
        let mut scenario_at = HashMap::new();
        for event in transcript.feed(channel) {
            match event {
                Event::Ready => readies.push(1.0),
                Event::Begin(name) => {
                    scenario_at.insert(name, (2.0, None));
                }
                _ => {}
            }
        }
        Watched {
            transcript,
            stop: Stop::Killed(String::new()),
            readies,
            scenario_at,
            total: 0.0,
        }
    }

    #[test]
    fn qemu_ending_between_scenarios_with_boots_left_is_a_reboot() {
        let between = watched("@@t ready 1 k\n@@t begin a 1\n@@t end a 0 exit 2\n");
        assert!(rebooted(true, &between, 2));
        assert!(!rebooted(false, &between, 2), "qemu failed");
        assert!(!rebooted(true, &between, 1), "no boots left in the plan");
        let during = watched("@@t ready 1 k\n@@t begin a 1\n");
        assert!(!rebooted(true, &during, 2), "a scenario was open: a crash");
        let never = watched("");
        assert!(!rebooted(true, &never, 2), "the VM was never ready");
        let done = watched("@@t ready 1 k\n@@t done 2\n");
        assert!(!rebooted(true, &done, 2), "it powered off");
    }

    #[test]
    fn a_reboot_may_be_silent_for_less_than_the_quiet_limit() {
        let scenarios = [Scenario::named("a", 10)];
        let between = watched("@@t ready 1 k\n@@t begin a 1\n@@t end a 0 exit 2\n");
        assert_eq!(overdue(&scenarios, &between, 100.0, 5.0), None);
        let why = overdue(&scenarios, &between, 6.0 + QUIET_LIMIT as f64, 5.0).unwrap();
        assert!(why.contains("a reboot that did not come back"), "{why}");
        let booting = watched("");
        let why = overdue(&scenarios, &booting, BOOT_LIMIT as f64 + 1.0, 0.0).unwrap();
        assert!(why.starts_with("the VM did not boot"), "{why}");
        let running = watched("@@t ready 1 k\n@@t begin a 1\n");
        let why = overdue(&scenarios, &running, 2.0 + (10 + GRACE) as f64 + 1.0, 2.0).unwrap();
        assert!(why.starts_with("scenario `a` hung"), "{why}");
    }
}
