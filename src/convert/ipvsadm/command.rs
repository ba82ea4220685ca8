//! The command of a rule: the first option of its line.

use super::opt::Opt;
use super::parsed::Given;
use super::problem::{Fault, Problem};
use crate::model::DaemonState;

/// What a rule does; each has its own `-A`-style option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    AddService,
    EditService,
    DeleteService,
    Flush,
    List,
    Zero,
    AddServer,
    EditServer,
    DeleteServer,
    SetTimeouts,
    StartDaemon(DaemonState),
    StopDaemon(DaemonState),
    Save,
}

/// Said wherever a line does not start with a command.
pub(crate) const START_WITH_A_COMMAND: &str = "a rule starts with a command: `-A`, `-E`, `-D`, `-a`, `-e`, `-d`, `-C`, `--set`, `--start-daemon` or `--stop-daemon`";

/// What a file whose first word is `word` is, when it is a format people give
/// `lvsh import` by mistake: a better help than the list of commands.
pub(crate) fn foreign_format(word: &str) -> Option<&'static str> {
    const NFT: &[&str] = &[
        "table", "flush", "add", "insert", "delete", "chain", "define", "include",
    ];
    const LIST: &[&str] = &["IP", "Prot", "TCP", "UDP", "SCTP", "FWM"];
    if NFT.contains(&word) {
        Some(
            "this looks like an nft ruleset; `lvsh import` reads ipvsadm rules \
             (`ipvsadm -S -n`), and lvsh writes the nft rules itself from `mark(..)`",
        )
    } else if word.starts_with(['{', '[']) {
        Some(
            "this looks like JSON; `lvsh import` reads ipvsadm rules (`ipvsadm -S -n`), \
             and `lvsh plan --state FILE` reads the JSON of `lvsh emit --to json`",
        )
    } else if LIST.contains(&word) {
        Some(
            "this looks like the table `ipvsadm -L -n` prints; `lvsh import` reads \
             what `ipvsadm -S -n` prints",
        )
    } else {
        None
    }
}

/// The command `g` (the first option of a line) gives.
pub(crate) fn command_of(g: &Given<'_>) -> Result<Command, Fault> {
    Ok(match g.opt {
        Opt::AddService => Command::AddService,
        Opt::EditService => Command::EditService,
        Opt::DeleteService => Command::DeleteService,
        Opt::Clear => Command::Flush,
        Opt::List => Command::List,
        Opt::Zero => Command::Zero,
        Opt::AddServer => Command::AddServer,
        Opt::EditServer => Command::EditServer,
        Opt::DeleteServer => Command::DeleteServer,
        Opt::Set => Command::SetTimeouts,
        Opt::Save => Command::Save,
        Opt::StartDaemon => Command::StartDaemon(daemon_state(g)?),
        Opt::StopDaemon => Command::StopDaemon(daemon_state(g)?),
        Opt::Restore | Opt::Help | Opt::Version => {
            return Err(
                Fault::new(Problem::NotARule(g.name.clone()), g.span.clone())
                    .help("ipvsadm stops reading the rules at this line"),
            );
        }
        _ => {
            return Err(
                Fault::new(Problem::NotACommand(g.name.clone()), g.span.clone())
                    .help(START_WITH_A_COMMAND),
            );
        }
    })
}

/// `--start-daemon master`, `--stop-daemon backup`.
fn daemon_state(g: &Given<'_>) -> Result<DaemonState, Fault> {
    let t = g.value.expect("daemon commands take a value");
    match t.text {
        "master" => Ok(DaemonState::Master),
        "backup" => Ok(DaemonState::Backup),
        _ => Err(Fault::new(
            Problem::Invalid {
                what: "sync daemon state",
                value: t.text.to_owned(),
            },
            t.span(),
        )
        .help("write `master` or `backup`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::ipvsadm::opt::{Role, SPECS};
    use crate::convert::ipvsadm::tok::Tok;

    /// `command_of` falls back to "not a command", so it must know every option
    /// whose role is a command.
    #[test]
    fn every_command_option_is_read_as_a_command() {
        for spec in SPECS {
            let g = Given {
                opt: spec.opt,
                name: format!("--{}", spec.long),
                span: 0..1,
                value: Some(Tok {
                    text: "master",
                    start: 2,
                }),
            };
            let got = command_of(&g);
            let not_a_command = matches!(
                &got,
                Err(f) if matches!(f.problem, Problem::NotACommand(_))
            );
            assert_eq!(
                not_a_command,
                spec.opt.role() != Role::Command,
                "--{}: {got:?}",
                spec.long
            );
        }
    }
}
