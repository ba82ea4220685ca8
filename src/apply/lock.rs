//! One `apply` at a time per network namespace, and one `watch`.

use std::{
    fs::{File, OpenOptions},
    os::unix::{fs::MetadataExt, io::AsRawFd},
    path::{Path, PathBuf},
};

/// How long a command that writes waits for another writer (a running apply, or a
/// weight change of `lvsh watch`, which takes milliseconds) before it gives up.
pub const WRITER_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

/// Where the lock files live; a tmpfs, so a reboot clears stale ones.
pub const LOCK_DIR: &str = "/run/lvsh";

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LockError {
    #[error(
        "another lvsh writer (apply, rollback, drain, or a weight change of watch) is still at work in this network namespace"
    )]
    #[diagnostic(help("lvsh waited a few seconds for it; try again when it is done; it holds the lock `{}`", path.display()))]
    Busy { path: PathBuf },
    #[error("`lvsh watch` is already running in this network namespace")]
    #[diagnostic(help("one watch per namespace; it holds the lock `{}`", path.display()))]
    WatchRunning { path: PathBuf },
    #[error("cannot take the apply lock `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// An exclusive lock on the namespace, released when dropped (or when the process dies).
#[derive(Debug)]
pub struct ApplyLock {
    _file: File,
    pub path: PathBuf,
}

impl ApplyLock {
    /// Locks the namespace `netns` (`None` = the one lvsh runs in). Namespaces are
    /// identified by inode, so a name and the current namespace share one lock.
    pub fn acquire(netns: Option<&str>) -> Result<Self, LockError> {
        Self::acquire_in(Path::new(LOCK_DIR), netns)
    }

    pub fn acquire_in(dir: &Path, netns: Option<&str>) -> Result<Self, LockError> {
        Self::take(dir, netns, "lock", libc::LOCK_EX | libc::LOCK_NB)
    }

    /// Like [`ApplyLock::acquire`], waiting up to `patience` for a running apply.
    pub fn acquire_waiting(
        netns: Option<&str>,
        patience: std::time::Duration,
    ) -> Result<Self, LockError> {
        Self::acquire_waiting_in(Path::new(LOCK_DIR), netns, patience)
    }

    pub fn acquire_waiting_in(
        dir: &Path,
        netns: Option<&str>,
        patience: std::time::Duration,
    ) -> Result<Self, LockError> {
        let until = std::time::Instant::now() + patience;
        loop {
            match Self::acquire_in(dir, netns) {
                Err(LockError::Busy { .. }) if std::time::Instant::now() < until => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                other => return other,
            }
        }
    }

    /// Held by `lvsh watch` for its whole life: a second watch is refused, and
    /// `plan`/`apply` see that health holds are live.
    pub fn watch(netns: Option<&str>) -> Result<Self, LockError> {
        Self::watch_in(Path::new(LOCK_DIR), netns)
    }

    pub fn watch_in(dir: &Path, netns: Option<&str>) -> Result<Self, LockError> {
        Self::take(dir, netns, "watch", libc::LOCK_EX | libc::LOCK_NB).map_err(|e| match e {
            LockError::Busy { path } => LockError::WatchRunning { path },
            e => e,
        })
    }

    /// Whether a `lvsh watch` runs for `netns` now.
    pub fn watch_running(netns: Option<&str>) -> bool {
        Self::watch_running_in(Path::new(LOCK_DIR), netns)
    }

    pub fn watch_running_in(dir: &Path, netns: Option<&str>) -> bool {
        matches!(
            Self::take(dir, netns, "watch", libc::LOCK_SH | libc::LOCK_NB),
            Err(LockError::Busy { .. })
        )
    }

    fn take(dir: &Path, netns: Option<&str>, kind: &str, op: i32) -> Result<Self, LockError> {
        let ns_path = match netns {
            Some(name) => PathBuf::from("/run/netns").join(name),
            None => PathBuf::from("/proc/self/ns/net"),
        };
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| LockError::Io { path, source }
        };
        let inode = std::fs::metadata(&ns_path).map_err(io(&ns_path))?.ino();
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(format!("netns-{inode}.{kind}"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        // SAFETY: flock on a file descriptor we own; no memory is shared.
        let rc = unsafe { libc::flock(file.as_raw_fd(), op) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            return Err(if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                LockError::Busy { path }
            } else {
                LockError::Io { path, source: err }
            });
        }
        Ok(ApplyLock { _file: file, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_on_the_same_namespace_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = ApplyLock::acquire_in(dir.path(), None).unwrap();
        let err = ApplyLock::acquire_in(dir.path(), None).unwrap_err();
        assert!(matches!(err, LockError::Busy { .. }), "{err:?}");
        drop(first);
        ApplyLock::acquire_in(dir.path(), None).unwrap();
    }

    #[test]
    fn a_running_watch_is_seen_and_a_second_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!ApplyLock::watch_running_in(dir.path(), None));
        let watch = ApplyLock::watch_in(dir.path(), None).unwrap();
        assert!(ApplyLock::watch_running_in(dir.path(), None));
        let err = ApplyLock::watch_in(dir.path(), None).unwrap_err();
        assert!(matches!(err, LockError::WatchRunning { .. }), "{err:?}");
        // The apply lock is a different one.
        ApplyLock::acquire_in(dir.path(), None).unwrap();
        drop(watch);
        assert!(!ApplyLock::watch_running_in(dir.path(), None));
    }

    #[test]
    fn unknown_namespace_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = ApplyLock::acquire_in(dir.path(), Some("no-such-ns-lvsh")).unwrap_err();
        assert!(
            err.to_string().contains("cannot take the apply lock"),
            "{err}"
        );
    }
}
