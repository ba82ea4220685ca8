//! `exec(program, [args])`: up when the program exits with status 0.
//!
//! The program runs without a shell (the arguments as written), with the daemon's
//! environment plus:
//! - `LVSH_SERVER_ADDRESS`, `LVSH_SERVER_PORT`: the real server;
//! - `LVSH_CHECK_ADDRESS`, `LVSH_CHECK_PORT`: where the check points (the VIP and port
//!   with `via_vip`, else the server's address and the check's port);
//! - `LVSH_CHECK_MARK`: with `via_vip` only, the fwmark a probe socket must carry
//!   (decimal) to reach this one server through the VIP.
//!
//! stdin and stdout are `/dev/null`; the first line of stderr (at most 200 bytes) goes
//! into the reason of a failure. The program leads a process group of its own; at
//! the timeout the whole group gets SIGKILL (a shell's children too, and a program
//! that ignores SIGTERM) and the program is reaped.

use super::{Target, Verdict, io_reason};
use std::{
    future::poll_fn,
    io,
    os::unix::process::ExitStatusExt,
    pin::{Pin, pin},
    process::{ExitStatus, Stdio},
    task::Poll,
    time::Duration,
};
use tokio::{
    io::{AsyncRead, ReadBuf},
    process::{Child, ChildStderr, Command},
    time::Instant,
};

pub const ENV_SERVER_ADDRESS: &str = "LVSH_SERVER_ADDRESS";
pub const ENV_SERVER_PORT: &str = "LVSH_SERVER_PORT";
pub const ENV_CHECK_ADDRESS: &str = "LVSH_CHECK_ADDRESS";
pub const ENV_CHECK_PORT: &str = "LVSH_CHECK_PORT";
pub const ENV_CHECK_MARK: &str = "LVSH_CHECK_MARK";

/// The part of stderr a reason quotes.
const LINE_MAX: usize = 200;

/// How long a killed group may take to be reaped before the probe stops waiting (a
/// process stuck in the kernel, on a dead NFS mount say, dies only when it leaves).
const REAP_GRACE: Duration = Duration::from_millis(100);

/// Runs the program until it exits or `timeout` (ending at `deadline`) passes.
pub(super) async fn run(
    program: &str,
    args: &[String],
    target: &Target,
    deadline: Instant,
    timeout: Duration,
) -> Verdict {
    let mut command = Command::new(program);
    command
        .args(args)
        .env(ENV_SERVER_ADDRESS, target.server.ip().to_string())
        .env(ENV_SERVER_PORT, target.server.port().to_string())
        .env(ENV_CHECK_ADDRESS, target.connect.ip().to_string())
        .env(ENV_CHECK_PORT, target.connect.port().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    if let Some(mark) = target.mark {
        command.env(ENV_CHECK_MARK, mark.to_string());
    }
    let child = command.spawn().map_err(|e| spawn_reason(program, &e))?;
    let mut group = Group::new(child);
    let mut stderr = group.child.stderr.take();
    let mut line = Vec::new();
    let status = {
        let mut wait = pin!(group.child.wait());
        let both = poll_fn(|cx| {
            // Read stderr as it comes, even past the first line, so that a chatty
            // program never blocks on a full pipe.
            drain(&mut stderr, &mut line, cx);
            let status = wait.as_mut().poll(cx);
            if status.is_ready() {
                // Exited: what it wrote is in the pipe already.
                drain(&mut stderr, &mut line, cx);
            }
            status
        });
        tokio::time::timeout_at(deadline, both).await
    };
    match status {
        Ok(Ok(status)) => {
            group.reaped = true;
            verdict(status, &line)
        }
        Ok(Err(e)) => Err(format!("waiting for `{program}`: {}", io_reason(&e))),
        Err(_) => {
            group.kill();
            if tokio::time::timeout(REAP_GRACE, group.child.wait())
                .await
                .is_ok()
            {
                group.reaped = true;
            }
            Err(format!(
                "timed out after {}",
                humantime::format_duration(timeout)
            ))
        }
    }
}

fn verdict(status: ExitStatus, line: &[u8]) -> Verdict {
    let said = first_line(line);
    match (status.code(), status.signal()) {
        (Some(0), _) => Ok("exit status 0".into()),
        (Some(code), _) if said.is_empty() => Err(format!("exit status {code}")),
        (Some(code), _) => Err(format!("exit status {code}: {said}")),
        (None, Some(signal)) => Err(format!("killed by signal {signal}")),
        (None, None) => Err(format!("ended with {status}")),
    }
}

/// Reads what stderr holds now, keeping the start; `None` once it reached EOF.
fn drain(stderr: &mut Option<ChildStderr>, line: &mut Vec<u8>, cx: &mut std::task::Context) {
    let mut chunk = [0; 512];
    while let Some(pipe) = stderr {
        let mut buf = ReadBuf::new(&mut chunk);
        match Pin::new(pipe).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) if !buf.filled().is_empty() => {
                let room = LINE_MAX.saturating_sub(line.len());
                line.extend_from_slice(&buf.filled()[..buf.filled().len().min(room)]);
            }
            Poll::Ready(_) => *stderr = None,
            Poll::Pending => return,
        }
    }
}

/// The first line, trimmed, with control characters (a terminal's escapes) as spaces:
/// it ends up in log lines.
fn first_line(bytes: &[u8]) -> String {
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let line: String = line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    line.trim().to_string()
}

fn spawn_reason(program: &str, e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => format!("`{program}` not found"),
        io::ErrorKind::PermissionDenied => format!("`{program}` is not executable"),
        _ if e.raw_os_error() == Some(libc::ENOEXEC) => format!("`{program}` is not a program"),
        _ => format!("cannot run `{program}`: {}", io_reason(e)),
    }
}

