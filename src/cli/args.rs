//! The command-line contract of DESIGN.md, as clap types.

use super::lazy::Lazy;
use crate::model::{Scope, ServiceKey};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "lvsh",
    version,
    // One text for -h and --help: a long_about would give `lvsh --help` a layout of
    // its own, unlike every command's.
    about = "Configure Linux Virtual Server (IPVS) and the nft rules that feed it from Rhai \
             scripts. A script describes the whole load balancer; lvsh shows the plan against \
             the live kernel and applies it as one transaction.",
    after_help = "Exit status: 0 done, or nothing to do; 1 failed and the kernel is as it was \
                  (this includes usage and script errors); 2 changes pending (plan \
                  --detailed-exitcode); 3 failed and the kernel is NOT as it was (lvsh prints \
                  what differs, and `lvsh rollback ID` restores the state before)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts on the command line. Those that mean nothing for
/// a command are refused with a usage error (see `cli::globals`); `-v`, `-q` and
/// `--color` are accepted everywhere, as there is nothing to get wrong with them.
#[derive(Debug, Args)]
pub struct Global {
    /// Work in the network namespace /run/netns/NAME (commands that read the kernel)
    #[arg(long, global = true, value_name = "NAME", value_parser = parse_netns, help_heading = GLOBAL)]
    pub netns: Option<String>,
    /// Also resolve a script's `import` in DIR (repeatable; commands that run a script)
    #[arg(short = 'I', long = "lib", global = true, value_name = "DIR", value_parser = parse_lib_dir, help_heading = GLOBAL)]
    pub lib: Vec<PathBuf>,
    /// Pass a parameter to the script, read with param("NAME") (commands that run a script)
    #[arg(long = "set", global = true, value_name = "NAME=VALUE", value_parser = parse_param, help_heading = GLOBAL)]
    pub set: Vec<(String, String)>,
    /// Merge the values in FILE (TOML or JSON) after the site's own, before `--set`
    /// (repeatable; commands that run a script)
    #[arg(long = "values", global = true, value_name = "FILE", help_heading = GLOBAL)]
    pub values: Vec<PathBuf>,
    /// Manage only ADDR, PREFIX or mark:N[-M] (repeatable), as if the script called `owns`
    /// (check, plan, apply, emit, watch)
    #[arg(long, global = true, value_name = "SPEC", value_parser = parse_scope, help_heading = GLOBAL)]
    pub scope: Vec<Scope>,
    /// Evaluate the script even when the cache holds its result, and store nothing
    /// (check, plan, apply, emit, watch)
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub no_cache: bool,
    /// Let apply run recipe libraries that lvsh.toml takes from a directory
    /// (`path = …`, not locked); check and plan only warn about them
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub allow_unlocked: bool,
    /// More output
    #[arg(short, long, global = true, conflicts_with = "quiet", help_heading = GLOBAL)]
    pub verbose: bool,
    /// Only errors
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub quiet: bool,
    /// When to use colors
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, help_heading = GLOBAL)]
    pub color: ColorChoice,
}

const GLOBAL: &str = "Global options";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// An `-I` directory must be one: a typo would otherwise only show as a failed
/// `import` later, or never.
fn parse_lib_dir(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    match std::fs::metadata(&path) {
        Ok(m) if m.is_dir() => Ok(path),
        Ok(_) => Err(format!("`{s}` is not a directory")),
        Err(e) => Err(format!("cannot use `{s}`: {e}")),
    }
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not NAME=VALUE"))?;
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return Err(format!("`{name}` is not a valid parameter name"));
    }
    Ok((name.to_string(), value.to_string()))
}

/// A name of `ip netns`, checked as iproute2 checks it: it is a file name in
/// /run/netns, so it must not lead anywhere else (`../../proc/1/ns/net`).
fn parse_netns(s: &str) -> Result<String, String> {
    const NAME_MAX: usize = 255;
    if s.is_empty() {
        Err("a namespace name cannot be empty".to_string())
    } else if s == "." || s == ".." {
        Err(format!("a namespace name cannot be `{s}`"))
    } else if s.contains('/') {
        Err("a namespace name cannot contain `/` (it is a file name in /run/netns)".to_string())
    } else if s.contains('\0') {
        Err("a namespace name cannot contain a NUL byte".to_string())
    } else if s.len() > NAME_MAX {
        Err(format!(
            "a namespace name is at most {NAME_MAX} bytes, not {}",
            s.len()
        ))
    } else {
        Ok(s.to_string())
    }
}

