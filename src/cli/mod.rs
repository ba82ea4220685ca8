//! The command line: parses arguments, runs one command, renders errors.

mod apply;
mod args;
mod check;
mod completions;
mod drain;
mod emit;
mod error;
mod globals;
mod history;
mod import;
mod input;
mod json_place;
mod lazy;
mod live;
mod man;
mod plan;
mod recipes;
mod repl;
mod rollback;
mod save;
#[doc(hidden)] // public for the fuzz targets, which render what they decode
pub mod show;
mod state_file;
mod status;
mod values;
mod watch;

pub use args::Cli;
pub use error::CliError;
pub use watch::prober;

use args::*;
use clap::{CommandFactory, Parser};
use lazy::Lazy;
use std::io::{IsTerminal, Write};

/// What every command needs from the global options.
pub struct Context {
    pub dsl: crate::dsl::Options,
    pub netns: Option<String>,
    pub color: bool,
    pub quiet: bool,
    pub verbose: bool,
    /// `--values FILE`: layers after the site file's own.
    pub values: Vec<std::path::PathBuf>,
    /// `--no-cache`: evaluate scripts, and store nothing.
    pub no_cache: bool,
    /// Whether unlocked (`path =`) recipe libraries may run: always but for apply
    /// and watch, which need `--allow-unlocked`.
    pub allow_unlocked: bool,
    /// The SHA-256 of each script this run evaluated through the cache (the last
    /// evaluation of each path), whose key is made from it: a record of the run
    /// names its script by it.
    scripts: std::sync::Mutex<std::collections::HashMap<std::path::PathBuf, String>>,
}

impl Context {
    /// Notes the digest of the script at `path` as just evaluated.
    pub fn remember_script(&self, path: &std::path::Path, sha256: &str) {
        let mut known = self.scripts.lock().unwrap_or_else(|p| p.into_inner());
        known.insert(path.to_path_buf(), sha256.to_string());
    }

    /// `sha256:HEX` of the file named on the command line (none for stdin): the
    /// digest the evaluation already made when it is the script, else its bytes'.
    pub fn script_sha256(&self, file: &std::path::Path) -> Option<String> {
        if file == std::path::Path::new("-") {
            return None;
        }
        let known = self.scripts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(digest) = known.get(file) {
            return Some(digest.clone());
        }
        drop(known);
        std::fs::read(file)
            .ok()
            .map(|bytes| crate::state::sha256(&bytes))
    }

    /// Writes to stdout; a closed pipe is an error, not a panic.
    pub fn out(&self, text: &str) -> Result<(), CliError> {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(text.as_bytes())
            .and_then(|_| stdout.flush())
            .map_err(CliError::Output)
    }

    /// Writes what is not an error (warnings, notices, a script's `print`) to
    /// stderr; `-q` leaves only errors.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            eprint!("{text}");
        }
    }

    /// Writes to stdout through a buffer as `write` produces the text, for output
    /// too large to hold twice (the plan of 10,000 services).
    pub fn out_with(
        &self,
        write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), CliError> {
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
        write(&mut out)
            .and_then(|_| out.flush())
            .map_err(CliError::Output)
    }
}

/// Runs lvsh with the process arguments; returns the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // 2 means "changes pending" for plan --detailed-exitcode, so usage errors are 1.
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    if let Some((_, why)) = globals::refused(&cli) {
        return usage_error(globals::name(&cli.command), why);
    }
    let no_color = std::env::var_os("NO_COLOR").is_some();
    // Plans go to stdout and errors to stderr: each is colored when it is a terminal.
    let color = use_color(cli.global.color, no_color, std::io::stdout().is_terminal());
    install_report_handler(use_color(
        cli.global.color,
        no_color,
        std::io::stderr().is_terminal(),
    ));
    let ctx = Context {
        dsl: crate::dsl::Options {
            lib_dirs: cli.global.lib.clone(),
            params: cli.global.set.clone(),
            scope: args::scope(&cli.global.scope),
            values: None,
            libraries: None,
        },
        netns: cli.global.netns.clone(),
        color,
        quiet: cli.global.quiet,
        verbose: cli.global.verbose,
        values: cli.global.values.clone(),
        no_cache: cli.global.no_cache,
        allow_unlocked: cli.global.allow_unlocked
            || !matches!(cli.command, Command::Apply(_) | Command::Watch(_)),
        scripts: Default::default(),
    };
    match dispatch(&ctx, &cli.command) {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit_code();
            eprintln!("{:?}", miette::Report::new(e));
            code
        }
    }
}

/// A usage error of `lvsh COMMAND`, printed as clap prints its own, with the
/// command's usage line; exit status 1, as for every usage error.
fn usage_error(command: &str, why: String) -> i32 {
    let mut cli = Cli::command();
    cli.build();
    let e = match cli.find_subcommand_mut(command) {
        Some(sub) => sub.error(clap::error::ErrorKind::ArgumentConflict, why),
        None => cli.error(clap::error::ErrorKind::ArgumentConflict, why),
    };
    let _ = e.print();
    1
}

