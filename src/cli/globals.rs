//! Which global options mean something for which command. `--netns` for a command
//! that reads no kernel, or `--set` for one that runs no script, would be ignored
//! silently (`lvsh import --netns nosuch` "worked"): they are usage errors instead.
//! `-v`, `-q` and `--color` are accepted by every command.

use super::{
    args::{Cli, Command, PlanArgs, ReplArgs, StateSource},
    lazy::Lazy,
};

/// What a command does with the kernel and with a script.
struct Uses {
    kernel: bool,
    script: bool,
    /// `--scope`: a script's scope (the REPL refuses it with its own message).
    scope: bool,
}

fn uses(command: &Command) -> Uses {
    let live = |s: &StateSource| s.state.is_none() && !s.empty;
    let (kernel, script, scope) = match command {
        Command::Check(_) | Command::Emit(_) => (false, true, true),
        Command::Plan(Lazy(PlanArgs { source, .. })) => (live(source), true, true),
        Command::Apply(_) | Command::Watch(_) => (true, true, true),
        Command::Repl(Lazy(ReplArgs { source, .. })) => (live(source), true, true),
        Command::Rollback(_)
        | Command::History(_)
        | Command::Show(_)
        | Command::Save
        | Command::Status(_)
        | Command::Drain(_)
        | Command::Undrain(_) => (true, false, false),
        Command::Values(_) => (false, true, false),
        Command::Import(_) | Command::Completions(_) | Command::Man(_) | Command::Recipes(_) => {
            (false, false, false)
        }
    };
    Uses {
        kernel,
        script,
        scope,
    }
}

/// `(option, why)` for the first global option given that `command` has no use for.
pub fn refused(cli: &Cli) -> Option<(&'static str, String)> {
    let g = &cli.global;
    let u = uses(&cli.command);
    let name = name(&cli.command);
    let no_kernel = match &cli.command {
        Command::Plan(Lazy(PlanArgs { source, .. }))
        | Command::Repl(Lazy(ReplArgs { source, .. }))
            if source.empty =>
        {
            "`--empty` reads no kernel"
        }
        Command::Plan(_) | Command::Repl(_) => "`--state` reads no kernel",
        _ => "it reads no kernel",
    };
    if g.netns.is_some() && !u.kernel {
        return Some((
            "--netns",
            format!("`--netns` means nothing for `lvsh {name}`: {no_kernel}"),
        ));
    }
    let script = format!("`lvsh {name}` runs no script");
    if !g.lib.is_empty() && !u.script {
        return Some(("--lib", format!("`-I/--lib` means nothing: {script}")));
    }
    if !g.values.is_empty() && !u.script {
        return Some(("--values", format!("`--values` means nothing: {script}")));
    }
    if !g.set.is_empty() && !u.script {
        return Some(("--set", format!("`--set` means nothing: {script}")));
    }
    if g.no_cache && !u.script {
        return Some((
            "--no-cache",
            format!("`--no-cache` means nothing: {script}"),
        ));
    }
    if g.no_cache && matches!(cli.command, Command::Repl(_)) {
        return Some((
            "--no-cache",
            "`--no-cache` means nothing: `lvsh repl` evaluates every entry, without a cache"
                .to_string(),
        ));
    }
    if g.allow_unlocked && !u.script {
        return Some((
            "--allow-unlocked",
            format!("`--allow-unlocked` means nothing: {script}"),
        ));
    }
    if !g.scope.is_empty() && !u.scope {
        return Some(("--scope", format!("`--scope` means nothing: {script}")));
    }
    None
}

/// The command's name, as typed.
pub fn name(command: &Command) -> &'static str {
    match command {
        Command::Check(_) => "check",
        Command::Plan(_) => "plan",
        Command::Apply(_) => "apply",
        Command::Rollback(_) => "rollback",
        Command::History(_) => "history",
        Command::Show(_) => "show",
        Command::Save => "save",
        Command::Emit(_) => "emit",
        Command::Repl(_) => "repl",
        Command::Import(_) => "import",
        Command::Watch(_) => "watch",
        Command::Status(_) => "status",
        Command::Drain(_) => "drain",
        Command::Undrain(_) => "undrain",
        Command::Completions(_) => "completions",
        Command::Man(_) => "man",
        Command::Values(_) => "values",
        Command::Recipes(_) => "recipes",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn why(args: &[&str]) -> Option<String> {
        let cli = Cli::try_parse_from(std::iter::once("lvsh").chain(args.iter().copied())).unwrap();
        refused(&cli).map(|(_, why)| why)
    }

    #[test]
    fn options_a_command_has_no_use_for_are_refused() {
        assert_eq!(
            why(&["import", "x", "--netns", "nosuch"]).unwrap(),
            "`--netns` means nothing for `lvsh import`: it reads no kernel"
        );
        assert_eq!(
            why(&["plan", "x", "--empty", "--netns", "blue"]).unwrap(),
            "`--netns` means nothing for `lvsh plan`: `--empty` reads no kernel"
        );
        assert_eq!(
            why(&["show", "--set", "a=1"]).unwrap(),
            "`--set` means nothing: `lvsh show` runs no script"
        );
        assert_eq!(
            why(&["save", "-I", "."]).unwrap(),
            "`-I/--lib` means nothing: `lvsh save` runs no script"
        );
        assert_eq!(
            why(&["import", "x", "--no-cache"]).unwrap(),
            "`--no-cache` means nothing: `lvsh import` runs no script"
        );
        assert!(
            why(&["repl", "--no-cache"])
                .unwrap()
                .contains("without a cache")
        );
        assert_eq!(
            why(&["history", "--scope", "mark:1"]).unwrap(),
            "`--scope` means nothing: `lvsh history` runs no script"
        );
    }

    #[test]
    fn options_a_command_uses_are_accepted() {
        for args in [
            &["plan", "x", "--netns", "blue", "--set", "a=1", "-I", "."][..],
            &["apply", "x", "--netns", "blue", "--scope", "mark:1"],
            &[
                "check",
                "x",
                "--scope",
                "10.0.0.0/8",
                "-q",
                "--color",
                "never",
            ],
            &["show", "--netns", "blue", "-v"],
            &["import", "x", "-q"],
            &["repl", "--empty", "--set", "a=1"],
            &["plan", "x", "--empty", "--no-cache"],
            &["watch", "x", "--no-cache"],
        ] {
            assert_eq!(why(args), None, "{args:?}");
        }
    }
}