/// The program's process group. Until the program is reaped its pid cannot be reused,
/// so killing the group by that id reaches only its own processes; after that, never.
struct Group {
    child: Child,
    reaped: bool,
}

impl Group {
    fn new(child: Child) -> Self {
        Group {
            child,
            reaped: false,
        }
    }

    fn kill(&mut self) {
        if self.reaped {
            return;
        }
        if let Some(pid) = self.child.id().and_then(|p| i32::try_from(p).ok()) {
            // SAFETY: plain syscall; the group is ours (see above).
            unsafe { libc::kill(-pid, libc::SIGKILL) };
        }
    }
}

/// A probe dropped half-way (the daemon stopping) kills the group too; tokio's
/// `kill_on_drop` then reaps the program in the background.
impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{block_on, check};
    use super::super::{Outcome, Target, probe};
    use super::*;
    use crate::model::CheckKind;
    use std::time::Instant;

    fn sh(script: &str) -> CheckKind {
        CheckKind::Exec {
            program: "/bin/sh".into(),
            args: vec!["-c".into(), script.into()],
        }
    }

    fn run(kind: CheckKind, timeout_ms: u32) -> Outcome {
        let target = Target {
            connect: "192.0.2.1:443".parse().unwrap(),
            mark: Some(65537),
            server: "10.0.0.7:8443".parse().unwrap(),
        };
        block_on(probe(&check(kind, timeout_ms), &target))
    }

    #[test]
    fn exit_zero_is_up() {
        let outcome = run(sh("exit 0"), 2000);
        assert!(outcome.ok, "{outcome:?}");
        assert_eq!(outcome.reason, "exit status 0");
    }

    #[test]
    fn another_status_is_down_with_the_first_line_of_stderr() {
        assert_eq!(run(sh("exit 2"), 2000).reason, "exit status 2");
        let outcome = run(
            sh("printf ' db\\033[2J down\\r\\n detail\\n' >&2; exit 3"),
            2000,
        );
        assert!(!outcome.ok);
        assert_eq!(outcome.reason, "exit status 3: db [2J down");
    }

    #[test]
    fn a_chatty_program_does_not_block_on_its_pipe() {
        // 1 MiB of stderr: far more than a pipe holds.
        let outcome = run(
            sh("head -c 1048576 /dev/zero | tr '\\0' x >&2; exit 1"),
            5000,
        );
        assert_eq!(
            outcome.reason,
            format!("exit status 1: {}", "x".repeat(LINE_MAX))
        );
    }

    #[test]
    fn a_signal_is_down() {
        assert_eq!(run(sh("kill -9 $$"), 2000).reason, "killed by signal 9");
    }

    #[test]
    fn the_environment_names_the_server_and_the_check() {
        let script = format!(
            "test \"${ENV_SERVER_ADDRESS}:${ENV_SERVER_PORT} ${ENV_CHECK_ADDRESS}:${ENV_CHECK_PORT} ${ENV_CHECK_MARK}\" \
             = '10.0.0.7:8443 192.0.2.1:443 65537' || {{ env >&2; exit 1; }}"
        );
        let outcome = run(sh(&script), 2000);
        assert!(outcome.ok, "{outcome:?}");
    }

    #[test]
    fn arguments_pass_as_written_without_a_shell() {
        let kind = CheckKind::Exec {
            program: "test".into(),
            args: vec!["$HOME".into(), "=".into(), "$HOME".into()],
        };
        assert!(run(kind, 2000).ok);
        let kind = CheckKind::Exec {
            program: "test".into(),
            args: vec!["a b".into(), "=".into(), "a".into()],
        };
        assert_eq!(run(kind, 2000).reason, "exit status 1");
    }

    #[test]
    fn the_timeout_kills_the_whole_group_even_if_it_ignores_sigterm() {
        let dir = tempfile::tempdir().unwrap();
        let pids = dir.path().join("pids");
        let script = format!(
            "trap '' TERM; sleep 10 & echo $! > {}; sleep 10",
            pids.display()
        );
        let start = Instant::now();
        let outcome = run(sh(&script), 300);
        let took = start.elapsed();
        assert!(!outcome.ok);
        assert_eq!(outcome.reason, "timed out after 300ms");
        assert!(took < Duration::from_millis(1000), "{took:?}");
        let pid = std::fs::read_to_string(&pids).unwrap();
        let stat = format!("/proc/{}/stat", pid.trim());
        // Gone, or a zombie waiting for its new parent to reap it; SIGKILL lands
        // when the process next runs, so give it a moment.
        let dead = |stat: &str| match std::fs::read_to_string(stat) {
            Err(_) => true,
            Ok(s) => s.rsplit(')').next().unwrap().split_whitespace().next() == Some("Z"),
        };
        let waited = Instant::now();
        while !dead(&stat) && waited.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(dead(&stat), "the background sleep still runs");
    }

    #[test]
    fn a_missing_or_unrunnable_program_is_down() {
        let kind = CheckKind::Exec {
            program: "/nonexistent/lvsh-check".into(),
            args: vec![],
        };
        assert_eq!(
            run(kind, 1000).reason,
            "`/nonexistent/lvsh-check` not found"
        );
        let file = tempfile::NamedTempFile::new().unwrap();
        let program = file.path().display().to_string();
        let kind = CheckKind::Exec {
            program: program.clone(),
            args: vec![],
        };
        assert_eq!(
            run(kind, 1000).reason,
            format!("`{program}` is not executable")
        );
    }
}
