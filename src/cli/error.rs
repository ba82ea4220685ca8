use crate::{
    apply::LockError, backend::ipvs, convert::ipvsadm::ImportError, dsl::ScriptError,
    state::StateError,
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
    #[error("{0}")]
    #[diagnostic(help("{}", ipvs_help(.0)))]
    Ipvs(ipvs::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Lock(#[from] LockError),
    #[error("{message}")]
    #[diagnostic(help("{help}"))]
    Apply { message: String, help: String },
    #[error("the kernel changed while the plan was shown; nothing was applied")]
    #[diagnostic(help("run `lvsh apply` again to see the new plan"))]
    KernelChanged,
    #[error("after apply the kernel still differs from the script:\n{0}")]
    #[diagnostic(help(
        "something else changed IPVS or table `inet lvsh` at the same time, or the kernel \
         adjusted a value; run `lvsh plan` to see the difference"
    ))]
    NotConverged(String),
    #[error("table `inet lvsh` holds objects lvsh did not write, and --merge never deletes")]
    #[diagnostic(help("apply without --merge to replace the table, or remove them by hand first"))]
    ForeignInMerge,
    #[error("apply cancelled; nothing was changed")]
    Cancelled,
}

fn ipvs_help(e: &ipvs::Error) -> &'static str {
    match e {
        ipvs::Error::NotRoot => "run lvsh as root, or give it CAP_NET_ADMIN",
        ipvs::Error::NoIpvs(_) => {
            "load the module with `modprobe ip_vs`; `plan --empty` and `emit` work without it"
        }
        ipvs::Error::NoNetns(_) => "`ip netns list` shows the namespaces there are",
        _ => "run again with -v for details",
    }
}
