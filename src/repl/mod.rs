//! `lvsh repl`: an interactive shell over a pending desired model.
//!
//! The session starts from the observed state (or from a script), keeps one Rhai
//! scope across entries, and runs every entry as its own transaction: an entry that
//! fails leaves the pending model as it was. `:plan` compares the pending model with
//! the kernel, `:apply` applies it; the prompt counts the changes still pending.
//!
//! On a terminal it edits with rustyline (multi-line entries, completion, signature
//! hints, history); otherwise it reads entries and `:commands` from stdin without
//! prompts, for scripts and tests.
//!
//! The REPL never talks to the kernel itself: it asks a [`Kernel`].

mod catalog;
mod command;
mod complete;
mod error;
mod help;
mod helper;
mod hint;
mod history;
mod lexer;
mod locals;
mod offline;
mod piped;
mod shell;
mod terminal;
#[cfg(test)]
mod test_buf;

pub use error::ReplError;
pub use offline::Offline;

use crate::model::Balancer;
use std::io::IsTerminal;
use std::path::PathBuf;

/// What the REPL needs from the outside world.
pub trait Kernel {
    /// The live state (or the state file, or an empty balancer).
    fn observe(&mut self) -> Result<Balancer, miette::Report>;
    /// Applies `desired` (the script's model, without holds) as one transaction, as
    /// `lvsh apply` does, keeping the weights the run-time side holds; `Ok` is a
    /// summary.
    fn apply(&mut self, desired: &Balancer) -> Result<String, miette::Report>;
    /// What the run-time side holds (drains, health), which `:plan` and `:apply`
    /// never undo; nothing by default.
    fn runtime(&mut self) -> Result<crate::model::Runtime, miette::Report> {
        Ok(crate::model::Runtime::default())
    }
    /// The live state rendered for people.
    fn show(&mut self) -> Result<String, miette::Report>;
    /// What `observe` reads, named in "in sync with the kernel".
    fn against(&self) -> crate::plan::Against {
        crate::plan::Against::Kernel
    }
}

/// How the REPL runs.
#[derive(Debug, Clone, Default)]
pub struct ReplOptions {
    /// Import directories and `--set` parameters for every entry.
    pub dsl: crate::dsl::Options,
    /// Colored plans, prompts and hints.
    pub color: bool,
    /// The history file; `None` = `$XDG_STATE_HOME/lvsh/history`
    /// (`~/.local/state/lvsh/history`). Only used on a terminal.
    pub history: Option<PathBuf>,
    /// A script the pending model starts from instead of the observed state.
    pub script: Option<PathBuf>,
}

/// Runs the REPL until `:quit`, end of input or Ctrl-D; returns the exit code.
///
/// On a terminal the code is 0 unless the REPL could not start. Reading from a pipe
/// it is 1 if any entry or command failed, so a scripted session can be checked.
pub fn run(kernel: Box<dyn Kernel>, opts: ReplOptions) -> i32 {
    if std::io::stdin().is_terminal() {
        terminal::run(kernel, opts)
    } else {
        piped::run(kernel, opts, std::io::stdin().lock())
    }
}
