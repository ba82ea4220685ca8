//! Where the history lives: `--history FILE`, else `$XDG_STATE_HOME/lvsh/history`,
//! else `~/.local/state/lvsh/history` (history is state, not configuration).

use std::path::{Path, PathBuf};

/// The history file to use; `None` when there is no home to put it in.
pub(crate) fn path(given: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = given {
        return Some(p.to_path_buf());
    }
    // The XDG rules (a relative `XDG_STATE_HOME` is ignored) are the crate's.
    let dirs = directories::ProjectDirs::from("", "", "lvsh")?;
    Some(dirs.state_dir()?.join("history"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_given_file_wins() {
        assert_eq!(
            path(Some(Path::new("/tmp/h"))),
            Some(PathBuf::from("/tmp/h"))
        );
    }
}