/// One `--scope`: `192.168.10.0/24`, `2001:db8::1`, `mark:10` or `mark:10-20`.
fn parse_scope(s: &str) -> Result<Scope, String> {
    let mut scope = Scope::default();
    match s.strip_prefix("mark:") {
        Some(marks) => scope.marks.insert(marks.parse()?),
        None if s.contains('/') || s.parse::<std::net::IpAddr>().is_ok() => {
            scope.addresses.insert(s.parse()?)
        }
        None => {
            return Err(format!(
                "`{s}` is not an address, a prefix or `mark:N`; e.g. `192.168.10.0/24`, \
                 `2001:db8::1`, `mark:10-20`"
            ));
        }
    };
    Ok(scope)
}

/// Every `--scope` as one scope; `None` when none was given.
pub fn scope(specs: &[Scope]) -> Option<Scope> {
    specs.iter().cloned().reduce(|mut all, s| {
        all.add(s);
        all
    })
}

/// Where the observed state comes from.
#[derive(Debug, Args, Clone, Default)]
pub struct StateSource {
    /// Compare against a saved model (the JSON of `emit --to json`) instead of the kernel
    #[arg(long, value_name = "FILE.json", conflicts_with = "empty")]
    pub state: Option<PathBuf>,
    /// Compare against an empty balancer instead of the kernel
    #[arg(long)]
    pub empty: bool,
}

