//! The REPL's state and what each entry or `:command` does, whoever reads the
//! input (a terminal or a pipe).

use super::catalog::Catalog;
use super::command::{self, Command};
use super::error::ReplError;
use super::lexer::lex;
use super::{Kernel, ReplOptions, help};
use crate::convert::script::to_script;
use crate::dsl::Session;
use crate::model::{Balancer, Hold, Runtime};
use crate::plan::{Against, Mode, diff};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What to do after an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Quit,
    /// `:save` to a file that exists: ask ([`Shell::overwrite_question`]) first,
    /// then [`Shell::overwrite`]. Only when the shell [`Asks`].
    Overwrite(PathBuf),
}

/// Whether the shell can ask the user a question (a terminal) or must refuse what
/// would need one (a pipe).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Asks {
    Yes,
    No,
}

/// The entry before, which a line starting with `.` continues on a terminal.
struct Last {
    name: String,
    text: String,
    /// It ran without error, so continuing it replaces its effect.
    ok: bool,
}

/// The pending model compared with the last observed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    InSync,
    Pending(usize),
    /// The pending model does not validate (an entry left it half done).
    Invalid,
}

impl Status {
    /// `against`: what the session compares with (the kernel, a state file..).
    pub fn describe(self, against: &Against) -> String {
        match self {
            Status::InSync => format!("in sync with {}", against.describe()),
            Status::Pending(1) => "1 change pending".to_string(),
            Status::Pending(n) => format!("{n} changes pending"),
            Status::Invalid => "the pending model is not valid yet (`:plan` says why)".to_string(),
        }
    }
}

pub(crate) struct Shell {
    session: Session,
    kernel: Box<dyn Kernel>,
    /// The state `:plan` and the prompt compare with; refreshed by `:plan` and `:apply`.
    observed: Balancer,
    /// What the run-time side holds, read with `observed`.
    runtime: Runtime,
    catalog: Catalog,
    color: bool,
    script: Option<PathBuf>,
    entries: usize,
    failures: usize,
    asks: Asks,
    /// The last input, when it was an entry; a `:command` clears it.
    last: Option<Last>,
    /// Warnings already printed, so each is printed once.
    warned: Vec<String>,
    out: Box<dyn Write>,
    err: Box<dyn Write>,
}

impl Shell {
    /// Observes the kernel and starts the session from it, or from the script.
    /// `None` (the reason written to `err`) when the kernel cannot be read.
    pub fn start(
        mut kernel: Box<dyn Kernel>,
        opts: &ReplOptions,
        asks: Asks,
        out: Box<dyn Write>,
        mut err: Box<dyn Write>,
    ) -> Option<Shell> {
        let observed = match kernel.observe() {
            Ok(b) => b,
            Err(r) => {
                let _ = writeln!(err, "{r:?}");
                return None;
            }
        };
        let runtime = match kernel.runtime() {
            Ok(r) => r,
            Err(r) => {
                let _ = writeln!(err, "{r:?}");
                return None;
            }
        };
        let start = match opts.script {
            Some(_) => Balancer::default(),
            None => observed.clone(),
        };
        let mut dirs: Vec<&Path> = opts.dsl.lib_dirs.iter().map(PathBuf::as_path).collect();
        dirs.push(Path::new("."));
        let mut shell = Shell {
            session: Session::new(opts.dsl.clone(), start),
            kernel,
            observed,
            runtime,
            catalog: Catalog::new(&dirs),
            color: opts.color,
            script: opts.script.clone(),
            entries: 0,
            failures: 0,
            asks,
            last: None,
            warned: Vec::new(),
            out,
            err,
        };
        if let Some(script) = opts.script.clone() {
            shell.load(&script);
        }
        shell.changed();
        Some(shell)
    }

