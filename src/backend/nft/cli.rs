//! The real table, through the `nft` binary and its JSON interface.
//!
//! lvsh starts `nft` itself instead of using the nftables crate's helpers: it needs
//! nft's stderr in errors (the crate's `apply_ruleset` leaves stderr on the terminal)
//! and must run nft inside another network namespace (`setns` between fork and exec).
//! The crate still provides the JSON schema types and their serde.

use super::{Error, FAMILY, TABLE, parse_table, probe, replace_batch};
use crate::{
    backend::{Nft, modprobe},
    model::MarkRule,
};
use nftables::schema::Nftables;
use std::{
    collections::BTreeMap,
    env,
    fs::File,
    io::{self, Write},
    os::{fd::AsRawFd, unix::process::CommandExt},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

/// Table `inet lvsh` of one network namespace, read and written with `nft`.
#[derive(Debug, Clone)]
pub struct NftCli {
    netns: Option<String>,
    program: Option<PathBuf>,
}

impl NftCli {
    /// `netns`: a name under `/run/netns` (as `ip netns` makes them), or a path such
    /// as `/proc/PID/ns/net`; `None` is the namespace lvsh runs in.
    pub fn new(netns: Option<&str>) -> Self {
        NftCli {
            netns: netns.map(str::to_string),
            program: None,
        }
    }

    /// Runs this binary instead of the `nft` found on `PATH`.
    pub fn with_program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = Some(program.into());
        self
    }

    /// Runs one JSON batch as one transaction (`nft -j -f -`).
    pub fn apply(&mut self, batch: &Nftables) -> Result<(), Error> {
        let json = serde_json::to_string(batch).expect("nft schema types always serialize");
        self.run(&["-j", "-f", "-"], Some(&json)).map(drop)
    }

    /// Runs an nft script in text syntax (`nft -f -`), as `emit --to nft` writes them.
    pub fn apply_text(&mut self, script: &str) -> Result<(), Error> {
        self.run(&["-f", "-"], Some(script)).map(drop)
    }

    /// `nft -j list table inet lvsh`, or `None` when there is no such table.
    pub fn list_json(&mut self) -> Result<Option<String>, Error> {
        if probe::table_exists(self.netns.as_deref()) == Some(false) {
            return Ok(None);
        }
        match self.run(&["-j", "list", "table", FAMILY, TABLE], None) {
            Ok(out) => Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned())),
            // nft's strerror(ENOENT); the locale is pinned to C for this.
            Err(Error::Failed { stderr, .. })
                if stderr.starts_with("Error: No such file or directory") =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// For messages, which put it in backticks: ``nft -j -f -` in network namespace `blue``.
    fn command_line(&self, args: &[&str]) -> String {
        let mut s = format!("nft {}", args.join(" "));
        if let Some(ns) = &self.netns {
            s.push_str(&format!("` in network namespace `{ns}"));
        }
        s
    }

    fn program(&self) -> Result<PathBuf, Error> {
        let candidates: Vec<PathBuf> = match &self.program {
            Some(p) => vec![p.clone()],
            // root's PATH has sbin, a sudo or cron environment may not.
            None => env::split_paths(&env::var_os("PATH").unwrap_or_default())
                .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
                .map(|dir| dir.join("nft"))
                .collect(),
        };
        candidates
            .into_iter()
            .find(|p| p.is_file())
            .ok_or(Error::NotInstalled)
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Result<Output, Error> {
        self.run_once(args, stdin, false)
    }

    fn run_once(&self, args: &[&str], stdin: Option<&str>, retried: bool) -> Result<Output, Error> {
        let command = self.command_line(args);
        let mut cmd = Command::new(self.program()?);
        cmd.args(args.iter().map(|&a| if a == "-" { STDIN } else { a }))
            .env("LC_ALL", "C")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());

        // Opened here, entered in the child: the fd outlives `spawn` and closes on exec.
        let ns = match &self.netns {
            Some(name) => Some(File::open(netns_path(name)).map_err(|source| Error::Netns {
                netns: name.clone(),
                source,
            })?),
            None => None,
        };
        if let Some(ns) = &ns {
            let fd = ns.as_raw_fd();
            // SAFETY: runs in the forked child before exec and only calls setns(2),
            // which is async-signal-safe; no allocation, no locks.
            unsafe {
                cmd.pre_exec(move || {
                    if libc::setns(fd, libc::CLONE_NEWNET) == 0 {
                        Ok(())
                    } else {
                        Err(io::Error::last_os_error())
                    }
                });
            }
        }

        let mut child = cmd.spawn().map_err(|source| {
            let setns_failed = matches!(source.raw_os_error(), Some(libc::EINVAL | libc::EPERM));
            match &self.netns {
                _ if source.kind() == io::ErrorKind::NotFound => Error::NotInstalled,
                Some(name) if setns_failed => Error::Netns {
                    netns: name.clone(),
                    source,
                },
                _ => Error::Spawn {
                    command: command.clone(),
                    source,
                },
            }
        })?;
        let out = std::thread::scope(|s| {
            if let (Some(mut pipe), Some(input)) = (child.stdin.take(), stdin) {
                // If nft stops reading early its exit status says why.
                s.spawn(move || pipe.write_all(input.as_bytes()));
            }
            child.wait_with_output()
        })
        .map_err(|source| Error::Spawn {
            command: command.clone(),
            source,
        })?;
        if out.status.success() {
            return Ok(out);
        }
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        // On a kernel without nf_tables nft says only "cache initialization failed:
        // Invalid argument" (or, without nfnetlink, "Unable to initialize Netlink
        // socket: Protocol not supported"): load it as ipvsadm loads ip_vs, and
        // run nft once more (a failed `nft -f` changed nothing), or say why not.
        if !retried && no_nf_tables(&stderr) {
            return match modprobe::load("nf_tables") {
                Ok(()) => self.run_once(args, stdin, true),
                Err(why) => Err(Error::NoNfTables {
                    command,
                    stderr,
                    why: Box::new(why),
                }),
            };
        }
        Err(Error::Failed {
            command,
            status: out.status,
            stderr,
        })
    }
}

