//! The REPL's state and what each entry or `:command` does, whoever reads the
//! input (a terminal or a pipe).

use super::catalog::Catalog;
use super::command::{self, Command};
use super::error::ReplError;
use super::lexer::lex;
use super::{Kernel, ReplOptions, help};
use crate::convert::script::to_script;
use crate::dsl::Session;
use crate::model::Balancer;
use crate::plan::{Against, Mode, diff};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What to do after an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Quit,
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
    catalog: Catalog,
    color: bool,
    script: Option<PathBuf>,
    entries: usize,
    failures: usize,
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
            catalog: Catalog::new(&dirs),
            color: opts.color,
            script: opts.script.clone(),
            entries: 0,
            failures: 0,
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

    pub fn status(&self) -> Status {
        match self.pending() {
            Ok(b) => match diff(&b, &self.observed, Mode::Replace).changes.len() {
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

    /// Runs one entry or command.
    pub fn input(&mut self, text: &str) -> Flow {
        let flow = if command::is_command(text) {
            match command::parse(text) {
                Ok(c) => self.command(c),
                Err(e) => {
                    self.fail(e);
                    Flow::Continue
                }
            }
        } else {
            if !is_blank(text) {
                self.entries += 1;
                let name = format!("entry {}", self.entries);
                self.eval(&name, text, true);
            }
            Flow::Continue
        };
        let _ = self.out.flush();
        let _ = self.err.flush();
        flow
    }

    /// Runs `text` as one transaction; `show_value` prints what it evaluates to.
    fn eval(&mut self, name: &str, text: &str, show_value: bool) -> bool {
        let result = self.session.eval(name, text);
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
                self.fail(e);
                false
            }
        };
        self.changed();
        ok
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
            Command::Save(path) => self.save(&path),
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
        match self.kernel.observe() {
            Ok(b) => {
                self.observed = b;
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
        let text = diff(&desired, &self.observed, Mode::Replace)
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
        let plan = diff(&desired, &self.observed, Mode::Replace);
        self.say(plan.render_against(self.color, &self.against()).trim_end());
        if plan.is_empty() {
            return;
        }
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
            Ok(text) => self.eval(&name, &text, false),
            Err(e) => {
                self.fail(e);
                false
            }
        }
    }

    fn save(&mut self, path: &Path) {
        let Some(desired) = self.desired() else {
            return;
        };
        let text = to_script(&desired, "Saved from the lvsh REPL.");
        match std::fs::write(path, text) {
            Ok(()) => {
                let n = desired.services.len();
                let s = format!(
                    "Saved {n} service{} to `{}`.",
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
    }
}