fn dispatch(ctx: &Context, command: &Command) -> Result<i32, CliError> {
    match command {
        Command::Check(Lazy(CheckArgs { file })) => check::run(ctx, file),
        Command::Plan(Lazy(PlanArgs {
            file,
            source,
            json,
            detailed_exitcode,
            merge,
            out,
        })) => plan::run(
            ctx,
            file,
            source,
            *json,
            *detailed_exitcode,
            *merge,
            out.as_deref(),
        ),
        Command::Emit(Lazy(EmitArgs { file, to })) => emit::run(ctx, file, *to),
        Command::Import(Lazy(ImportArgs { file })) => import::run(ctx, file),
        Command::Apply(Lazy(ApplyArgs {
            file,
            merge,
            skip_empty,
            consent,
        })) => apply::run(ctx, file, *merge, *skip_empty, consent.into()),
        Command::Rollback(Lazy(RollbackArgs { id, consent })) => {
            rollback::run(ctx, *id, consent.into())
        }
        Command::History(Lazy(HistoryArgs { json })) => history::run(ctx, *json),
        Command::Show(Lazy(ShowArgs { json, stats })) => show::run(ctx, *json, *stats),
        Command::Save => save::run(ctx),
        Command::Repl(Lazy(ReplArgs {
            file,
            source,
            history,
        })) => repl::run(ctx, file, source, history),
        Command::Watch(Lazy(WatchArgs {
            file,
            metrics,
            allow_mass_delete,
        })) => watch::run(ctx, file, *metrics, *allow_mass_delete),
        Command::Status(Lazy(StatusArgs { json })) => status::run(ctx, *json),
        Command::Drain(Lazy(DrainArgs {
            target,
            service,
            deadline,
            remove,
        })) => drain::drain(ctx, target, service.as_ref(), *deadline, *remove),
        Command::Undrain(Lazy(UndrainArgs { target, service })) => {
            drain::undrain(ctx, target, service.as_ref())
        }
        Command::Completions(Lazy(CompletionsArgs { shell })) => completions::run(ctx, *shell),
        Command::Man(Lazy(ManArgs { command, dir })) => {
            man::run(ctx, command.as_deref(), dir.as_deref())
        }
        Command::Values(Lazy(ValuesArgs {
            command: args::ValuesCommand::Explain { file, key },
        })) => values::explain(ctx, file, key.as_deref()),
        Command::Recipes(Lazy(RecipesArgs { command })) => recipes::run(ctx, command),
    }
}

impl From<&args::ConsentArgs> for apply::Consent {
    fn from(a: &args::ConsentArgs) -> Self {
        apply::Consent {
            dry_run: a.dry_run,
            yes: a.yes,
            allow_mass_delete: a.allow_mass_delete,
        }
    }
}

/// Whether to color a stream: `--color`, else `NO_COLOR`, else whether it is a terminal.
fn use_color(choice: ColorChoice, no_color: bool, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => !no_color && terminal,
    }
}

fn install_report_handler(color: bool) {
    crate::report::Reporter::new(color, std::io::stderr().is_terminal()).install();
}

#[cfg(test)]
impl Context {
    /// A quiet context with the defaults, for unit tests.
    pub(crate) fn for_tests() -> Context {
        Context {
            dsl: Default::default(),
            netns: None,
            color: false,
            quiet: true,
            verbose: false,
            values: vec![],
            no_cache: false,
            allow_unlocked: false,
            scripts: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_is_named_by_the_digest_its_evaluation_made_else_by_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (script, other) = (dir.path().join("s.rhai"), dir.path().join("t.rhai"));
        std::fs::write(&script, "x").unwrap();
        std::fs::write(&other, "y").unwrap();
        let ctx = Context::for_tests();
        assert_eq!(ctx.script_sha256(std::path::Path::new("-")), None);
        assert_eq!(ctx.script_sha256(&other), Some(crate::state::sha256(b"y")));
        assert_eq!(ctx.script_sha256(&script), Some(crate::state::sha256(b"x")));
        assert_eq!(ctx.script_sha256(&dir.path().join("missing.rhai")), None);
        // Evaluated through the cache: the digest its key was made from, the
        // last evaluation's when a script is evaluated again (a REPL, a reload).
        ctx.remember_script(&script, "sha256:first");
        ctx.remember_script(&script, "sha256:again");
        assert_eq!(ctx.script_sha256(&script).as_deref(), Some("sha256:again"));
        assert_eq!(ctx.scripts.lock().unwrap().len(), 1);
        assert_eq!(ctx.script_sha256(&other), Some(crate::state::sha256(b"y")));
    }

    #[test]
    fn a_plan_piped_to_a_file_has_no_colors_even_on_a_terminal() {
        // stdout is a file, stderr the terminal: the plan (stdout) stays plain.
        assert!(!use_color(ColorChoice::Auto, false, false));
        assert!(use_color(ColorChoice::Auto, false, true));
        assert!(!use_color(ColorChoice::Auto, true, true));
        assert!(use_color(ColorChoice::Always, true, false));
        assert!(!use_color(ColorChoice::Never, false, true));
    }
}
