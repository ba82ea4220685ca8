//! A cache of validated evaluations: a no-op `check`, `plan` or `apply` of a script
//! that has not changed skips parsing and running it.
//!
//! An entry is found by a [`Key`] over everything known before the evaluation (the
//! script, `--set`, `--scope`, `-I`, the build of lvsh), and holds only while every
//! module file the evaluation read or looked for still says the same (its
//! [`Input`]s). What a hit returns is what the evaluation returned: the model and the
//! lines it printed, so its output is the same byte for byte. Only evaluations that
//! succeeded are stored; an entry that cannot be read, of another format or of
//! another key is a miss, never an error.

pub(crate) mod dir;
mod entry;
mod key;

pub use dir::CacheDir;
pub use key::{Build, Key};

use crate::dsl::{Evaluated, Input};

/// Bumped whenever what an entry holds, or how a key is made, changes.
pub const FORMAT: u32 = 4;

/// The cache of one run; `None` inside when there is none to use.
pub struct Cache {
    dir: Option<CacheDir>,
}

impl Cache {
    /// The user's cache (see [`CacheDir::default_path`]); none with `disabled`.
    pub fn open(disabled: bool) -> Cache {
        Cache {
            dir: (!disabled).then(CacheDir::open_default).flatten(),
        }
    }

    pub fn at(dir: CacheDir) -> Cache {
        Cache { dir: Some(dir) }
    }

    pub fn is_enabled(&self) -> bool {
        self.dir.is_some()
    }

    /// The stored evaluation for `key`, if there is one whose inputs are unchanged.
    pub fn lookup(&self, key: &Key) -> Option<Evaluated> {
        let dir = self.dir.as_ref()?;
        let bytes = dir.read(key)?;
        let found = entry::decode(&bytes, key)?;
        if !found.inputs.iter().all(Input::unchanged) {
            return None;
        }
        dir.touch(key);
        Some(found)
    }

    /// Stores `evaluated` under `key`; a failure to write only loses the entry.
    pub fn store(&self, key: &Key, evaluated: &Evaluated) {
        if let Some(dir) = &self.dir {
            dir.write(key, |out| entry::encode(key, evaluated, out));
        }
    }
}

#[cfg(test)]
mod tests;