impl StateSource {
    /// What the plan compares with, for its messages.
    pub fn against(&self) -> crate::plan::Against {
        use crate::plan::Against;
        match (&self.state, self.empty) {
            (Some(path), _) => Against::StateFile(path.clone()),
            (None, true) => Against::Empty,
            (None, false) => Against::Kernel,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate and validate a script; print a summary; touch nothing
    Check(Lazy<CheckArgs>),
    /// Show what apply would change
    Plan(Lazy<PlanArgs>),
    /// Apply the plan as one transaction, rolling back on failure
    Apply(Lazy<ApplyArgs>),
    /// Go back to the state before an apply recorded in the journal (IPVS, nft, sysctls, addresses)
    Rollback(Lazy<RollbackArgs>),
    /// List the applies recorded in the journal (/var/lib/lvsh), newest last
    History(Lazy<HistoryArgs>),
    /// Show the live IPVS table, the changed sysctls, the owned nft table and lvsh's addresses
    Show(Lazy<ShowArgs>),
    /// Print the live state as a script that re-applies as a no-op
    Save,
    /// Print the script's model in another format
    Emit(Lazy<EmitArgs>),
    /// Interactive shell: build the balancer step by step, :plan and :apply it
    Repl(Lazy<ReplArgs>),
    /// Turn `ipvsadm -S` output or an `ipvsadm -R` rules file into a script
    Import(Lazy<ImportArgs>),
    /// The run-time daemon: health checks, drains, reload on SIGHUP (systemd Type=notify)
    Watch(Lazy<WatchArgs>),
    /// Per real server: script and kernel weight, health, drain progress
    Status(Lazy<StatusArgs>),
    /// Take a real server out of rotation (weight 0) while its connections finish
    Drain(Lazy<DrainArgs>),
    /// End a drain: the real server gets back the weight it had before
    Undrain(Lazy<UndrainArgs>),
    /// Print the completion script of a shell (bash, zsh, fish, elvish, powershell)
    Completions(Lazy<CompletionsArgs>),
    /// Per-site values files: where each value comes from
    Values(Lazy<ValuesArgs>),
    /// Recipe libraries of a site (lvsh.toml, lvsh.lock): add, lock, update, vendor, verify, test, diff
    Recipes(Lazy<RecipesArgs>),
    /// Print the manual page lvsh(8), or lvsh-COMMAND(8); with --dir write them all
    Man(Lazy<ManArgs>),
}

// The arguments of each command, defined when it runs (`Lazy`). No doc comments on
// these structs: clap would make them the command's help text in place of the
// variant's (`Lazy` keeps the variant's `about`, not a `long_about` it lacks).

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The script (`-` for standard input)
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The script (`-` for standard input)
    pub file: PathBuf,
    #[command(flatten)]
    pub source: StateSource,
    /// Machine-readable plan
    #[arg(long)]
    pub json: bool,
    /// Exit 0 when in sync, 2 when changes are pending, 1 on error
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Only add and change; never delete what the script does not mention
    #[arg(long)]
    pub merge: bool,
    /// Also save the plan to FILE, with a fingerprint of the kernel state it was
    /// made against: `lvsh apply FILE` applies exactly it, and refuses if the
    /// kernel changed since
    #[arg(short = 'o', long = "out", value_name = "FILE", conflicts_with_all = ["state", "empty"])]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The script (`-` for standard input), or a plan saved with `lvsh plan -o`
    pub file: PathBuf,
    /// Only add and change; never delete what the script does not mention
    #[arg(long)]
    pub merge: bool,
    /// Change nothing when the script declares nothing at all (only comments): for
    /// boot, so an untouched /etc/lvsh/lvsh.rhai never empties a table kept by other means
    #[arg(long)]
    pub skip_empty: bool,
    #[command(flatten)]
    pub consent: ConsentArgs,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The apply to undo, as `lvsh history` numbers it [default: the newest]
    pub id: Option<u64>,
    #[command(flatten)]
    pub consent: ConsentArgs,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Machine-readable list
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The live state as JSON, the format of `emit --to json` (what `--state` reads)
    #[arg(long)]
    pub json: bool,
    /// Include traffic counters and rates
    #[arg(long)]
    pub stats: bool,
}

#[derive(Debug, Args)]
pub struct EmitArgs {
    /// The script (`-` for standard input)
    pub file: PathBuf,
    /// ipvsadm: `ipvsadm -R` input as `ipvsadm -S -n` prints it; nft: an `nft -f`
    /// script of table `inet lvsh`; json: the model (what `--state` reads)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub to: EmitFormat,
}

#[derive(Debug, Args)]
pub struct ReplArgs {
    /// A script the session starts from (instead of the live state)
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub source: StateSource,
    /// History file [default: $XDG_STATE_HOME/lvsh/history]
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The rules file (`-` for standard input)
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The script whose checks it runs and whose weights it keeps
    pub file: PathBuf,
    /// Serve Prometheus metrics on this address (`127.0.0.1:9610`)
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,
    /// Allow a (re)load that deletes more than half of the kernel's services
    #[arg(long)]
    pub allow_mass_delete: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Machine-readable status
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DrainArgs {
    /// The real server: ADDR (every port of it) or ADDR:PORT
    #[arg(value_name = "ADDR[:PORT]", value_parser = super::drain::parse_target)]
    pub target: super::drain::Target,
    /// Only in this service, as plan prints it (`tcp 192.168.10.120:80`, `fwmark 10`);
    /// `192.168.10.120:80` is TCP, `udp:ADDR:PORT` UDP
    #[arg(long, value_name = "KEY", value_parser = super::drain::parse_service)]
    pub service: Option<ServiceKey>,
    /// End the drain after DUR (`90s`, `10m`) whatever connections are left
    /// [default: wait for them however long they last]
    #[arg(long, value_name = "DUR", value_parser = super::drain::parse_deadline)]
    pub deadline: Option<std::time::Duration>,
    /// Delete the real server once drained (done by `lvsh watch`)
    #[arg(long)]
    pub remove: bool,
}

#[derive(Debug, Args)]
pub struct UndrainArgs {
    /// The real server: ADDR (every port of it) or ADDR:PORT
    #[arg(value_name = "ADDR[:PORT]", value_parser = super::drain::parse_target)]
    pub target: super::drain::Target,
    /// Only in this service, as plan prints it (`tcp 192.168.10.120:80`, `fwmark 10`)
    #[arg(long, value_name = "KEY", value_parser = super::drain::parse_service)]
    pub service: Option<ServiceKey>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell, e.g. `lvsh completions bash > /etc/bash_completion.d/lvsh`
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ValuesArgs {
    #[command(subcommand)]
    pub command: ValuesCommand,
}

#[derive(Debug, Args)]
pub struct RecipesArgs {
    #[command(subcommand)]
    pub command: RecipesCommand,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print [default: lvsh(8) itself]
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(super::man::COMMANDS))]
    pub command: Option<String>,
    /// Write every page (lvsh.8 and lvsh-COMMAND.8) into DIR instead of printing one
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum ValuesCommand {
    /// Show each value of a site, the file and line that set it, and what it overrode
    Explain {
        /// The site's values file (TOML or JSON, naming its script)
        file: PathBuf,
        /// Only this parameter (or `table.key`)
        key: Option<String>,
    },
}

/// `lvsh recipes …`: pin, fetch, upgrade and check the recipe libraries a site uses.
#[derive(Debug, Subcommand)]
pub enum RecipesCommand {
    /// Check offline that lvsh.lock matches lvsh.toml and every library's files
    /// match the lock; exit 1 listing the modified files
    Verify {
        /// The site: a directory with lvsh.toml, or one below it [default: .]
        dir: Option<PathBuf>,
    },
    /// List the site's libraries: version, source, status and entry points
    List {
        /// The site: a directory with lvsh.toml, or one below it [default: .]
        dir: Option<PathBuf>,
        /// Machine-readable list
        #[arg(long)]
        json: bool,
    },
    /// Print the sha256tree of a library directory: one line per file, then the hash
    Hash {
        /// The library (holding lvsh-lib.toml), or a vendored or cached copy
        dir: PathBuf,
    },
    /// Add a git library to lvsh.toml (comments kept; created if missing), then lock
    /// and fetch it
    Add {
        /// The name sites import it as (`@NAME/…`); must be the library's own name
        name: String,
        /// Its git repository (any URL git accepts)
        git: String,
        /// The version requirement [default: `^` of the newest release]
        #[arg(long, value_name = "REQ")]
        version: Option<semver::VersionReq>,
        /// The library's directory inside the repository
        #[arg(long, value_name = "DIR")]
        subdir: Option<String>,
        /// The site: a directory with lvsh.toml, or one below it [default: .]
        #[arg(long, value_name = "DIR")]
        site: Option<PathBuf>,
    },
    /// Resolve every library of lvsh.toml to lvsh.lock, fetch and hash it (locked
    /// versions that still match stay)
    Lock {
        /// The site: a directory with lvsh.toml, or one below it [default: .]
        dir: Option<PathBuf>,
        /// Only check, offline, that lvsh.lock agrees with lvsh.toml; exit 1 if not
        #[arg(long)]
        check: bool,
    },
    /// Move libraries to the newest version their requirement allows (or --to), and
    /// refresh vendor/lvsh/ when the site has one
    Update {
        /// The libraries to move [default: all]
        names: Vec<String>,
        /// Move the one named library to exactly this version
        #[arg(long, value_name = "VERSION")]
        to: Option<semver::Version>,
        /// Print the moves, write nothing (`lvsh recipes diff` shows their effect per site)
        #[arg(long)]
        dry_run: bool,
        /// The site: a directory with lvsh.toml, or one below it [default: .]
        #[arg(long, value_name = "DIR")]
        site: Option<PathBuf>,
    },
    /// Fill the cache with the locked libraries, verifying tags and hashes
    Fetch {
        /// The site: a directory with lvsh.toml, or one below it [default: .]
        dir: Option<PathBuf>,
    },
    /// Copy the locked libraries into vendor/lvsh/ for directors without git or
    /// network
    Vendor {
        /// The site: a directory with lvsh.toml, or one below it [default: .]
        dir: Option<PathBuf>,
        /// Only compare vendor/lvsh/ with lvsh.lock; exit 1 naming the differences
        #[arg(long)]
        check: bool,
    },
    /// Run a library's tests (tests/*.rhai): golden plans, expected errors and
    /// warnings; exit 1 when one fails
    Test {
        /// [DIR] [FILTER]: the library (holding lvsh-lib.toml, or a directory below
        /// it) [default: .], then only the tests whose name holds FILTER; a first
        /// argument that is not a directory is the filter
        #[arg(value_name = "DIR|FILTER", num_args = 0..=2)]
        args: Vec<String>,
        /// Write the goldens (expect-plan, expect-model) that differ or are missing
        #[arg(long)]
        bless: bool,
        /// Run the tests of release TAG (from the library's git history) against the
        /// recipes as they are now: a changed golden or a new error is a change of
        /// behaviour
        #[arg(long, value_name = "TAG")]
        compat: Option<String>,
    },
    /// Show the entry points and parameters of a recipe, a library or a site script's
    /// PARAMS, without running anything
    Doc {
        /// `@NAME/MODULE[::ENTRY]` (a library of this site), a library directory, or
        /// a script
        what: String,
        /// Markdown, for a library's README or wiki
        #[arg(long, conflicts_with = "json")]
        markdown: bool,
        /// Machine-readable
        #[arg(long)]
        json: bool,
    },
    /// Show what moving library NAME to VERSION changes (API, changelog, each site's
    /// model; the lock stays); exit 2 when a site changes
    Diff {
        /// The library, as lvsh.toml names it
        name: String,
        /// The version to compare with (fetched into the cache)
        #[arg(long, value_name = "VERSION")]
        to: semver::Version,
        /// The sites (values files or scripts) [default: sites/*.toml of the site]
        sites: Vec<PathBuf>,
    },
}

/// What apply and rollback may do without asking again.
#[derive(Debug, Args, Clone, Copy)]
pub struct ConsentArgs {
    /// Show the plan and stop
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (needed when standard input is not a terminal)
    #[arg(short, long)]
    pub yes: bool,
    /// Allow a plan that deletes more than half of the kernel's services
    #[arg(long)]
    pub allow_mass_delete: bool,
}

// Described on `--to`: help on the values themselves would give `emit --help` a
// layout of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EmitFormat {
    Ipvsadm,
    Nft,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn params_need_a_name_and_an_equals_sign() {
        assert_eq!(parse_param("vip=10.0.0.1").unwrap().1, "10.0.0.1");
        assert_eq!(parse_param("a=b=c").unwrap().1, "b=c");
        assert!(parse_param("novalue").is_err());
        assert!(parse_param("1x=2").is_err());
        assert!(parse_param("=2").is_err());
    }

