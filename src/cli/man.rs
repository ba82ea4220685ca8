//! `lvsh man`: manual pages generated from the clap definitions, lvsh(8) and one
//! lvsh-COMMAND(8) per command, so the package's pages say what `--help` says.
//! Section 8 (system administration), as for ipvsadm(8): lvsh is installed in
//! /usr/sbin, and Debian policy puts the pages of sbin commands there.

use super::{Cli, CliError, Context};
use clap::CommandFactory;
use std::path::Path;

/// The commands that have a page of their own, as `lvsh man COMMAND` takes them
/// (a list, not a look-up, so clap can check and complete the name; a test keeps
/// it in step with the commands).
pub const COMMANDS: &[&str] = &[
    "check",
    "plan",
    "apply",
    "rollback",
    "history",
    "show",
    "save",
    "emit",
    "repl",
    "import",
    "watch",
    "status",
    "drain",
    "undrain",
    "completions",
    "values",
    "recipes",
    "man",
];

/// The manual section of every page.
pub const SECTION: &str = "8";

/// Prints lvsh(8) or lvsh-COMMAND(8); with `dir`, writes every page there.
pub fn run(ctx: &Context, command: Option<&str>, dir: Option<&Path>) -> Result<i32, CliError> {
    if let Some(dir) = dir {
        for page in pages() {
            let path = dir.join(page.get_filename());
            let mut text = Vec::new();
            page.render(&mut text)
                .and_then(|_| std::fs::write(&path, text))
                .map_err(|source| CliError::Write { path, source })?;
        }
        return Ok(0);
    }
    let page = pages()
        .find(|p| match command {
            Some(name) => p.get_filename() == format!("lvsh-{name}.{SECTION}"),
            None => p.get_filename() == format!("lvsh.{SECTION}"),
        })
        .expect("COMMANDS names only commands that exist");
    let mut text = Vec::new();
    page.render(&mut text).map_err(CliError::Output)?;
    ctx.out(&String::from_utf8_lossy(&text))?;
    Ok(0)
}

/// Every page: lvsh(1) first, then one per command (named `lvsh-COMMAND` once the
/// command is built, which is what clap_mangen titles the page with).
fn pages() -> impl Iterator<Item = clap_mangen::Man> {
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    let commands: Vec<clap::Command> = cli.get_subcommands().cloned().collect();
    std::iter::once(cli).chain(commands).map(|c| {
        clap_mangen::Man::new(c)
            .section(SECTION)
            // A command's page would say `apply ` (clap gives commands no version).
            .source(concat!("lvsh ", env!("CARGO_PKG_VERSION")))
            .manual("System Manager's Manual")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_page_and_every_page_a_command() {
        let names: Vec<String> = pages().map(|p| p.get_filename()).collect();
        let mut expected = vec!["lvsh.8".to_string()];
        expected.extend(COMMANDS.iter().map(|c| format!("lvsh-{c}.8")));
        assert_eq!(names, expected);
    }
}
