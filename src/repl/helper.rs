//! The rustyline glue: completion, hints, multi-line validation, hint colour.

use super::catalog::Catalog;
use super::complete::{Completion, complete};
use super::hint::hint;
use super::shell::{is_incomplete, starts_chain};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::{Hint, Hinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};
use std::borrow::Cow;

pub(crate) struct ReplHelper {
    /// Refreshed by the loop before every prompt.
    pub catalog: Catalog,
    /// The entry before, when a line starting with `.` would continue it: such a
    /// line completes and hints as the end of that entry. Refreshed with `catalog`.
    pub continues: Option<String>,
    color: bool,
    files: FilenameCompleter,
}

impl ReplHelper {
    pub fn new(catalog: Catalog, color: bool) -> Self {
        ReplHelper {
            catalog,
            continues: None,
            color,
            files: FilenameCompleter::new(),
        }
    }
}

impl ReplHelper {
    /// `line`, after the entry it continues if it does; and where `line` starts.
    fn in_context<'a>(&self, line: &'a str) -> (Cow<'a, str>, usize) {
        match &self.continues {
            Some(before) if starts_chain(line) => {
                (Cow::Owned(format!("{before}\n{line}")), before.len() + 1)
            }
            _ => (Cow::Borrowed(line), 0),
        }
    }
}

impl Helper for ReplHelper {}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (text, shift) = self.in_context(line);
        match complete(&text, shift + pos, &self.catalog) {
            Completion::Nothing => Ok((pos, Vec::new())),
            Completion::Words { start, .. } if start < shift => Ok((pos, Vec::new())),
            Completion::Words { start, candidates } => Ok((
                start - shift,
                candidates
                    .into_iter()
                    .map(|c| Pair {
                        display: c.display,
                        replacement: c.replacement,
                    })
                    .collect(),
            )),
            Completion::Path { start } => {
                let (at, found) = self.files.complete(&line[start..], pos - start, ctx)?;
                Ok((start + at, found))
            }
        }
    }
}

/// A signature shown after the cursor; it is information, never inserted.
pub(crate) struct SignatureHint(String);

impl Hint for SignatureHint {
    fn display(&self) -> &str {
        &self.0
    }

    fn completion(&self) -> Option<&str> {
        None
    }
}

impl Hinter for ReplHelper {
    type Hint = SignatureHint;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<SignatureHint> {
        let (text, shift) = self.in_context(line);
        hint(&text, shift + pos, &self.catalog).map(SignatureHint)
    }
}

impl Highlighter for ReplHelper {
    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color {
            Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
        } else {
            Cow::Borrowed(hint)
        }
    }
}

impl Validator for ReplHelper {
    /// Enter on an unfinished statement opens a new line instead of running it.
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if is_incomplete(ctx.input()) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Valid(None)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustyline::history::MemHistory;

    fn offered(h: &ReplHelper, line: &str) -> (usize, Vec<String>) {
        let history = MemHistory::new();
        let (start, found) = h
            .complete(line, line.len(), &Context::new(&history))
            .unwrap();
        (start, found.into_iter().map(|p| p.replacement).collect())
    }

    #[test]
    fn file_names_after_load_and_save() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site.rhai"), "").unwrap();
        let h = ReplHelper::new(Catalog::new(&[]), false);
        let (start, found) = offered(&h, &format!(":load {}/si", dir.path().display()));
        assert_eq!(start, ":load ".len());
        assert_eq!(found, [format!("{}/site.rhai", dir.path().display())]);
    }

    #[test]
    fn a_line_starting_with_a_dot_completes_as_the_end_of_the_entry_before() {
        let mut h = ReplHelper::new(Catalog::new(&[]), false);
        // Without the entry before: methods of every type.
        assert_eq!(
            offered(&h, "  .s").1,
            [
                "scheduler(",
                "sctp()",
                "server(",
                "slow_start(",
                "sni(",
                "sorry(",
                "syncid("
            ]
        );
        h.continues = Some("rs(\"10.0.0.1\")".into());
        assert_eq!(offered(&h, "  .t"), (3, vec!["tun(".to_string()]));
        h.continues = None;
        assert_eq!(offered(&h, "  .t").1, ["tcp()", "timeout(", "ttl(", "tun("]);
        h.continues = Some("rs(\"10.0.0.1\") // a note".into());
        assert_eq!(offered(&h, "  .t").1, ["tun("]);
        h.continues = Some("web.rs(rs(\"10.0.0.2\"))".into());
        h.catalog.variables = vec![("web".into(), "Service".into())];
        assert_eq!(
            offered(&h, "  .rs(rs(\"10.0.0.3\")).s").1,
            ["scheduler(", "sctp()", "server(", "sorry("]
        );
        let history = MemHistory::new();
        let hint = h.hint(".persist(", 9, &Context::new(&history)).unwrap();
        assert_eq!(hint.display(), "  persist()  |  persist(secs: int)");
        // Other lines are on their own.
        assert_eq!(offered(&h, "serv"), (0, vec!["service(".to_string()]));
    }

    #[test]
    fn words_and_hints_come_from_the_catalog() {
        let h = ReplHelper::new(Catalog::new(&[]), true);
        assert_eq!(offered(&h, "serv"), (0, vec!["service(".to_string()]));
        let history = MemHistory::new();
        let hint = h.hint("mark(", 5, &Context::new(&history)).unwrap();
        assert_eq!(hint.display(), "  mark(n: int)");
        assert_eq!(hint.completion(), None, "a hint is never inserted");
        assert_eq!(h.highlight_hint("x"), "\x1b[2mx\x1b[0m");
    }
}