    #[test]
    fn netns_names_are_file_names_in_run_netns() {
        for ok in ["blue", "lvs-1", "a.b", "...", &"n".repeat(255)] {
            assert_eq!(parse_netns(ok).unwrap(), ok);
        }
        for (bad, why) in [
            ("", "empty"),
            (".", "`.`"),
            ("..", "`..`"),
            ("../../proc/1/ns/net", "`/`"),
            ("a/b", "`/`"),
            ("/run/netns/x", "`/`"),
            ("a\0b", "NUL"),
            (&"n".repeat(256), "at most 255 bytes, not 256"),
        ] {
            let e = parse_netns(bad).unwrap_err();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
    }

    #[test]
    fn scopes_are_addresses_prefixes_or_marks_and_add_up() {
        let specs: Vec<Scope> = ["192.168.10.0/24", "2001:db8::1", "mark:10-20", "mark:7"]
            .into_iter()
            .map(|s| parse_scope(s).unwrap())
            .collect();
        assert_eq!(
            scope(&specs).unwrap().to_string(),
            "192.168.10.0/24, 2001:db8::1 and marks 7, 10-20"
        );
        assert_eq!(scope(&[]), None);
        assert!(parse_scope("mark:0").unwrap_err().contains("not a mark"));
        assert!(parse_scope("mark:x").unwrap_err().contains("not a mark"));
        assert!(parse_scope("marks:10").unwrap_err().contains("`mark:N`"));
        assert!(
            parse_scope("10.0.0.1/24")
                .unwrap_err()
                .contains("did you mean")
        );
        assert!(parse_scope("vip").unwrap_err().contains("not an address"));
    }
}
