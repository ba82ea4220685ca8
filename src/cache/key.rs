//! What an entry is found by: a SHA-256 over every input known before evaluation.

use crate::dsl::Options;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Which lvsh evaluates: its version, and the identity of its executable (a
/// rebuild of the same version may evaluate differently, and holds other stdlib
/// recipes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub version: String,
    pub executable: String,
}

impl Build {
    /// This process's: the version, and the executable's path, size and change time.
    pub fn current() -> Build {
        let executable = std::env::current_exe()
            .and_then(|p| {
                use std::os::unix::fs::MetadataExt;
                let m = std::fs::metadata(&p)?;
                Ok(format!(
                    "{} {} {} {}.{}",
                    p.display(),
                    m.ino(),
                    m.len(),
                    m.mtime(),
                    m.mtime_nsec()
                ))
            })
            .unwrap_or_default();
        Build {
            version: env!("CARGO_PKG_VERSION").to_string(),
            executable,
        }
    }
}

/// The key of one evaluation, in hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    hex: String,
    /// The script's own SHA-256 (`sha256:HEX`), which the key is made from.
    script: String,
}

impl Key {
    /// The key of evaluating `text`, named `name`, with imports from `base_dir` and
    /// `opts`, by `build`. Relative directories are taken from the current one, which
    /// therefore takes part; each directory also by where it leads (imports may read
    /// only inside the real directories).
    pub fn new(build: &Build, name: &str, text: &str, base_dir: &Path, opts: &Options) -> Key {
        let mut h = Fields(Sha256::new());
        h.field(b"lvsh evaluation cache");
        h.field(&super::FORMAT.to_le_bytes());
        h.field(build.version.as_bytes());
        h.field(build.executable.as_bytes());
        let cwd = std::env::current_dir().unwrap_or_default();
        h.field(cwd.as_os_str().as_encoded_bytes());
        h.field(name.as_bytes());
        // The script by its own digest, which an apply's journal record also names
        // it by: a script of 0.4 MB is hashed once, not twice.
        let script = crate::state::sha256(text.as_bytes());
        h.field(script.as_bytes());
        h.dir(base_dir);
        // Every option, by name: a new one does not compile until it is keyed here.
        let Options {
            lib_dirs,
            params,
            scope,
            values,
            libraries,
        } = opts;
        h.count(lib_dirs.len());
        for d in lib_dirs {
            h.dir(d);
        }
        h.count(params.len());
        for (k, v) in params {
            h.field(k.as_bytes());
            h.field(v.as_bytes());
        }
        let scope = serde_json::to_vec(scope).unwrap_or_default();
        h.field(&scope);
        // A site's values are whatever its files say, in their order (the merge,
        // pins and places all follow from them).
        match values {
            None => h.field(b"no values files"),
            Some(v) => {
                h.count(v.layers.len());
                for layer in &v.layers {
                    h.field(layer.name.as_bytes());
                    h.field(layer.text.as_bytes());
                }
            }
        }
        // Libraries by name, content hash and where they are read from (a library's
        // files may change only with its hash: verified before every run).
        match libraries {
            None => h.field(b"no libraries"),
            Some(l) => {
                h.dir(&l.site_root);
                h.count(l.libs.len());
                for lib in &l.libs {
                    h.field(lib.name.as_bytes());
                    h.field(lib.hash.as_bytes());
                    h.field(
                        lib.version
                            .as_ref()
                            .map(|v| v.to_string())
                            .unwrap_or_default()
                            .as_bytes(),
                    );
                    h.dir(&lib.root);
                }
            }
        }
        let digest = h.0.finalize();
        Key {
            hex: crate::hex::lower_hex(&digest),
            script,
        }
    }

    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The SHA-256 of the script's text, as `sha256:HEX`.
    pub fn script_sha256(&self) -> &str {
        &self.script
    }
}

/// Fields hashed with their lengths, so that no two lists of fields run together.
struct Fields(Sha256);

impl Fields {
    fn field(&mut self, bytes: &[u8]) {
        self.count(bytes.len());
        self.0.update(bytes);
    }

    fn count(&mut self, n: usize) {
        self.0.update((n as u64).to_le_bytes());
    }

    fn dir(&mut self, d: &Path) {
        self.field(d.as_os_str().as_encoded_bytes());
        let real = d.canonicalize().unwrap_or_default();
        self.field(real.as_os_str().as_encoded_bytes());
    }
}
