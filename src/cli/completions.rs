//! `lvsh completions SHELL`: the shell's completion script, generated from the clap
//! definitions so it never lags behind a new command or option.

use super::{Cli, CliError, Context};
use clap::CommandFactory;

/// Prints the completion script of `shell` for the binary named `lvsh`.
pub fn run(ctx: &Context, shell: clap_complete::Shell) -> Result<i32, CliError> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "lvsh", &mut script);
    ctx.out(&String::from_utf8_lossy(&script))?;
    Ok(0)
}