    pub fn failures(&self) -> usize {
        self.failures
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The pending model in the form the kernel reports it in (nft merges port
    /// ranges), so that a plan made after an apply is empty.
    fn pending(&self) -> Result<Balancer, crate::dsl::ScriptError> {
        let mut b = self.session.balancer()?;
        crate::state::canonical(&mut b);
        Ok(b)
    }

    /// What the session compares with.
    pub fn against(&self) -> Against {
        self.kernel.against()
    }

    /// `desired` with the weights the run-time side holds, and those holds.
    fn held(&self, desired: Balancer) -> (Balancer, Vec<Hold>) {
        if self.runtime.servers.is_empty() && desired.checks.is_empty() {
            return (desired, vec![]);
        }
        crate::model::effective(&desired, &self.runtime, crate::apply::journal_now())
    }

    pub fn status(&self) -> Status {
        match self.pending() {
            Ok(b) => match diff(&self.held(b).0, &self.observed, Mode::Replace)
                .changes
                .len()
            {
                0 => Status::InSync,
                n => Status::Pending(n),
            },
            Err(_) => Status::Invalid,
        }
    }

    /// Why leaving now would lose work, if it would.
    pub fn unapplied(&self) -> Option<String> {
        match self.status() {
            Status::InSync => None,
            Status::Pending(1) => Some("1 change is not applied".to_string()),
            Status::Pending(n) => Some(format!("{n} changes are not applied")),
            Status::Invalid => Some("the pending model is not valid and not applied".to_string()),
        }
    }

    /// Runs one command, or one entry as typed on a terminal (`entry 3` in errors).
    /// An entry whose first line starts with `.` continues the entry before it, as
    /// a chain in a script does: that entry runs again with these lines attached.
    pub fn input(&mut self, text: &str) -> Flow {
        let flow = if command::is_command(text) {
            self.last = None;
            match command::parse(text) {
                Ok(c) => self.command(c),
                Err(e) => {
                    self.fail(e);
                    Flow::Continue
                }
            }
        } else {
            if !is_blank(text) {
                self.typed(text);
            }
            Flow::Continue
        };
        self.flush();
        flow
    }

    /// The entry before, if a line starting with `.` would continue it now.
    pub fn continuable(&self) -> Option<&str> {
        self.last
            .as_ref()
            .map(|l| l.text.as_str())
            .filter(|t| is_open(t))
    }

    /// Runs the entry that ends `document` (all lines read so far) from its line
    /// `first_line` on: errors cite `<stdin>:LINE:COLUMN` of the real input.
    pub fn input_lines(&mut self, document: &str, first_line: usize) {
        self.entries += 1;
        let result = self.session.eval_in(STDIN, document, first_line);
        self.finish(result, true, None);
        self.flush();
    }

    fn typed(&mut self, text: &str) {
        let continues = starts_chain(text);
        match self.last.take().filter(|l| continues && is_open(&l.text)) {
            Some(last) => {
                let text = format!("{}\n{text}", last.text);
                let result = if last.ok {
                    self.session.extend_last(&last.name, &text)
                } else {
                    self.session.eval(&last.name, &text)
                };
                let ok = self.finish(result, true, None);
                self.last = Some(Last {
                    name: last.name,
                    text,
                    ok,
                });
            }
            None => {
                self.entries += 1;
                let name = format!("entry {}", self.entries);
                let result = self.session.eval(&name, text);
                let help = continues.then_some(
                    "a line that starts with `.` continues the entry just before it, \
                     if that entry does not end with `;`",
                );
                let ok = self.finish(result, true, help);
                self.last = Some(Last {
                    name,
                    text: text.to_string(),
                    ok,
                });
            }
        }
    }

    /// Prints what an entry printed and its value (if `show_value`) or its error
    /// (with `help` when it has none); true if it ran.
    fn finish(
        &mut self,
        result: Result<Option<String>, crate::dsl::ScriptError>,
        show_value: bool,
        help: Option<&str>,
    ) -> bool {
        for line in self.session.take_output() {
            self.say(&line);
        }
        let ok = match result {
            Ok(value) => {
                if let Some(v) = value.filter(|_| show_value) {
                    self.say(&v);
                }
                true
            }
            Err(e) => {
                let e = match help {
                    Some(h) if e.help_text().is_none() => e.with_help(Some(h.to_string())),
                    _ => e,
                };
                self.fail(e);
                false
            }
        };
        self.changed();
        ok
    }

    fn flush(&mut self) {
        let _ = self.out.flush();
        let _ = self.err.flush();
    }

    /// After the session changed: new warnings, fresh names for completion.
    fn changed(&mut self) {
        let warnings = self.session.warnings();
        for w in &warnings {
            if !self.warned.contains(w) {
                let _ = writeln!(self.err, "{w}");
            }
        }
        self.warned = warnings;
        self.catalog.update(&self.session);
    }

    fn command(&mut self, c: Command) -> Flow {
        match c {
            Command::Plan => self.plan(),
            Command::Apply => self.apply(),
            Command::Show => match self.kernel.show() {
                Ok(text) => self.say(text.trim_end()),
                Err(r) => self.fail_report(r),
            },
            Command::Undo => {
                if self.session.undo() {
                    self.changed();
                    let s = format!(
                        "Undid the last entry; {}.",
                        self.status().describe(&self.against())
                    );
                    self.say(&s);
                } else {
                    self.say("Nothing to undo.");
                }
            }
            Command::Reset => {
                self.session.reset();
                if let Some(script) = self.script.clone() {
                    self.load(&script);
                }
                self.changed();
                let s = format!(
                    "Back to the start; {}.",
                    self.status().describe(&self.against())
                );
                self.say(&s);
            }
            Command::Load(path) => {
                if self.load(&path) {
                    let s = format!(
                        "Loaded `{}`; {}.",
                        path.display(),
                        self.status().describe(&self.against())
                    );
                    self.say(&s);
                }
            }
            Command::Save { path, force } => return self.save(&path, force),
            Command::Help(None) => {
                let text = help::all(&self.catalog);
                self.say(text.trim_end());
            }
            Command::Help(Some(name)) => match help::one(&name, &self.catalog) {
                Ok(text) => self.say(text.trim_end()),
                Err(e) => self.fail(e),
            },
            Command::Quit => return Flow::Quit,
        }
        Flow::Continue
    }

    /// The pending model, or the reason it is not valid (printed).
    fn desired(&mut self) -> Option<Balancer> {
        match self.pending() {
            Ok(b) => Some(b),
            Err(e) => {
                self.fail(e);
                None
            }
        }
    }

    fn observe(&mut self) -> bool {
        match self
            .kernel
            .observe()
            .and_then(|b| Ok((b, self.kernel.runtime()?)))
        {
            Ok((b, runtime)) => {
                self.observed = b;
                self.runtime = runtime;
                true
            }
            Err(r) => {
                self.fail_report(r);
                false
            }
        }
    }

    fn plan(&mut self) {
        let Some(desired) = self.desired() else {
            return;
        };
        if !self.observe() {
            return;
        }
        let (held, holds) = self.held(desired);
        let text = diff(&held, &self.observed, Mode::Replace)
            .with_holds(holds)
            .render_against(self.color, &self.against());
        self.say(text.trim_end());
    }

    fn apply(&mut self) {
        let Some(desired) = self.desired() else {
            return;
        };
        if !self.observe() {
            return;
        }
        let (held, holds) = self.held(desired.clone());
        let plan = diff(&held, &self.observed, Mode::Replace).with_holds(holds);
        self.say(plan.render_against(self.color, &self.against()).trim_end());
        if plan.is_empty() {
            return;
        }
        // The kernel applies the holds again from what it reads under its lock.
        match self.kernel.apply(&desired) {
            Ok(summary) => self.say(summary.trim_end()),
            Err(r) => self.fail_report(r),
        }
        // Whatever happened, the prompt must count against what the kernel holds now.
        self.observe();
    }

    /// Runs a file as one entry, named by its path in errors.
    fn load(&mut self, path: &Path) -> bool {
        let name = path.display().to_string();
        let text = match std::fs::File::open(path) {
            Ok(file) => crate::dsl::read_script(file, &name),
            Err(source) => {
                self.fail(ReplError::Read {
                    path: path.to_path_buf(),
                    source,
                });
                return false;
            }
        };
        match text {
            Ok(text) => {
                let result = self.session.eval(&name, &text);
                self.finish(result, false, None)
            }
            Err(e) => {
                self.fail(e);
                false
            }
        }
    }

    /// Writes the pending model as a flat script; an existing file only when
    /// `force`d, else the terminal asks ([`Flow::Overwrite`]) and a pipe refuses.
    fn save(&mut self, path: &Path, force: bool) -> Flow {
        let Some(desired) = self.desired() else {
            return Flow::Continue;
        };
        if !force && std::fs::symlink_metadata(path).is_ok() {
            if self.asks == Asks::Yes {
                return Flow::Overwrite(path.to_path_buf());
            }
            self.fail(ReplError::Exists {
                path: path.to_path_buf(),
            });
            return Flow::Continue;
        }
        match std::fs::write(path, to_script(&desired, SAVED_HEADER)) {
            Ok(()) => {
                let n = desired.services.len();
                let s = format!(
                    "Saved {n} service{} to `{}`: a flat snapshot of the pending model \
                     (literal calls; the loops, functions, imports and `param()` calls \
                     that built it are not kept).",
                    if n == 1 { "" } else { "s" },
                    path.display()
                );
                self.say(&s);
            }
            Err(source) => self.fail(ReplError::Write {
                path: path.to_path_buf(),
                source,
            }),
        }
        Flow::Continue
    }

    /// The question before `:save` overwrites `path`.
    pub fn overwrite_question(&self, path: &Path) -> String {
        let started_from = self.script.as_deref().is_some_and(|s| same_file(s, path));
        format!(
            "`{}` exists{}. Replace it with a flat snapshot of the pending model? [y/N] ",
            path.display(),
            if started_from {
                " (the script this session started from)"
            } else {
                ""
            }
        )
    }

    /// `:save` after the user said yes.
    pub fn overwrite(&mut self, path: &Path) {
        self.save(path, true);
        self.flush();
    }

    /// The answer was no.
    pub fn not_saved(&mut self) {
        self.say("Not saved.");
        self.flush();
    }

    /// A line on the error stream that is not a failure.
    pub fn note(&mut self, text: &str) {
        let _ = self.out.flush();
        let _ = writeln!(self.err, "{text}");
        let _ = self.err.flush();
    }

    fn say(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }

    fn fail(&mut self, e: impl miette::Diagnostic + Send + Sync + 'static) {
        self.fail_report(miette::Report::new(e));
    }

    fn fail_report(&mut self, r: miette::Report) {
        self.failures += 1;
        let _ = self.out.flush();
        let _ = writeln!(self.err, "{r:?}");
    }
}

/// The name of piped input in errors.
const STDIN: &str = "<stdin>";

/// The comment at the top of a `:save`d file.
const SAVED_HEADER: &str = "\
Saved from the lvsh REPL: a flat snapshot of the model, every object as a literal
call. The loops, functions, imports and param() calls that built it are not kept.";

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// Does this entry start with `.`, continuing a chain (`.rs(..)` on its own line)?
pub(crate) fn starts_chain(text: &str) -> bool {
    let lexed = lex(text);
    matches!(lexed.tokens.first(), Some((_, super::lexer::Tok::Dot)))
}

/// Can a chain go on after `text`: does its last statement lack a `;` (or `}`)?
pub(crate) fn is_open(text: &str) -> bool {
    let lexed = lex(text);
    match lexed.tokens.last() {
        Some(&(at, tok)) => {
            lexed.open_string.is_none()
                && tok != super::lexer::Tok::Close('}')
                && !text[at..].starts_with(';')
        }
        None => false,
    }
}

/// Whitespace and comments only: nothing to run, nothing to undo later.
pub(crate) fn is_blank(text: &str) -> bool {
    let lexed = lex(text);
    lexed.tokens.is_empty() && lexed.open_string.is_none() && !open_comment(text)
}

/// Should reading go on before `text` is run? Also while a bracket is open: rhai
/// reports `fn f() {\n  x` as a missing `;`, not as unfinished.
pub(crate) fn is_incomplete(text: &str) -> bool {
    !command::is_command(text)
        && (open_comment(text)
            || lex(text).innermost_open().is_some()
            || Session::is_incomplete(text))
}

/// Inside a `/* block comment` (a `//` comment ends with the line).
fn open_comment(text: &str) -> bool {
    lex(&format!("{text}\n")).in_comment
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repl::Offline;
    use crate::repl::test_buf::Buf;

    /// A shell as on a terminal over an empty offline kernel; (shell, stdout, stderr).
    fn typed(opts: &ReplOptions) -> (Shell, Buf, Buf) {
        let (out, err) = (Buf::default(), Buf::default());
        let shell = Shell::start(
            Box::new(Offline::new(Balancer::default(), "test")),
            opts,
            Asks::Yes,
            Box::new(out.clone()),
            Box::new(err.clone()),
        )
        .unwrap();
        (shell, out, err)
    }

    #[test]
    fn a_line_starting_with_a_dot_continues_the_entry_before() {
        let (mut sh, out, err) = typed(&ReplOptions::default());
        sh.input("let web = service(\"10.0.0.1\", 80).scheduler(\"wlc\");");
        sh.input("web.rs(rs(\"10.0.0.2\"))");
        assert_eq!(sh.status(), Status::Pending(2));
        sh.input("    .rs(rs(\"10.0.0.3\"));");
        assert_eq!(sh.failures(), 0, "{}", err.text());
        assert_eq!(sh.status(), Status::Pending(3));
        assert!(
            out.text()
                .ends_with("1 real server\nservice tcp 10.0.0.1:80 wlc, 2 real servers\n"),
            "{}",
            out.text()
        );
        // The two lines are one entry: one undo drops both, not the `let`.
        sh.input(":undo");
        assert_eq!(sh.status(), Status::Pending(1));
        sh.input("web");
        assert_eq!(sh.failures(), 0, "{}", err.text());
    }

    #[test]
    fn a_failing_continuation_keeps_the_entry_before() {
        let (mut sh, _, err) = typed(&ReplOptions::default());
        sh.input("service(\"10.0.0.1\", 80)");
        sh.input("  .scheduler(\"rrr\")");
        assert_eq!(sh.failures(), 1);
        // Errors cite the entry the line continues, at its second line.
        assert!(err.text().contains("entry 1:2:4"), "{}", err.text());
        assert_eq!(sh.status(), Status::Pending(1));
        // A failed entry can be continued too: both lines run.
        sh.input("  .rs(rs(\"10.0.0.2\"))");
        assert_eq!(sh.failures(), 2);
        assert_eq!(sh.status(), Status::Pending(1));
    }

    #[test]
    fn a_dot_line_after_a_statement_or_a_command_is_explained() {
        let (mut sh, _, err) = typed(&ReplOptions::default());
        sh.input("service(\"10.0.0.1\", 80);");
        sh.input(".rs(rs(\"10.0.0.2\"))");
        assert_eq!(sh.failures(), 1);
        assert!(
            err.text().contains("continues the entry just before it"),
            "{}",
            err.text()
        );
        sh.input("service(\"10.0.0.1\", 80)");
        sh.input(":plan");
        sh.input(".rs(rs(\"10.0.0.2\"))");
        assert_eq!(sh.failures(), 2);
        assert_eq!(sh.status(), Status::Pending(1));
    }

    #[test]
    fn save_asks_before_replacing_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("site.rhai");
        std::fs::write(&script, "service(\"10.0.0.1\", 80);\n").unwrap();
        let opts = ReplOptions {
            script: Some(script.clone()),
            ..Default::default()
        };
        let (mut sh, out, _) = typed(&opts);
        let flow = sh.input(&format!(":save {}", script.display()));
        assert_eq!(flow, Flow::Overwrite(script.clone()));
        let q = sh.overwrite_question(&script);
        assert!(
            q.contains("(the script this session started from)") && q.ends_with("[y/N] "),
            "{q}"
        );
        sh.not_saved();
        assert_eq!(out.text(), "Not saved.\n");
        assert_eq!(
            std::fs::read_to_string(&script).unwrap(),
            "service(\"10.0.0.1\", 80);\n"
        );
        sh.overwrite(&script);
        assert!(
            std::fs::read_to_string(&script)
                .unwrap()
                .contains("a flat snapshot")
        );
        let other = dir.path().join("new.rhai");
        assert_eq!(
            sh.input(&format!(":save {}", other.display())),
            Flow::Continue
        );
        assert!(other.exists());
    }

    #[test]
    fn chains_and_open_ends() {
        assert!(starts_chain("  .rs(x)"));
        assert!(starts_chain("// note\n.rs(x)"));
        assert!(!starts_chain("..5"));
        assert!(!starts_chain("web.rs(x)"));
        assert!(is_open("web.rs(x)"));
        assert!(is_open("web.rs(x) // note"));
        assert!(!is_open("web.rs(x);"));
        assert!(!is_open("web.rs(x); // note"));
        assert!(!is_open("for i in [1] { }"));
        assert!(!is_open(""));
    }

    #[test]
    fn blank_and_incomplete_inputs() {
        assert!(is_blank("  // just a note"));
        assert!(is_blank("\n\n"));
        assert!(!is_blank("/* open"));
        assert!(!is_blank("let x = 1;"));
        assert!(is_incomplete("/* a note\n that goes on"));
        assert!(!is_incomplete("/* a note */"));
        assert!(is_incomplete("service(\"10.0.0.1\",\n"));
        assert!(!is_incomplete("x // comment"));
        assert!(!is_incomplete(":load ("));
        assert!(is_incomplete("fn pool(svc) {\n  for ip in [1] { }\n  svc"));
        assert!(is_incomplete("let a = [1,\n 2"));
        // A line continuing the entry before is complete on its own.
        for t in [
            ".scheduler(\"rr\")",
            "  .persist(1);",
            ".x",
            ".rs(rs(\"a\"))\n  .dr()",
        ] {
            assert!(!is_incomplete(t), "{t}");
        }
    }
}
