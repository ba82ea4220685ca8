//! What a plan compares the script with, named in its messages: "No changes. The
//! state file `s.json` matches the script." must not claim the kernel was read.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Against {
    /// The live kernel (or the network namespace of `--netns`).
    #[default]
    Kernel,
    /// `--empty`.
    Empty,
    /// `--state FILE`.
    StateFile(PathBuf),
    /// Anything else, named by a phrase that fits after "in sync with".
    Named(String),
}

impl Against {
    /// `the kernel`, `the empty balancer`, `the state file `s.json``.
    pub fn describe(&self) -> String {
        match self {
            Against::Kernel => "the kernel".into(),
            Against::Empty => "the empty balancer".into(),
            Against::StateFile(path) => format!("the state file `{}`", path.display()),
            Against::Named(name) => name.clone(),
        }
    }

    /// The plan's line when nothing changes.
    pub fn no_changes(&self) -> String {
        let what = self.describe();
        let mut chars = what.chars();
        let subject: String = match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => what,
        };
        format!("No changes. {subject} matches the script.\n")
    }

    /// The plan's line when nothing changes and some weights are held.
    pub fn no_changes_held(&self) -> String {
        self.no_changes().replace(
            " matches the script.",
            " matches the script with the weights held above.",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_comparison_says_what_was_compared() {
        assert_eq!(
            Against::Kernel.no_changes(),
            "No changes. The kernel matches the script.\n"
        );
        assert_eq!(
            Against::Empty.no_changes(),
            "No changes. The empty balancer matches the script.\n"
        );
        assert_eq!(
            Against::StateFile("s.json".into()).no_changes(),
            "No changes. The state file `s.json` matches the script.\n"
        );
        assert_eq!(
            Against::StateFile("s.json".into()).describe(),
            "the state file `s.json`"
        );
        assert_eq!(
            Against::Kernel.no_changes_held(),
            "No changes. The kernel matches the script with the weights held above.\n"
        );
        assert_eq!(
            Against::Named("test".into()).no_changes(),
            "No changes. Test matches the script.\n"
        );
    }
}
