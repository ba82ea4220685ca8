//! Errors of the REPL's own commands. Script errors stay `dsl::ScriptError`s and
//! kernel errors stay the kernel's reports.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ReplError {
    #[error("unknown command `:{name}`")]
    #[diagnostic(code(lvsh::repl::command))]
    UnknownCommand {
        name: String,
        #[help]
        help: Option<String>,
    },

    #[error("`:{name}` could be {}", .matches.iter().map(|m| format!("`:{m}`")).collect::<Vec<_>>().join(" or "))]
    #[diagnostic(code(lvsh::repl::command), help("type more of the name"))]
    AmbiguousCommand {
        name: String,
        matches: Vec<&'static str>,
    },

    #[error("`:{command}` needs {what}")]
    #[diagnostic(code(lvsh::repl::command), help("usage: `{usage}`"))]
    MissingArgument {
        command: &'static str,
        what: &'static str,
        usage: String,
    },

    #[error("`:{command}` takes no argument, got `{argument}`")]
    #[diagnostic(code(lvsh::repl::command))]
    UnexpectedArgument {
        command: &'static str,
        argument: String,
    },

    #[error("`:{command}` takes no `!`")]
    #[diagnostic(
        code(lvsh::repl::command),
        help("only `:save! FILE` does: it replaces an existing file without asking")
    )]
    NoForce { command: &'static str },

    #[error("`{}` exists; `:save` does not replace a file without asking", .path.display())]
    #[diagnostic(
        code(lvsh::repl::save),
        help(
            "`:save! {}` replaces it with a flat snapshot of the pending model",
            .path.display()
        )
    )]
    Exists { path: PathBuf },

    #[error("nothing is called `{name}`")]
    #[diagnostic(code(lvsh::repl::help))]
    UnknownHelp {
        name: String,
        #[help]
        help: Option<String>,
    },

    #[error("cannot read `{}`", .path.display())]
    #[diagnostic(code(lvsh::io))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot write `{}`", .path.display())]
    #[diagnostic(code(lvsh::io))]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("`{}` is not a saved balancer", .path.display())]
    #[diagnostic(
        code(lvsh::state),
        help("a state file is the JSON that `lvsh emit --to json` writes")
    )]
    State {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}
