//! The directories `import` may read (the `-I/--lib` directories and the script's
//! own), and reading a module file only from inside them.
//!
//! A name without `..` can still lead out through a symlink (`site.rhai ->
//! /root/secret`). Symlinks are resolved and the real path checked against the
//! real allowed directories, before the file is opened: a refused file is never
//! read, so no error report can show its text. Symlinks that stay inside (a
//! `current.rhai -> v2.rhai` switch) keep working.

use super::script_text::{NOT_TEXT_HELP, ReadError, not_text, read_limited, too_large};
use std::{
    fs::{File, OpenOptions},
    os::{fd::AsRawFd, unix::fs::OpenOptionsExt},
    path::{Path, PathBuf},
};

#[derive(Debug)]
pub(crate) struct AllowedDirs {
    /// Canonical: symlinks resolved, so a prefix test means "inside".
    roots: Vec<PathBuf>,
}

/// Why a module file was not read: a message and a hint, neither with its text.
#[derive(Debug)]
pub(crate) struct Refused {
    pub message: String,
    pub help: Option<String>,
}

const OUTSIDE_HELP: &str = "imports read only the built-in recipes, the -I/--lib directories and \
                            the importing script's directory; a symlink may point only inside them";

impl AllowedDirs {
    /// The directories as they are now; one that does not exist allows nothing.
    pub fn new<'a>(dirs: impl IntoIterator<Item = &'a Path>) -> Self {
        AllowedDirs {
            roots: dirs
                .into_iter()
                .filter_map(|d| d.canonicalize().ok())
                .collect(),
        }
    }

    fn inside(&self, real: &Path) -> bool {
        self.roots.iter().any(|r| real.starts_with(r))
    }

    /// The text of the module file `path`, if it really is inside.
    pub fn read(&self, path: &Path) -> Result<String, Refused> {
        let shown = path.display();
        let io = |e: std::io::Error| Refused {
            message: format!("cannot read module `{shown}`: {e}"),
            help: None,
        };
        let real = path.canonicalize().map_err(io)?;
        let outside = || Refused {
            message: format!(
                "module `{shown}` leads to `{}`, outside the directories imports may read",
                real.display()
            ),
            help: Some(OUTSIDE_HELP.to_string()),
        };
        if !self.inside(&real) {
            return Err(outside());
        }
        // No symlink at the end and no waiting for a writer (a FIFO put there since).
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&real)
            .map_err(io)?;
        if !file.metadata().map_err(io)?.is_file() {
            return Err(Refused {
                message: format!("module `{shown}` is not a regular file"),
                help: None,
            });
        }
        // A directory on the way swapped for a symlink after the check: what was
        // opened is what counts.
        if opened_path(&file).is_some_and(|p| !self.inside(&p)) {
            return Err(outside());
        }
        read_limited(file).map_err(|e| match e {
            ReadError::TooLarge => Refused {
                message: too_large(&format!("module `{shown}`")),
                help: None,
            },
            ReadError::NotText(at) => Refused {
                message: not_text(&format!("module `{shown}`"), at),
                help: Some(NOT_TEXT_HELP.to_string()),
            },
            ReadError::Io(e) => io(e),
        })
    }
}

/// The path of an open file, as the kernel knows it (`None` without /proc).
fn opened_path(file: &File) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_may_not_lead_out() {
        let outer = tempfile::tempdir().unwrap();
        let lib = outer.path().join("lib");
        std::fs::create_dir_all(lib.join("v2")).unwrap();
        std::fs::write(outer.path().join("secret"), "SECRET LINE\n").unwrap();
        std::fs::write(lib.join("v2/web.rhai"), "fn web() {}\n").unwrap();
        symlink(outer.path().join("secret"), lib.join("leak.rhai")).unwrap();
        symlink("../secret", lib.join("rel.rhai")).unwrap();
        symlink(outer.path(), lib.join("up")).unwrap();
        symlink("v2/web.rhai", lib.join("current.rhai")).unwrap();
        let allowed = AllowedDirs::new([lib.as_path()]);

        assert_eq!(
            allowed.read(&lib.join("current.rhai")).unwrap(),
            "fn web() {}\n"
        );
        for bad in ["leak.rhai", "rel.rhai", "up/secret"] {
            let e = allowed.read(&lib.join(bad)).unwrap_err();
            assert!(
                e.message.contains("outside the directories"),
                "{bad}: {e:?}"
            );
            assert!(!e.message.contains("SECRET"), "{bad}: {e:?}");
        }
    }

    #[test]
    fn an_allowed_dir_may_itself_be_a_symlink() {
        let outer = tempfile::tempdir().unwrap();
        std::fs::create_dir(outer.path().join("real")).unwrap();
        std::fs::write(outer.path().join("real/m.rhai"), "1").unwrap();
        symlink(outer.path().join("real"), outer.path().join("link")).unwrap();
        let allowed = AllowedDirs::new([outer.path().join("link").as_path()]);
        assert_eq!(
            allowed.read(&outer.path().join("link/m.rhai")).unwrap(),
            "1"
        );
    }

    #[test]
    fn large_files_and_fifos_are_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.rhai");
        std::fs::write(
            &big,
            vec![b' '; super::super::script_text::MAX_SCRIPT_BYTES as usize + 1],
        )
        .unwrap();
        let fifo = dir.path().join("fifo.rhai");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let allowed = AllowedDirs::new([dir.path()]);
        let e = allowed.read(&big).unwrap_err();
        assert!(e.message.contains("larger than 1048576 bytes"), "{e:?}");
        let e = allowed.read(&fifo).unwrap_err();
        assert!(e.message.contains("not a regular file"), "{e:?}");
    }
}
