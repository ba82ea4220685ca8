use super::state_file::StateFileError;
use crate::{
    apply::{ApplyError, JournalError, LockError, SavedPlanError},
    backend::ipvs,
    convert::ipvsadm::ImportError,
    dsl::ScriptError,
    state::StateError,
    watch::StoreError,
};
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
    #[error(transparent)]
    #[diagnostic(transparent)]
    Recipes(Box<crate::recipes::RecipesError>),
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} is not UTF-8 text: {at}")]
    #[diagnostic(help("is this the right file? lvsh reads it as text"))]
    NotText {
        what: String,
        at: crate::not_text::NotText,
    },
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    StateFile(#[from] StateFileError),
    #[error("`{}` looks like a saved plan but cannot be read", path.display())]
    #[diagnostic(help("a saved plan is the file written by `lvsh plan SCRIPT -o FILE`"))]
    PlanFile {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write to standard output")]
    Output(#[source] std::io::Error),
    #[error("{0}")]
    #[diagnostic(help("{}", ipvs_help(.0)))]
    Ipvs(ipvs::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Apply(#[from] ApplyError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    SavedPlan(#[from] SavedPlanError),
    #[error(
        "standard input is not a terminal, so nobody can confirm this plan; nothing was applied"
    )]
    #[diagnostic(help(
        "review the plan, then apply with --yes (or `lvsh plan -o FILE` and apply that file with --yes)"
    ))]
    NeedsYes,
    #[error("this plan deletes {deleted} of the kernel's {total} services; nothing was applied")]
    #[diagnostic(help(
        "if that is what you want, apply again with --allow-mass-delete; an empty or \
         truncated script deletes everything it does not name"
    ))]
    MassDelete { deleted: usize, total: usize },
    #[error("--merge cannot apply a plan saved without it")]
    #[diagnostic(help(
        "a saved plan is applied exactly as it was made; make it with `lvsh plan --merge -o FILE`"
    ))]
    MergeOnSavedPlan,
    #[error("apply cancelled; nothing was changed")]
    Cancelled,
    #[error(transparent)]
    #[diagnostic(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Drain(#[from] super::drain::DrainError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Watch(#[from] crate::watch::WatchError),
    #[error("cannot start `lvsh watch`: {what}")]
    WatchStart {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot serve metrics on {addr}")]
    #[diagnostic(help("another process may use that port; pick another with --metrics"))]
    Metrics {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("`--scope` scopes a script, and the REPL works on the whole table")]
    #[diagnostic(help("run the script with `lvsh plan --scope ..` or `lvsh apply --scope ..`"))]
    ScopeInRepl,
}

impl CliError {
    /// The process's exit status: 3 when a failed apply left the kernel neither as
    /// it was nor as planned, else 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Apply(e) => e.exit_code(),
            _ => 1,
        }
    }
}

impl From<crate::recipes::RecipesError> for CliError {
    fn from(e: crate::recipes::RecipesError) -> Self {
        CliError::Recipes(Box::new(e))
    }
}

fn ipvs_help(e: &ipvs::Error) -> String {
    match e {
        ipvs::Error::NotRoot => "run lvsh as root, or give it CAP_NET_ADMIN".into(),
        ipvs::Error::NoIpvs(why) => format!(
            "{}; `check`, `emit`, and `plan` with --empty or --state work without IPVS",
            why.hint()
        ),
        ipvs::Error::NoNetns(_) => "`ip netns list` shows the namespaces there are".into(),
        _ => "run again with -v for details".into(),
    }
}
