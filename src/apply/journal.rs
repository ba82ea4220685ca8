//! The apply journal on disk: before its first request, every apply records the
//! state it started from and its plan, so that a kill or a power loss in the middle
//! is seen by the next command, which names the way back (`lvsh rollback ID`).
//!
//! One directory per network namespace, `/var/lib/lvsh/NAMESPACE/journal/`
//! (`LVSH_STATE_DIR` replaces `/var/lib/lvsh`); per apply three files, each written
//! to a temporary file, fsynced and renamed into place:
//!
//! - `ID.snapshot.json`: the state before (IPVS and table `inet lvsh`) and the plan;
//! - `ID.json`: who, when, what (small: `lvsh history` reads only these); written
//!   after the snapshot, so an entry that exists has its snapshot;
//! - `ID.end.json`: the outcome. An entry without it was cut off, unless its apply is
//!   still running (it holds the namespace's apply lock).

use crate::model::Balancer;
use serde::{Deserialize, Serialize};
use std::{
    fs::{self, File},
    io::{self, Write},
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

/// Where journals live unless `LVSH_STATE_DIR` says otherwise.
pub const STATE_DIR: &str = "/var/lib/lvsh";

/// Entries kept; older finished ones are removed when a new one begins.
const KEEP: usize = 100;

/// Of those, the weight writes of `lvsh watch` (command `watch`) kept: a flapping
/// server writes one a second, and must not push the operator's applies out of
/// reach of `lvsh rollback` within two minutes.
const KEEP_WATCH: usize = 20;

/// The command `lvsh watch` records its weight-only writes under.
pub const WATCH_COMMAND: &str = "watch";

/// What `lvsh history` shows of an apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub id: u64,
    /// `apply`, or `rollback N`.
    pub command: String,
    /// Seconds since the Unix epoch.
    pub started: u64,
    pub user: String,
    pub pid: u32,
    /// The script or saved plan applied, as given on the command line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_sha256: Option<String>,
    pub added: usize,
    pub changed: usize,
    pub deleted: usize,
}

/// The state an apply started from, as `lvsh rollback` reads it back (the plan
/// beside it in the file is for people, and left unread).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Snapshot {
    pub before: Balancer,
    /// What `inet lvsh` held that lvsh did not write (rollback cannot restore it).
    #[serde(default)]
    pub foreign: Vec<String>,
}

/// What [`Journal::begin`] writes: the snapshot and the plan (`P`: the document
/// `lvsh plan --json` prints), borrowed and streamed into the file. The plan of an
/// apply of 10,000 services held as a JSON value took over 100 MB.
#[derive(Debug, Serialize)]
pub struct SnapshotOut<'a, P: Serialize> {
    pub before: &'a Balancer,
    pub foreign: &'a [String],
    pub plan: P,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The kernel reached the new state.
    Applied,
    /// It failed and the kernel is as before.
    RolledBack,
    /// It failed and the kernel is neither as before nor as planned.
    NotRestored,
    /// It was cut off (killed, power lost); a later apply or rollback took over.
    Interrupted,
}

