//! The run-time state on disk: `runtime.json` beside the journal, replaced
//! atomically (temporary file, fsync, rename, directory fsync), so `kill -9` or a
//! power cut leaves the old file or the new one.

use crate::{
    apply::{namespace_state_dir, sync_dir, write_atomic},
    model::Runtime,
};
use std::{
    io,
    path::{Path, PathBuf},
};

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StoreError {
    #[error("cannot read the run-time state `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the run-time state `{}` is damaged: {message}", path.display())]
    #[diagnostic(help(
        "it records drains and health; move it away to start from nothing (drains are then forgotten)"
    ))]
    Damaged { path: PathBuf, message: String },
    #[error("cannot write the run-time state `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The run-time state file of one network namespace.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

impl Store {
    pub fn for_netns(netns: Option<&str>) -> Store {
        Store::at(namespace_state_dir(netns).join("runtime.json"))
    }

    pub fn at(path: PathBuf) -> Store {
        Store { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The state; empty when there is no file yet.
    pub fn load(&self) -> Result<Runtime, StoreError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Runtime::default()),
            Err(source) => {
                return Err(StoreError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Damaged {
            path: self.path.clone(),
            message: e.to_string(),
        })
    }

    /// Reads, changes and writes the state while holding its lock, so `lvsh
    /// drain` and `lvsh watch` never lose each other's records. Durable when this
    /// returns.
    pub fn update<T>(&self, change: impl FnOnce(&mut Runtime) -> T) -> Result<T, StoreError> {
        let _lock = self.lock()?;
        let mut runtime = self.load()?;
        let out = change(&mut runtime);
        self.save(&runtime)?;
        Ok(out)
    }

    /// An exclusive lock beside the file, held while it is read and written again.
    fn lock(&self) -> Result<std::fs::File, StoreError> {
        let write = |source| StoreError::Write {
            path: self.path.clone(),
            source,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(write)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.path.with_extension("lock"))
            .map_err(write)?;
        // SAFETY: flock on a file descriptor we own; no memory is shared.
        let rc = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), libc::LOCK_EX) };
        if rc != 0 {
            return Err(write(io::Error::last_os_error()));
        }
        Ok(file)
    }

    /// Durable when this returns. Writers that may race use [`Store::update`].
    pub fn save(&self, runtime: &Runtime) -> Result<(), StoreError> {
        let write = |source| StoreError::Write {
            path: self.path.clone(),
            source,
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(write)?;
        let mut bytes = serde_json::to_vec_pretty(runtime).expect("runtime state serializes");
        bytes.push(b'\n');
        write_atomic(&self.path, &bytes).map_err(write)?;
        sync_dir(dir).map_err(write)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DestKey, Drain, DrainState, Protocol, ServiceKey};

    #[test]
    fn a_missing_file_is_empty_and_a_saved_one_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().join("ns/runtime.json"));
        assert_eq!(store.load().unwrap(), Runtime::default());
        let mut rt = Runtime::default();
        let svc = ServiceKey::inet(Protocol::Tcp, "192.0.2.1".parse().unwrap(), 80);
        let dest = DestKey {
            address: "10.0.0.1".parse().unwrap(),
            port: 80,
        };
        rt.entry(svc, dest).drain = Some(Drain {
            state: DrainState::Draining,
            started: 1,
            deadline: Some(61),
            prior_weight: 5,
            remove: false,
            ended: None,
            outcome: None,
        });
        store.save(&rt).unwrap();
        assert_eq!(store.load().unwrap(), rt);
    }

    #[test]
    fn updates_from_two_threads_keep_both() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().join("runtime.json"));
        let svc = ServiceKey::inet(Protocol::Tcp, "192.0.2.1".parse().unwrap(), 80);
        std::thread::scope(|s| {
            for t in 0..4u16 {
                let store = store.clone();
                s.spawn(move || {
                    for i in 0..25u16 {
                        let dest = DestKey {
                            address: "10.0.0.1".parse().unwrap(),
                            port: t * 100 + i + 1,
                        };
                        store
                            .update(|rt| rt.entry(svc, dest).script_weight = Some(1))
                            .unwrap();
                    }
                });
            }
        });
        assert_eq!(store.load().unwrap().servers.len(), 100);
    }

    #[test]
    fn a_damaged_file_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runtime.json");
        std::fs::write(&path, "{\"format\": 1, \"servers\": [").unwrap();
        let err = Store::at(path).load().unwrap_err();
        assert!(
            err.to_string().contains("runtime.json` is damaged"),
            "{err}"
        );
    }
}