/// Whether nft's error means the kernel has no nf_tables (or no nfnetlink) loaded.
fn no_nf_tables(stderr: &str) -> bool {
    stderr.contains("cache initialization failed: Invalid argument")
        || stderr.contains("Unable to initialize Netlink socket: Protocol not supported")
}

/// Rule lines of `nft -a list table` by handle (`ip saddr 10.9.9.9 drop # handle 4`).
fn rule_lines(listing: &str) -> BTreeMap<u32, String> {
    listing
        .lines()
        .filter_map(|line| {
            let (rule, handle) = line.trim().rsplit_once(" # handle ")?;
            // Chain and set headers carry handles too: `chain extra { # handle 6`.
            if rule.ends_with('{') {
                return None;
            }
            Some((handle.parse().ok()?, rule.to_string()))
        })
        .collect()
}

/// What `-f -` becomes: nft reads `-` as `/dev/stdin`, which a system without udev
/// (an initramfs, a minimal container) lacks; this needs only `/proc`.
const STDIN: &str = "/proc/self/fd/0";

fn netns_path(name: &str) -> PathBuf {
    if name.contains('/') {
        PathBuf::from(name)
    } else {
        Path::new("/run/netns").join(name)
    }
}

impl Nft for NftCli {
    fn read(&mut self) -> Result<BTreeMap<u32, MarkRule>, Error> {
        let Some(json) = self.list_json()? else {
            return Ok(BTreeMap::new());
        };
        let mut observed = parse_table(&json).map_err(|source| Error::Json {
            command: self.command_line(&["-j", "list", "table", FAMILY, TABLE]),
            source,
        })?;
        if observed.foreign.iter().any(|f| f.content.is_some()) {
            // Show hand-made rules the way the operator would write them. The table
            // may have changed in between: then the JSON stays.
            if let Ok(out) = self.run(&["-a", "list", "table", FAMILY, TABLE], None) {
                let lines = rule_lines(&String::from_utf8_lossy(&out.stdout));
                for f in &mut observed.foreign {
                    if let Some(text) = f.handle.and_then(|h| lines.get(&h)) {
                        f.content = Some(text.clone());
                    }
                }
            }
        }
        observed.into_marks()
    }

