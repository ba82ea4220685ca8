//! `:commands`: their table (for `:help` and completion) and the parser.
//! A command may be shortened to any unambiguous prefix (`:p` = `:plan`).

use super::error::ReplError;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Plan,
    Apply,
    Show,
    Undo,
    Reset,
    Load(PathBuf),
    /// `:save! FILE` forces: it overwrites an existing file without asking.
    Save {
        path: PathBuf,
        force: bool,
    },
    Help(Option<String>),
    Quit,
}

/// A command as `:help` lists it.
pub(crate) struct Spec {
    pub name: &'static str,
    pub args: &'static str,
    pub about: &'static str,
}

pub(crate) const COMMANDS: &[Spec] = &[
    Spec {
        name: "plan",
        args: "",
        about: "what applying the pending model would change in the kernel",
    },
    Spec {
        name: "apply",
        args: "",
        about: "apply the pending model as one transaction, as `lvsh apply` does",
    },
    Spec {
        name: "show",
        args: "",
        about: "the live state",
    },
    Spec {
        name: "undo",
        args: "",
        about: "drop the effect of the last entry (up to 100 back)",
    },
    Spec {
        name: "reset",
        args: "",
        about: "drop every entry: back to the state the session started from",
    },
    Spec {
        name: "load",
        args: "FILE",
        about: "run a script file as one entry",
    },
    Spec {
        name: "save",
        args: "FILE",
        about: "write the pending model as a flat script of literal calls; asks before \
                replacing a file, `:save! FILE` does not",
    },
    Spec {
        name: "help",
        args: "[NAME]",
        about: "this help, or the help of one function, method or command",
    },
    Spec {
        name: "quit",
        args: "",
        about: "leave (Ctrl-D does too)",
    },
];

/// Other names people type out of habit.
const ALIASES: &[(&str, &str)] = &[
    ("exit", "quit"),
    ("q", "quit"),
    ("?", "help"),
    ("h", "help"),
];

/// Is `line` a command rather than Rhai? Rhai never starts with `:`.
pub(crate) fn is_command(line: &str) -> bool {
    line.trim_start().starts_with(':')
}

/// Parses `:name [argument]`; `:name! ..` forces (only `:save!`).
pub(crate) fn parse(line: &str) -> Result<Command, ReplError> {
    let body = line.trim().strip_prefix(':').unwrap_or(line.trim());
    let (word, arg) = match body.split_once(char::is_whitespace) {
        Some((w, a)) => (w, a.trim()),
        None => (body, ""),
    };
    let (word, force) = match word.strip_suffix('!') {
        Some(w) if !w.is_empty() => (w, true),
        _ => (word, false),
    };
    let name = resolve(word)?;
    if force && name != "save" {
        return Err(ReplError::NoForce { command: name });
    }
    let none = |command: &'static str| -> Result<(), ReplError> {
        if arg.is_empty() {
            Ok(())
        } else {
            Err(ReplError::UnexpectedArgument {
                command,
                argument: arg.to_string(),
            })
        }
    };
    let file = |command: &'static str| -> Result<PathBuf, ReplError> {
        if arg.is_empty() {
            Err(ReplError::MissingArgument {
                command,
                what: "a file",
                usage: format!(":{command} FILE"),
            })
        } else {
            Ok(path(arg))
        }
    };
    Ok(match name {
        "plan" => none(name).map(|_| Command::Plan)?,
        "apply" => none(name).map(|_| Command::Apply)?,
        "show" => none(name).map(|_| Command::Show)?,
        "undo" => none(name).map(|_| Command::Undo)?,
        "reset" => none(name).map(|_| Command::Reset)?,
        "quit" => none(name).map(|_| Command::Quit)?,
        "load" => Command::Load(file(name)?),
        "save" => Command::Save {
            path: file(name)?,
            force,
        },
        "help" => Command::Help((!arg.is_empty()).then(|| arg.to_string())),
        _ => unreachable!("resolve returns names of COMMANDS"),
    })
}