impl Outcome {
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Applied => "applied",
            Outcome::RolledBack => "rolled back",
            Outcome::NotRestored => "FAILED, not restored",
            Outcome::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct End {
    pub finished: u64,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// One apply of the journal, with its outcome if it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub header: Header,
    pub end: Option<End>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum JournalError {
    #[error("cannot write the apply journal in `{}`", dir.display())]
    #[diagnostic(help(
        "lvsh records every apply there before changing anything; nothing was changed"
    ))]
    Write {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read the apply journal in `{}`", dir.display())]
    Read {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the journal has no apply {id}")]
    #[diagnostic(help("`lvsh history` lists the applies recorded"))]
    NoEntry { id: u64 },
    #[error("the journal has no applies yet")]
    #[diagnostic(help(
        "lvsh records every apply that writes to the kernel; there is nothing to roll back"
    ))]
    Empty,
    #[error("apply {id} has no recorded state to go back to: `{}` is missing", path.display())]
    #[diagnostic(help(
        "the journal was changed by hand; `lvsh history` lists the applies recorded"
    ))]
    NoSnapshot { id: u64, path: PathBuf },
    #[error("journal entry `{}` is damaged", path.display())]
    #[diagnostic(help(
        "lvsh wrote it atomically, so something else changed it; move it away to silence this"
    ))]
    Damaged {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// The journal of one network namespace.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    /// The journal of `netns` (`None`: the namespace lvsh runs in), under
    /// `LVSH_STATE_DIR` or [`STATE_DIR`]. Nothing is created until an apply begins.
    pub fn for_netns(netns: Option<&str>) -> Journal {
        Journal::at(namespace_state_dir(netns).join("journal"))
    }

    pub fn at(dir: PathBuf) -> Journal {
        Journal { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records an apply about to write; returns its id. Durable when this returns.
    pub fn begin<P: Serialize>(
        &self,
        mut header: Header,
        snapshot: &SnapshotOut<'_, P>,
    ) -> Result<u64, JournalError> {
        let write = |source| JournalError::Write {
            dir: self.dir.clone(),
            source,
        };
        fs::create_dir_all(&self.dir).map_err(write)?;
        let ids = self.ids().map_err(write)?;
        let id = ids.last().map_or(1, |last| last + 1);
        header.id = id;
        self.prune(&ids, header.command == WATCH_COMMAND);
        // Compact: a snapshot of a large table is megabytes, and nobody reads it by eye.
        write_atomic_with(&self.path(id, "snapshot.json"), |w| {
            serde_json::to_writer(w, snapshot).map_err(io::Error::from)
        })
        .map_err(write)?;
        write_atomic(&self.path(id, "json"), &pretty(&header)).map_err(write)?;
        sync_dir(&self.dir).map_err(write)?;
        Ok(id)
    }

    /// Records how apply `id` ended.
    pub fn finish(&self, id: u64, outcome: Outcome, message: &str) -> Result<(), JournalError> {
        let end = End {
            finished: now(),
            outcome,
            message: message.to_string(),
        };
        write_atomic(&self.path(id, "end.json"), &pretty(&end))
            .and_then(|()| sync_dir(&self.dir))
            .map_err(|source| JournalError::Write {
                dir: self.dir.clone(),
                source,
            })
    }

    /// Ends the entries that were cut off, once the kernel is settled again (an
    /// apply or rollback reached its state, or found nothing to do): they stop
    /// warning, and `lvsh history` says they were interrupted and why that is over.
    pub fn settle(&self, why: &str) -> Result<(), JournalError> {
        for e in self.unfinished()? {
            self.finish(
                e.header.id,
                Outcome::Interrupted,
                &format!("cut off; {why}"),
            )?;
        }
        Ok(())
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> Result<Vec<Entry>, JournalError> {
        self.ids_read()?
            .into_iter()
            .map(|id| self.entry(id))
            .collect()
    }

    /// Every entry that can be read, oldest first, and what could not be: one
    /// damaged file does not hide the rest of the history.
    pub fn entries_lossy(&self) -> Result<(Vec<Entry>, Vec<JournalError>), JournalError> {
        let mut good = vec![];
        let mut bad = vec![];
        for id in self.ids_read()? {
            match self.entry(id) {
                Ok(e) => good.push(e),
                Err(e) => bad.push(e),
            }
        }
        Ok((good, bad))
    }

    fn ids_read(&self) -> Result<Vec<u64>, JournalError> {
        self.ids().map_err(|source| JournalError::Read {
            dir: self.dir.clone(),
            source,
        })
    }

    /// Entries that never ended, newest first. The caller knows whether their
    /// applies may still be running (the namespace's apply lock).
    pub fn unfinished(&self) -> Result<Vec<Entry>, JournalError> {
        let mut all = self.entries()?;
        all.retain(|e| e.end.is_none());
        all.reverse();
        Ok(all)
    }

    pub fn entry(&self, id: u64) -> Result<Entry, JournalError> {
        let header: Header = self
            .read(&self.path(id, "json"))?
            .ok_or(JournalError::NoEntry { id })?;
        let end = self.read(&self.path(id, "end.json"))?;
        Ok(Entry { header, end })
    }

    pub fn snapshot(&self, id: u64) -> Result<Snapshot, JournalError> {
        let path = self.path(id, "snapshot.json");
        self.read(&path)?
            .ok_or(JournalError::NoSnapshot { id, path })
    }

    fn read<T: serde::de::DeserializeOwned>(&self, path: &Path) -> Result<Option<T>, JournalError> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(JournalError::Read {
                    dir: self.dir.clone(),
                    source,
                });
            }
        };
        serde_json::from_reader(io::BufReader::new(file))
            .map(Some)
            .map_err(|source| JournalError::Damaged {
                path: path.to_path_buf(),
                source,
            })
    }

    fn path(&self, id: u64, suffix: &str) -> PathBuf {
        self.dir.join(format!("{id:06}.{suffix}"))
    }

    /// Ids of the entries (those with a header), ascending.
    fn ids(&self) -> io::Result<Vec<u64>> {
        let read = match fs::read_dir(&self.dir) {
            Ok(r) => r,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(e),
        };
        let mut ids = vec![];
        for f in read {
            let name = f?.file_name();
            let name = name.to_string_lossy();
            if let Some(id) = name.strip_suffix(".json").filter(|n| !n.contains('.')) {
                if let Ok(id) = id.parse() {
                    ids.push(id);
                }
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }

    /// Removes the oldest finished entries beyond [`KEEP_WATCH`] watch writes and
    /// [`KEEP`] in all, counting the one about to begin; best effort.
    fn prune(&self, ids: &[u64], next_is_watch: bool) {
        let is_watch = |id: u64| {
            self.read::<Header>(&self.path(id, "json"))
                .ok()
                .flatten()
                .is_some_and(|h| h.command == WATCH_COMMAND)
        };
        let finished = |id: u64| self.path(id, "end.json").exists();
        let (watch, other): (Vec<u64>, Vec<u64>) = ids.iter().partition(|&&id| is_watch(id));
        let mut doomed: Vec<u64> = watch
            .iter()
            .copied()
            .filter(|&id| finished(id))
            .take((watch.len() + usize::from(next_is_watch)).saturating_sub(KEEP_WATCH))
            .collect();
        let kept_watch = watch.len() - doomed.len() + usize::from(next_is_watch);
        let room = KEEP.saturating_sub(kept_watch.min(KEEP_WATCH));
        let over = (other.len() + usize::from(!next_is_watch)).saturating_sub(room);
        doomed.extend(other.iter().copied().filter(|&id| finished(id)).take(over));
        for id in doomed {
            for suffix in ["json", "snapshot.json", "end.json"] {
                let _ = fs::remove_file(self.path(id, suffix));
            }
        }
    }
}

/// What the journal writes, indented for people who look.
fn pretty<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec_pretty(value).expect("journal data always serializes")
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `2026-12-03 15:45:01 UTC`.
pub fn format_time(secs: u64) -> String {
    let t = UNIX_EPOCH + std::time::Duration::from_secs(secs);
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .replace('T', " ")
        .replace('Z', " UTC")
}

/// Who runs lvsh: the user behind sudo when there is one.
pub fn user() -> String {
    // SAFETY: getuid cannot fail and touches no memory of ours.
    let uid = unsafe { libc::getuid() };
    let name = std::env::var("SUDO_USER")
        .ok()
        .map(|u| format!("{u} (sudo)"))
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("LOGNAME").ok());
    match name {
        Some(n) if !n.is_empty() => n,
        _ => format!("uid {uid}"),
    }
}

/// Where lvsh keeps what it knows about `netns` (journal, run-time state), under
/// `LVSH_STATE_DIR` or [`STATE_DIR`].
pub fn namespace_state_dir(netns: Option<&str>) -> PathBuf {
    let root = std::env::var_os("LVSH_STATE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(STATE_DIR));
    root.join(namespace_dir(netns))
}

/// The directory name of a namespace's state: its `/run/netns` name, `default` for
/// the namespace of PID 1, else `netns-INODE` (a namespace made with `unshare`).
pub fn namespace_dir(netns: Option<&str>) -> String {
    if let Some(name) = netns {
        return format!("netns-{name}");
    }
    let ino = |p: &Path| fs::metadata(p).map(|m| (m.dev(), m.ino()));
    let Ok(own) = ino(Path::new("/proc/self/ns/net")) else {
        return "default".into();
    };
    let in_init_net = Path::new(INIT_NET_ONLY_SYSCTL).exists();
    if is_pid1_namespace(own, ino(Path::new("/proc/1/ns/net")), in_init_net) {
        return "default".into();
    }
    if let Ok(named) = fs::read_dir("/run/netns") {
        for f in named.flatten() {
            if ino(&f.path()).is_ok_and(|i| i == own) {
                return format!("netns-{}", f.file_name().to_string_lossy());
            }
        }
    }
    format!("netns-inode-{}", own.1)
}

/// A sysctl the kernel registers in the initial network namespace only, so that a
/// process sees it exactly when it lives there.
const INIT_NET_ONLY_SYSCTL: &str = "/proc/sys/net/core/netdev_max_backlog";

/// Whether our namespace `own` is PID 1's. Reading `/proc/1/ns/net` needs ptrace
/// access to PID 1, which a daemon holding CAP_NET_ADMIN alone (lvsh-watch.service)
/// lacks; then the initial namespace stands for PID 1's, as it does outside
/// containers, so the daemon and `lvsh status` share one state directory.
fn is_pid1_namespace(own: (u64, u64), pid1: io::Result<(u64, u64)>, in_init_net: bool) -> bool {
    match pid1 {
        Ok(pid1) => pid1 == own,
        Err(_) => in_init_net,
    }
}

/// Writes `bytes` to `path` so that a crash leaves either the old file or the whole
/// new one: a temporary file beside it, fsynced, renamed over it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// [`write_atomic`] of what `fill` writes, through a buffer.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut io::BufWriter<&File>) -> io::Result<()>,
) -> io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let f = File::create(&tmp)?;
    let mut w = io::BufWriter::with_capacity(64 * 1024, &f);
    fill(&mut w)?;
    w.flush()?;
    drop(w);
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path)
}

