//! The run-time state on disk: `runtime.json` beside the journal, replaced
//! atomically (temporary file, fsync, rename, directory fsync), so `kill -9` or a
//! power cut leaves the old file or the new one. It changes when a health or a
//! drain does.
//!
//! The last result of every probe changes every few seconds: it goes to
//! `results.json` under `/run/lvsh` (memory, not the disk: at 2,000 servers it
//! would be a megabyte and more rewritten each second), and a reboot forgets it.

use crate::{
    apply::{LOCK_DIR, namespace_dir, namespace_state_dir, sync_dir, write_atomic},
    model::{DestKey, ProbeResult, Runtime, ServiceKey},
};
use serde::{Deserialize, Serialize};
use std::{
    borrow::Cow,
    io,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
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
    results: PathBuf,
    /// The file as this store last wrote it, to see another writer's change.
    written: Arc<Mutex<Option<Stamp>>>,
}

/// Identifies one version of the file: each write renames a new one into place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    ino: u64,
    mtime: (i64, i64),
    len: u64,
}

/// The last results, a list like `runtime.json`'s. Written from borrowed results:
/// the daemon writes 4,000 of them a second at 2,000 servers.
#[derive(Serialize, Deserialize)]
struct ResultsFile<'a> {
    results: Vec<ServerResult<'a>>,
}

#[derive(Serialize, Deserialize)]
struct ServerResult<'a> {
    service: ServiceKey,
    dest: DestKey,
    last: Cow<'a, ProbeResult>,
}

impl Store {
    /// `LVSH_STATE_DIR` (tests) puts the results beside the state as well.
    pub fn for_netns(netns: Option<&str>) -> Store {
        let dir = namespace_state_dir(netns);
        let results = if std::env::var_os("LVSH_STATE_DIR").is_some() {
            dir.join("results.json")
        } else {
            Path::new(LOCK_DIR)
                .join(namespace_dir(netns))
                .join("results.json")
        };
        Store {
            results,
            ..Store::at(dir.join("runtime.json"))
        }
    }

    /// The results go beside `path`.
    pub fn at(path: PathBuf) -> Store {
        Store {
            results: path.with_file_name("results.json"),
            path,
            written: Arc::default(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The state with the last results; empty when there is no file yet.
    pub fn load(&self) -> Result<Runtime, StoreError> {
        let mut runtime = self.load_state()?;
        // Volatile and best effort: a missing or torn file only hides last results.
        let results = std::fs::read(&self.results)
            .ok()
            .and_then(|b| serde_json::from_slice::<ResultsFile>(&b).ok());
        for r in results.into_iter().flat_map(|f| f.results) {
            if let Some(h) = runtime
                .servers
                .get_mut(&(r.service, r.dest))
                .and_then(|s| s.health.as_mut())
            {
                h.last = Some(r.last.into_owned());
            }
        }
        Ok(runtime)
    }

    fn load_state(&self) -> Result<Runtime, StoreError> {
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

    /// [`Store::update`] for the one writer that holds the state in memory: the
    /// file is read (a megabyte at 2,000 servers) only when someone else wrote it
    /// since this store did. The lock is held until [`Updating::save`].
    pub fn update_own(&self) -> Result<Updating<'_>, StoreError> {
        let lock = self.lock()?;
        let elsewhere = if self.changed_elsewhere() {
            Some(self.load()?)
        } else {
            None
        };
        Ok(Updating {
            store: self,
            _lock: lock,
            elsewhere,
        })
    }

    /// Whether someone else (`lvsh drain`) wrote the state since this store did.
    pub fn changed_elsewhere(&self) -> bool {
        *self.written.lock().expect("stamp lock") != self.stamp()
    }

    fn stamp(&self) -> Option<Stamp> {
        let m = std::fs::metadata(&self.path).ok()?;
        Some(Stamp {
            ino: m.ino(),
            mtime: (m.mtime(), m.mtime_nsec()),
            len: m.len(),
        })
    }

    /// Writes the last results (not durable: they are in memory, and only
    /// `lvsh status` reads them).
    pub fn save_results<'a>(
        &self,
        results: impl IntoIterator<Item = (ServiceKey, DestKey, &'a ProbeResult)>,
    ) -> Result<(), StoreError> {
        let write = |source| StoreError::Write {
            path: self.results.clone(),
            source,
        };
        let file = ResultsFile {
            results: results
                .into_iter()
                .map(|(service, dest, last)| ServerResult {
                    service,
                    dest,
                    last: Cow::Borrowed(last),
                })
                .collect(),
        };
        let dir = self.results.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(write)?;
        let tmp = self.results.with_extension("json.tmp");
        let bytes = serde_json::to_vec(&file).expect("results serialize");
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::rename(&tmp, &self.results))
            .map_err(write)
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
        let mut bytes =
            serde_json::to_vec_pretty(&without_results(runtime)).expect("runtime state serializes");
        bytes.push(b'\n');
        write_atomic(&self.path, &bytes).map_err(write)?;
        sync_dir(dir).map_err(write)?;
        *self.written.lock().expect("stamp lock") = self.stamp();
        Ok(())
    }
}

/// The state file locked for its one in-memory writer ([`Store::update_own`]).
pub struct Updating<'s> {
    store: &'s Store,
    _lock: std::fs::File,
    /// What another writer (`lvsh drain`) left in the file, when one wrote it
    /// since this store did.
    pub elsewhere: Option<Runtime>,
}

impl Updating<'_> {
    /// Durable when this returns; then the lock is let go.
    pub fn save(self, runtime: &Runtime) -> Result<(), StoreError> {
        self.store.save(runtime)
    }
}

