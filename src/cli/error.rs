use crate::{convert::ipvsadm_import::ImportError, dsl::ScriptError};
use miette::Diagnostic;
use std::path::PathBuf;

/// Everything a command can fail with. Script and import errors keep their own
/// diagnostics (source spans), the rest say which file or step failed.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum CliError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Script(#[from] ScriptError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Import(#[from] ImportError),
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a state file", path.display())]
    #[diagnostic(help("a state file is the JSON written by `lvsh emit FILE --to json`"))]
    StateFile {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write to standard output")]
    Output(#[source] std::io::Error),
}
