//! Where the history lives: `--history FILE`, else `$XDG_STATE_HOME/lvsh/history`,
//! else `~/.local/state/lvsh/history` (history is state, not configuration).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The history file to use; `None` when there is no home to put it in.
pub(crate) fn path(given: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = given {
        return Some(p.to_path_buf());
    }
    default_path(
        std::env::var_os("XDG_STATE_HOME"),
        directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf()),
    )
}

/// The XDG rule: a relative `XDG_STATE_HOME` is ignored.
fn default_path(xdg_state_home: Option<OsString>, home: Option<PathBuf>) -> Option<PathBuf> {
    let state = xdg_state_home
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home.map(|h| h.join(".local").join("state")))?;
    Some(state.join("lvsh").join("history"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdg_state_home_first_then_home() {
        assert_eq!(
            default_path(Some("/var/lib/me".into()), Some("/root".into())),
            Some(PathBuf::from("/var/lib/me/lvsh/history"))
        );
        assert_eq!(
            default_path(None, Some("/root".into())),
            Some(PathBuf::from("/root/.local/state/lvsh/history"))
        );
        assert_eq!(
            default_path(Some("relative".into()), Some("/home/op".into())),
            Some(PathBuf::from("/home/op/.local/state/lvsh/history"))
        );
        assert_eq!(default_path(None, None), None);
    }

    #[test]
    fn a_given_file_wins() {
        assert_eq!(
            path(Some(Path::new("/tmp/h"))),
            Some(PathBuf::from("/tmp/h"))
        );
    }
}