    fn replace(&mut self, marks: &BTreeMap<u32, MarkRule>) -> Result<(), Error> {
        self.apply(&replace_batch(marks)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What nft 1.0.6 printed in the lab after `rmmod nf_tables`, then `rmmod nfnetlink`.
    #[test]
    fn nft_s_words_for_a_kernel_without_nf_tables_are_recognised() {
        assert!(no_nf_tables(
            "netlink: Error: cache initialization failed: Invalid argument\n"
        ));
        assert!(no_nf_tables(
            "mnl.c:60: Unable to initialize Netlink socket: Protocol not supported\n"
        ));
        assert!(!no_nf_tables("Error: No such file or directory\n"));
        assert!(!no_nf_tables(
            "Error: Could not process rule: Operation not permitted\n"
        ));
        let e = Error::NoNfTables {
            command: "nft -j list table inet lvsh".into(),
            stderr: "netlink: Error: cache initialization failed: Invalid argument\n".into(),
            why: Box::new(modprobe::NotLoaded {
                module: "nf_tables".into(),
                cause: modprobe::Cause::Missing,
                detail: "modprobe: FATAL: Module nf_tables not found".into(),
            }),
        };
        assert_eq!(
            e.to_string(),
            "`nft -j list table inet lvsh` failed: netlink: Error: cache initialization \
             failed: Invalid argument; the kernel has no nf_tables: module `nf_tables` is not \
             loaded and cannot be: modprobe: FATAL: Module nf_tables not found"
        );
    }

    #[test]
    fn netns_names_live_in_run_netns() {
        assert_eq!(netns_path("blue"), Path::new("/run/netns/blue"));
        assert_eq!(netns_path("/proc/1/ns/net"), Path::new("/proc/1/ns/net"));
    }

    #[test]
    fn rule_lines_by_handle() {
        let listing = "table inet lvsh { # handle 2\n\
            \tchain prerouting { # handle 1\n\
            \t\ttype filter hook prerouting priority mangle; policy accept;\n\
            \t\tip daddr 10.0.0.20 tcp dport { 22, 80 } meta mark set 0x00000014 comment \"lvsh mark 20\" # handle 3\n\
            \t\tip saddr 10.9.9.9 drop # handle 4\n\
            \t}\n\
            \tset vips { # handle 7\n\
            \t\ttype ipv4_addr\n\
            \t}\n\
            }\n";
        let lines = rule_lines(listing);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[&4], "ip saddr 10.9.9.9 drop");
        assert!(lines[&3].starts_with("ip daddr 10.0.0.20 tcp dport { 22, 80 }"));
    }

    #[test]
    fn missing_nft_says_install_nftables() {
        let mut nft = NftCli::new(None).with_program("/nonexistent/nft");
        // Reading needs no nft while the namespace has no table (see probe.rs): a
        // write always does.
        let e = nft.replace(&BTreeMap::new()).unwrap_err();
        assert!(matches!(e, Error::NotInstalled), "{e:?}");
        let help = miette::Diagnostic::help(&e).unwrap().to_string();
        assert!(help.contains("install nftables"), "{help}");
    }

    #[test]
    fn missing_netns_is_named() {
        let mut nft = NftCli::new(Some("lvsh-no-such-netns")).with_program("/bin/true");
        let e = nft.replace(&BTreeMap::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot enter network namespace `lvsh-no-such-netns`: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn messages_name_the_namespace() {
        let nft = NftCli::new(Some("blue"));
        let e = Error::Spawn {
            command: nft.command_line(&["-j", "-f", "-"]),
            source: io::Error::from_raw_os_error(libc::EACCES),
        };
        assert_eq!(
            e.to_string(),
            "cannot run `nft -j -f -` in network namespace `blue`: Permission denied (os error 13)"
        );
    }

    #[test]
    fn a_file_that_is_no_netns_is_refused() {
        let f = tempfile::NamedTempFile::new().unwrap();
        let path = f.path().to_str().unwrap();
        let mut nft = NftCli::new(Some(path)).with_program("/bin/true");
        let e = nft.replace(&BTreeMap::new()).unwrap_err();
        assert!(matches!(e, Error::Netns { .. }), "{e:?}");
    }

    #[test]
    fn failures_carry_stderr_and_status() {
        // A stand-in for nft that complains the way nft does.
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("nft");
        std::fs::write(
            &fake,
            "#!/bin/sh\ncat >/dev/null\necho 'Error: Could not process rule: Operation not permitted' >&2\nexit 1\n",
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut nft = NftCli::new(None).with_program(&fake);
        let e = nft.replace(&BTreeMap::new()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`nft -j -f -` failed (exit status: 1): Error: Could not process rule: Operation not permitted"
        );
    }

    #[test]
    fn input_goes_through_proc_not_dev_stdin() {
        // A stand-in for nft that records its arguments and what it read.
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("nft");
        let got = dir.path().join("got");
        std::fs::write(
            &fake,
            format!(
                "#!/bin/sh\necho \"$@\" >{0}\ncat \"$2\" >>{0}\n",
                got.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let mut nft = NftCli::new(None).with_program(&fake);
        nft.apply_text("table inet lvsh {}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&got).unwrap(),
            "-f /proc/self/fd/0\ntable inet lvsh {}\n"
        );
    }
}
