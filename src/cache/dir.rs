//! Where entries live: `LVSH_CACHE_DIR`, else `/var/cache/lvsh` for root and the
//! user's cache directory (`~/.cache/lvsh`) for others. One file per key, written
//! beside and renamed over (concurrent runs each see a whole entry or none), and at
//! most [`MAX_ENTRIES`] files and [`MAX_BYTES`] bytes: the least recently used go.

use super::Key;
use std::{
    fs::{self, DirBuilder, File},
    io::{BufWriter, Write},
    os::unix::fs::{DirBuilderExt, MetadataExt},
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

/// The most entries kept (a director has a few scripts; each `--set` makes its own).
pub const MAX_ENTRIES: usize = 64;
/// The most bytes kept (an entry of 10,000 services is some 6 MB).
pub const MAX_BYTES: u64 = 128 << 20;
/// A temporary file this old was left by a run that died.
const STALE_TEMP: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone)]
pub struct CacheDir {
    path: PathBuf,
}

impl CacheDir {
    /// Where the cache is, or `None` when there is no place for one (an empty
    /// `LVSH_CACHE_DIR` turns it off).
    pub fn default_path() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("LVSH_CACHE_DIR") {
            return (!d.is_empty()).then(|| PathBuf::from(d));
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } == 0 {
            return Some(PathBuf::from("/var/cache/lvsh"));
        }
        directories::ProjectDirs::from("", "", "lvsh").map(|d| d.cache_dir().to_path_buf())
    }

    pub fn open_default() -> Option<CacheDir> {
        CacheDir::open(&Self::default_path()?)
    }

    /// The directory at `path`, made (0700) if missing. `None` unless it is ours and
    /// nobody else may write to it: root would otherwise run models others put there.
    pub fn open(path: &Path) -> Option<CacheDir> {
        let _ = DirBuilder::new().recursive(true).mode(0o700).create(path);
        let m = fs::metadata(path).ok()?;
        // SAFETY: as above.
        let euid = unsafe { libc::geteuid() };
        if !m.is_dir() || m.uid() != euid || m.mode() & 0o022 != 0 {
            return None;
        }
        Some(CacheDir {
            path: path.to_path_buf(),
        })
    }

    fn file(&self, key: &Key) -> PathBuf {
        self.path.join(format!("{}.entry", key.hex()))
    }

    pub fn read(&self, key: &Key) -> Option<Vec<u8>> {
        fs::read(self.file(key)).ok()
    }

    /// Marks the entry used now, so eviction keeps it.
    pub fn touch(&self, key: &Key) {
        if let Ok(f) = File::options().write(true).open(self.file(key)) {
            let _ = f.set_modified(SystemTime::now());
        }
    }

    /// Writes the entry (temp file and rename; not synced: a torn entry is a miss),
    /// then evicts. Errors lose the entry and nothing else.
    pub fn write(
        &self,
        key: &Key,
        encode: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
    ) {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let tmp = self
            .path
            .join(format!(".tmp-{}-{nanos}", std::process::id()));
        let written = File::create(&tmp)
            .and_then(|f| {
                let mut out = BufWriter::with_capacity(64 * 1024, f);
                encode(&mut out)?;
                out.flush()
            })
            .and_then(|_| fs::rename(&tmp, self.file(key)));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        self.evict();
    }

    /// Removes the least recently used entries beyond the limits, and dead temp files.
    fn evict(&self) {
        let Ok(list) = fs::read_dir(&self.path) else {
            return;
        };
        let now = SystemTime::now();
        let mut entries = vec![];
        for e in list.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let Ok(m) = e.metadata() else { continue };
            let modified = m.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if name.starts_with(".tmp-") {
                if now.duration_since(modified).unwrap_or_default() > STALE_TEMP {
                    let _ = fs::remove_file(e.path());
                }
            } else if (name.ends_with(".entry") || name.ends_with(".json")) && m.is_file() {
                // `.json`: an entry of format 1, a miss now, evicted like the rest.
                entries.push((modified, m.len(), e.path()));
            }
        }
        entries.sort_by_key(|e| std::cmp::Reverse(e.0));
        let mut bytes = 0;
        for (i, (_, len, path)) in entries.iter().enumerate() {
            bytes += len;
            if i >= MAX_ENTRIES || bytes > MAX_BYTES {
                let _ = fs::remove_file(path);
            }
        }
    }
}
