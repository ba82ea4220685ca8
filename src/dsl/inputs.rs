//! The files an evaluation read besides the script, for a cache of its result: each
//! module file the resolver read (by content hash), and each place it looked first
//! and found nothing (a module put there later would be imported instead). Like a
//! make depfile: the set is only known after the evaluation, and a cached result
//! holds as long as every entry still says the same.
//!
//! Nothing else a script can reach reads outside the evaluation: the embedded stdlib
//! is part of the binary, and the clock (only the time limit reads it) can stop an
//! evaluation but not change what a finished one produced (see `engine::REMOVED`).

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One file the resolver looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Input {
    /// The path as the resolver built it (`-I` or the importer's directory + name).
    pub path: PathBuf,
    /// What was read there, or `None` when there was no file.
    pub read: Option<Read>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Read {
    /// Where `path` led (symlinks resolved): the directories imports may read are
    /// checked against this.
    pub real: PathBuf,
    /// SHA-256 of the text (`sha256:HEX`).
    pub sha256: String,
}

impl Input {
    pub(crate) fn absent(path: &Path) -> Input {
        Input {
            path: path.to_path_buf(),
            read: None,
        }
    }

    pub(crate) fn read(path: &Path, real: PathBuf, text: &str) -> Input {
        Input {
            path: path.to_path_buf(),
            read: Some(Read {
                real,
                sha256: sha256_hex(text.as_bytes()),
            }),
        }
    }

    /// Whether the file system still says what it said when this was recorded.
    pub fn unchanged(&self) -> bool {
        match &self.read {
            None => !self.path.is_file(),
            Some(r) => {
                self.path.canonicalize().ok().as_ref() == Some(&r.real)
                    && std::fs::read(&r.real).is_ok_and(|b| sha256_hex(&b) == r.sha256)
            }
        }
    }
}

/// `sha256:HEX`, as lvsh names content hashes.
fn sha256_hex(bytes: &[u8]) -> String {
    crate::state::sha256(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_is_unchanged_until_its_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.rhai");
        let none = Input::absent(&p);
        assert!(none.unchanged());
        std::fs::write(&p, "fn a() {}").unwrap();
        assert!(!none.unchanged(), "a module that appeared");
        let read = Input::read(&p, p.canonicalize().unwrap(), "fn a() {}");
        assert!(read.unchanged());
        std::fs::write(&p, "fn a() { 1 }").unwrap();
        assert!(!read.unchanged(), "a module that changed");
        std::fs::remove_file(&p).unwrap();
        assert!(!read.unchanged(), "a module that went");
    }
}