/// The full command name for `word`: exact, alias, or unique prefix.
pub(crate) fn resolve(word: &str) -> Result<&'static str, ReplError> {
    if let Some(spec) = COMMANDS.iter().find(|s| s.name == word) {
        return Ok(spec.name);
    }
    if let Some((_, to)) = ALIASES.iter().find(|(a, _)| *a == word) {
        return Ok(to);
    }
    let matches: Vec<&'static str> = COMMANDS
        .iter()
        .filter(|s| !word.is_empty() && s.name.starts_with(word))
        .map(|s| s.name)
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(ReplError::UnknownCommand {
            name: word.to_string(),
            help: Some(match closest(word, COMMANDS.iter().map(|s| s.name)) {
                Some(c) => format!("did you mean `:{c}`? `:help` lists the commands"),
                None => "`:help` lists the commands".to_string(),
            }),
        }),
        _ => Err(ReplError::AmbiguousCommand {
            name: word.to_string(),
            matches,
        }),
    }
}

/// A file argument: surrounding quotes dropped, `~/` is the home directory.
fn path(arg: &str) -> PathBuf {
    let arg = ['"', '\'']
        .iter()
        .find_map(|q| arg.strip_prefix(*q).and_then(|a| a.strip_suffix(*q)))
        .unwrap_or(arg);
    match (arg.strip_prefix("~/"), directories::BaseDirs::new()) {
        (Some(rest), Some(home)) => home.home_dir().join(rest),
        _ => PathBuf::from(arg),
    }
}

/// The command closest to `word`; commands are short, so two edits still count.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    crate::suggest::closest_within(word, candidates, (word.chars().count() / 3).max(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_tells_how_far_back_it_goes() {
        let undo = COMMANDS.iter().find(|s| s.name == "undo").unwrap();
        let depth = crate::dsl::UNDO_DEPTH.to_string();
        assert!(undo.about.contains(&depth), "{}", undo.about);
    }

    #[test]
    fn commands_and_their_arguments() {
        assert_eq!(parse(":plan").unwrap(), Command::Plan);
        assert_eq!(parse("  :apply  ").unwrap(), Command::Apply);
        assert_eq!(
            parse(":load site.rhai").unwrap(),
            Command::Load("site.rhai".into())
        );
        assert_eq!(
            parse(":save \"my site.rhai\"").unwrap(),
            Command::Save {
                path: "my site.rhai".into(),
                force: false
            }
        );
        assert_eq!(
            parse(":save! site.rhai").unwrap(),
            Command::Save {
                path: "site.rhai".into(),
                force: true
            }
        );
        assert_eq!(
            parse(":sa! site.rhai").unwrap(),
            Command::Save {
                path: "site.rhai".into(),
                force: true
            }
        );
        assert_eq!(parse(":help").unwrap(), Command::Help(None));
        assert_eq!(
            parse(":help scheduler").unwrap(),
            Command::Help(Some("scheduler".into()))
        );
        assert_eq!(
            parse(":help :plan").unwrap(),
            Command::Help(Some(":plan".into()))
        );
    }

    #[test]
    fn prefixes_and_aliases() {
        assert_eq!(parse(":p").unwrap(), Command::Plan);
        assert_eq!(parse(":sh").unwrap(), Command::Show);
        assert_eq!(parse(":q").unwrap(), Command::Quit);
        assert_eq!(parse(":exit").unwrap(), Command::Quit);
        assert_eq!(parse(":?").unwrap(), Command::Help(None));
    }

    #[test]
    fn mistakes_are_explained() {
        let e = parse(":s").unwrap_err();
        assert_eq!(e.to_string(), "`:s` could be `:show` or `:save`");
        let e = parse(":plna").unwrap_err();
        assert_eq!(e.to_string(), "unknown command `:plna`");
        match e {
            ReplError::UnknownCommand { help, .. } => {
                assert!(help.unwrap().starts_with("did you mean `:plan`?"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse(":load").unwrap_err().to_string(),
            "`:load` needs a file"
        );
        assert_eq!(
            parse(":plan now").unwrap_err().to_string(),
            "`:plan` takes no argument, got `now`"
        );
        assert!(matches!(
            parse(":").unwrap_err(),
            ReplError::UnknownCommand { .. }
        ));
        assert_eq!(
            parse(":plan!").unwrap_err().to_string(),
            "`:plan` takes no `!`"
        );
        assert!(matches!(
            parse(":!").unwrap_err(),
            ReplError::UnknownCommand { .. }
        ));
    }

    #[test]
    fn home_is_expanded() {
        let p = path("~/x.rhai");
        assert!(p.is_absolute() && p.ends_with("x.rhai"), "{p:?}");
        assert_eq!(path("'a b'"), PathBuf::from("a b"));
    }
}
