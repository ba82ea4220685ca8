//! A command's arguments, defined only when that command runs.
//!
//! clap's derive builds every command's arguments before parsing: a third of the
//! distinct code `lvsh --version` ran (38,900 instructions of it; 25,600 now), and
//! an emulated or small VM pays for each line of code a process runs for the first
//! time. `Lazy` hands the definition to clap's `Command::defer`, which runs it for the
//! command being parsed, and for every command when `build()` is asked (help, man
//! pages, completions).

use clap::{ArgMatches, Args, Command, FromArgMatches};

#[derive(Debug, Clone, Copy)]
pub struct Lazy<T>(pub T);

impl<T: Args> Args for Lazy<T> {
    fn augment_args(cmd: Command) -> Command {
        cmd.defer(augment::<T>)
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        cmd.defer(augment_for_update::<T>)
    }

    fn group_id() -> Option<clap::Id> {
        T::group_id()
    }
}

/// The arguments, with the command's about kept: clap's derive gives a command its
/// variant's doc comment after its arguments, which a flattened struct's doc comment
/// (`StateSource`'s) would otherwise replace now that they come later.
fn augment<T: Args>(cmd: Command) -> Command {
    keeping_about(cmd, T::augment_args)
}

fn augment_for_update<T: Args>(cmd: Command) -> Command {
    keeping_about(cmd, T::augment_args_for_update)
}

fn keeping_about(cmd: Command, augment: fn(Command) -> Command) -> Command {
    let (about, long) = (cmd.get_about().cloned(), cmd.get_long_about().cloned());
    let mut cmd = augment(cmd);
    if let Some(about) = about {
        cmd = cmd.about(about);
    }
    if let Some(long) = long {
        cmd = cmd.long_about(long);
    }
    cmd
}

impl<T: FromArgMatches> FromArgMatches for Lazy<T> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches(matches).map(Lazy)
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        T::from_arg_matches_mut(matches).map(Lazy)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }

    fn update_from_arg_matches_mut(&mut self, matches: &mut ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches_mut(matches)
    }
}

#[cfg(test)]
mod tests {
    use crate::cli::Cli;
    use clap::CommandFactory;

    fn has(cli: &clap::Command, command: &str, arg: &str) -> bool {
        let sub = cli.find_subcommand(command).expect("the command exists");
        sub.get_arguments().any(|a| a.get_id() == arg)
    }

    #[test]
    fn a_command_gets_its_arguments_only_when_built_and_keeps_its_about() {
        let mut cli = Cli::command();
        assert!(!has(&cli, "plan", "detailed_exitcode"));
        assert!(!has(&cli, "recipes", "command"));
        cli.build();
        assert!(has(&cli, "plan", "detailed_exitcode"));
        assert!(has(&cli, "plan", "netns"), "the global options reach it");
        let plan = cli.find_subcommand("plan").unwrap();
        assert_eq!(
            plan.get_about().unwrap().to_string(),
            "Show what apply would change",
            "not StateSource's doc comment"
        );
        let recipes = cli.find_subcommand("recipes").unwrap();
        assert!(recipes.find_subcommand("verify").is_some());
    }
}