/// What is durable: everything but the last results.
fn without_results(runtime: &Runtime) -> Runtime {
    let mut kept = runtime.clone();
    for s in kept.servers.values_mut() {
        if let Some(h) = &mut s.health {
            h.last = None;
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        DestKey, Drain, DrainState, Health, HealthState, ProbeResult, Protocol, ServiceKey,
    };

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
    fn last_results_stay_out_of_the_durable_file_and_read_back_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().join("runtime.json"));
        let svc = ServiceKey::inet(Protocol::Tcp, "192.0.2.1".parse().unwrap(), 80);
        let dest = DestKey {
            address: "10.0.0.1".parse().unwrap(),
            port: 80,
        };
        let mut rt = Runtime::default();
        rt.entry(svc, dest).health = Some(Health {
            state: HealthState::Down,
            since: 7,
            last: Some(ProbeResult {
                ok: false,
                at: 9,
                latency_ms: 3,
                reason: "connection refused".into(),
            }),
        });
        store.save(&rt).unwrap();
        let durable = std::fs::read_to_string(store.path()).unwrap();
        assert!(!durable.contains("refused"), "{durable}");
        assert!(
            store.load().unwrap().servers[&(svc, dest)]
                .health
                .as_ref()
                .unwrap()
                .last
                .is_none()
        );
        let last = rt.servers.values().filter_map(|s| {
            let last = s.health.as_ref()?.last.as_ref()?;
            Some((s.service, s.dest, last))
        });
        store.save_results(last).unwrap();
        assert_eq!(store.load().unwrap(), rt);
        // A torn results file hides the results, not the state.
        std::fs::write(dir.path().join("results.json"), "{\"results\": [").unwrap();
        let health = store.load().unwrap().servers[&(svc, dest)]
            .health
            .clone()
            .unwrap();
        assert_eq!(
            (health.state, health.since, health.last),
            (HealthState::Down, 7, None)
        );
    }

    #[test]
    fn a_write_by_another_store_is_seen_and_its_own_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runtime.json");
        let (watch, drain) = (Store::at(path.clone()), Store::at(path));
        watch.save(&Runtime::default()).unwrap();
        assert!(!watch.changed_elsewhere());
        drain.update(|_| ()).unwrap();
        assert!(watch.changed_elsewhere());
        watch.update(|_| ()).unwrap();
        assert!(!watch.changed_elsewhere());
        // The one writer reads the file only after another wrote it.
        let svc = ServiceKey::inet(Protocol::Tcp, "192.0.2.1".parse().unwrap(), 80);
        let dest = |port| DestKey {
            address: "10.0.0.1".parse().unwrap(),
            port,
        };
        let mut own = Runtime::default();
        own.entry(svc, dest(1)).script_weight = Some(1);
        let update = watch.update_own().unwrap();
        assert_eq!(update.elsewhere, None);
        update.save(&own).unwrap();
        assert_eq!(watch.update_own().unwrap().elsewhere, None, "its own write");
        drain
            .update(|rt| rt.entry(svc, dest(2)).script_weight = Some(2))
            .unwrap();
        let update = watch.update_own().unwrap();
        let theirs = update
            .elsewhere
            .clone()
            .expect("the other writer's file is read");
        assert_eq!(theirs.servers.len(), 2, "the other writer's record is read");
        update.save(&theirs).unwrap();
        assert_eq!(watch.update_own().unwrap().elsewhere, None);
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