/// Makes renames in `dir` durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            id: 0,
            command: "apply".into(),
            started: 1_780_000_000,
            user: "root".into(),
            pid: 42,
            script: Some("site.rhai".into()),
            script_sha256: None,
            added: 1,
            changed: 0,
            deleted: 2,
        }
    }

    #[test]
    fn pid1_namespace_falls_back_to_the_initial_one_when_pid1_is_unreadable() {
        let denied = || Err(io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(is_pid1_namespace((3, 10), Ok((3, 10)), false));
        // PID 1 readable and elsewhere (a container): its answer wins.
        assert!(!is_pid1_namespace((3, 10), Ok((3, 11)), true));
        assert!(is_pid1_namespace((3, 10), denied(), true));
        assert!(!is_pid1_namespace((3, 10), denied(), false));
    }

    static EMPTY: std::sync::LazyLock<Balancer> = std::sync::LazyLock::new(Balancer::default);

    fn snapshot() -> SnapshotOut<'static, serde_json::Value> {
        SnapshotOut {
            before: &EMPTY,
            foreign: &[],
            plan: serde_json::json!({"changes": []}),
        }
    }

    #[test]
    fn entries_get_increasing_ids_and_end_once_finished() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::at(dir.path().join("journal"));
        assert!(j.entries().unwrap().is_empty());
        let a = j.begin(header(), &snapshot()).unwrap();
        let b = j.begin(header(), &snapshot()).unwrap();
        assert_eq!((a, b), (1, 2));
        assert_eq!(j.unfinished().unwrap().len(), 2);
        j.finish(a, Outcome::Applied, "").unwrap();
        let open = j.unfinished().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].header.id, 2);
        assert_eq!(j.entry(1).unwrap().end.unwrap().outcome, Outcome::Applied);
        let back = j.snapshot(2).unwrap();
        assert_eq!((back.before, back.foreign), (Balancer::default(), vec![]));
        let text = fs::read_to_string(j.path(2, "snapshot.json")).unwrap();
        assert!(text.contains(r#""plan":{"changes":[]}"#), "{text}");
        assert!(matches!(j.entry(9), Err(JournalError::NoEntry { id: 9 })));
        // Nothing but the entries' files is left behind.
        let mut names: Vec<_> = fs::read_dir(j.dir())
            .unwrap()
            .map(|f| f.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "000001.end.json",
                "000001.json",
                "000001.snapshot.json",
                "000002.json",
                "000002.snapshot.json"
            ]
        );
    }

    #[test]
    fn watch_writes_never_push_the_operators_applies_out() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::at(dir.path().to_path_buf());
        let begin = |command: &str| {
            let id = j
                .begin(
                    Header {
                        command: command.into(),
                        ..header()
                    },
                    &snapshot(),
                )
                .unwrap();
            j.finish(id, Outcome::Applied, "").unwrap();
            id
        };
        let applies: Vec<u64> = (0..3).map(|_| begin("apply")).collect();
        for _ in 0..KEEP * 2 {
            begin(WATCH_COMMAND);
        }
        let all = j.entries().unwrap();
        let kept = |c: &str| all.iter().filter(|e| e.header.command == c).count();
        assert_eq!(kept(WATCH_COMMAND), KEEP_WATCH);
        assert_eq!(kept("apply"), 3);
        assert_eq!(
            all[..3].iter().map(|e| e.header.id).collect::<Vec<_>>(),
            applies
        );
        // Operator entries still fill the rest, and the watch writes keep their share.
        for _ in 0..KEEP {
            begin("apply");
        }
        let all = j.entries().unwrap();
        assert_eq!(all.len(), KEEP);
        let kept = |c: &str| all.iter().filter(|e| e.header.command == c).count();
        assert_eq!(kept(WATCH_COMMAND), KEEP_WATCH);
        assert_eq!(kept("apply"), KEEP - KEEP_WATCH);
    }

    #[test]
    fn old_finished_entries_are_pruned_unfinished_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::at(dir.path().to_path_buf());
        let first = j.begin(header(), &snapshot()).unwrap();
        for _ in 0..KEEP + 5 {
            let id = j.begin(header(), &snapshot()).unwrap();
            j.finish(id, Outcome::Applied, "").unwrap();
        }
        let all = j.entries().unwrap();
        assert!(all.len() <= KEEP + 1, "{}", all.len());
        assert_eq!(all[0].header.id, first, "the unfinished entry stays");
    }

    #[test]
    fn a_damaged_header_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::at(dir.path().to_path_buf());
        fs::write(dir.path().join("000003.json"), "{not json").unwrap();
        let err = j.entries().unwrap_err();
        assert!(matches!(err, JournalError::Damaged { .. }), "{err:?}");
    }

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
    }

    #[test]
    fn a_named_namespace_has_its_own_directory() {
        assert_eq!(namespace_dir(Some("lb1")), "netns-lb1");
    }
}
