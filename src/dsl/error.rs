//! The one error type of the DSL: a miette diagnostic with file, line, column, a
//! span under the offending call, a hint, and further problems and notes as
//! related reports.

use super::sources::{Sources, span_at};
use miette::{Diagnostic, LabeledSpan, NamedSource, Severity, SourceCode, SourceSpan};
use std::{fmt, sync::Arc};

/// rhai keeps lines and columns in 16 bits, stopping at the largest: a place there
/// may be further down or further right.
const RHAI_MAX_POSITION: usize = u16::MAX as usize;

/// Where the primary label of an error points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Why a script could not be turned into a balancer. Holds every problem found:
/// the first is this report, the others are its related reports.
#[derive(Debug)]
pub struct ScriptError(Box<Inner>);

#[derive(Debug)]
struct Inner {
    message: String,
    /// A note on the report it is related to (a place in a module), not a problem.
    note: bool,
    help: Option<String>,
    source: Option<NamedSource<Arc<str>>>,
    labels: Vec<LabeledSpan>,
    location: Option<Location>,
    related: Vec<ScriptError>,
}

impl ScriptError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ScriptError(Box::new(Inner {
            message: message.into(),
            note: false,
            help: None,
            source: None,
            labels: Vec::new(),
            location: None,
            related: Vec::new(),
        }))
    }

    /// A note on another report: a place that explains it, in another file.
    pub(crate) fn note(message: impl Into<String>) -> Self {
        let mut e = ScriptError::new(message);
        e.0.note = true;
        e
    }

    pub(crate) fn with_help(mut self, help: Option<String>) -> Self {
        self.0.help = help;
        self
    }

    /// Adds a label at a script position. The first label decides the file of this
    /// report; a label in another file becomes a related note with that file's text
    /// (see [`ScriptError::note_label`]).
    pub(crate) fn label(
        mut self,
        sources: &Sources,
        file: &str,
        line: usize,
        column: usize,
        text: impl Into<String>,
    ) -> Self {
        let mut text = text.into();
        let saturated = if column >= RHAI_MAX_POSITION {
            Some(" (here or further right: rhai counts columns up to 65535)")
        } else if line >= RHAI_MAX_POSITION {
            Some(" (here or further down: rhai counts lines up to 65535)")
        } else {
            None
        };
        text.push_str(saturated.unwrap_or_default());
        // The token at a saturated place is not the one meant: mark one character.
        let saturated = saturated.is_some();
        let span_at = |code: &str, line, column| {
            let span = span_at(code, line, column);
            if saturated {
                SourceSpan::new(span.offset().into(), span.len().min(1))
            } else {
                span
            }
        };
        let Some(code) = sources.text(file) else {
            if self.0.location.is_none() {
                self.0.location = Some(Location {
                    file: file.to_string(),
                    line,
                    column,
                });
            }
            return self;
        };
        match &self.0.location {
            None => {
                let span = span_at(&code, line, column);
                self.first_place(file, &code, (line, column), span, text);
            }
            Some(loc) if loc.file == file => {
                let span = span_at(&code, line, column);
                // Two places on one call (a loop): one label saying both.
                if let Some(l) = self.0.labels.iter_mut().find(|l| *l.inner() == span) {
                    let merged = format!("{}; {text}", l.label().unwrap_or_default());
                    *l = if l.primary() {
                        LabeledSpan::new_primary_with_span(Some(merged), span)
                    } else {
                        LabeledSpan::new_with_span(Some(merged), span)
                    };
                } else {
                    self.0
                        .labels
                        .push(LabeledSpan::new_with_span(Some(text), span));
                }
            }
            Some(_) => return self.note_label(sources, text, file, line, column, "here"),
        }
        self
    }

    /// Adds a label in a note `message` on this report: one note per message and
    /// file, so several places on one module line make one note.
    pub(crate) fn note_label(
        mut self,
        sources: &Sources,
        message: impl Into<String>,
        file: &str,
        line: usize,
        column: usize,
        text: impl Into<String>,
    ) -> Self {
        let message = message.into();
        let same = self.0.related.iter().position(|r| {
            r.0.note && r.0.message == message && r.location().is_some_and(|l| l.file == file)
        });
        match same {
            Some(i) => {
                let note = self.0.related.remove(i);
                let note = note.label(sources, file, line, column, text);
                self.0.related.insert(i, note);
            }
            None => {
                let note = ScriptError::note(message).label(sources, file, line, column, text);
                self.0.related.push(note);
            }
        }
        self
    }

    /// Adds a label at a byte range of a text that is not a script (a values file):
    /// the first label decides the file of this report; a label in another file
    /// becomes a related note saying `message`.
    pub(crate) fn label_span(
        mut self,
        file: &str,
        code: &Arc<str>,
        span: std::ops::Range<usize>,
        text: impl Into<String>,
        message: &str,
    ) -> Self {
        let (line, column) = super::key_place::line_col(code, span.start);
        let at = SourceSpan::new(span.start.into(), span.len());
        match &self.0.location {
            None => self.first_place(file, code, (line, column), at, text.into()),
            Some(loc) if loc.file == file => {
                self.0
                    .labels
                    .push(LabeledSpan::new_with_span(Some(text.into()), at));
            }
            Some(_) => {
                let note = ScriptError::note(message).label_span(file, code, span, text, message);
                self.0.related.push(note);
            }
        }
        self
    }

    /// The report's first place: it decides the file shown and has the primary label.
    fn first_place(
        &mut self,
        file: &str,
        code: &Arc<str>,
        (line, column): (usize, usize),
        span: SourceSpan,
        text: String,
    ) {
        self.0.location = Some(Location {
            file: file.to_string(),
            line,
            column,
        });
        self.0.source = Some(NamedSource::new(file, code.clone()));
        self.0
            .labels
            .push(LabeledSpan::new_primary_with_span(Some(text), span));
    }

    pub(crate) fn push_related(&mut self, e: ScriptError) {
        self.0.related.push(e);
    }

    /// The first message (of the primary report).
    pub fn message(&self) -> &str {
        &self.0.message
    }

    pub fn help_text(&self) -> Option<&str> {
        self.0.help.as_deref()
    }

    /// File, line and column of the primary label, if the error has a place.
    pub fn location(&self) -> Option<&Location> {
        self.0.location.as_ref()
    }

    /// This report and its related reports, in order.
    pub fn reports(&self) -> impl Iterator<Item = &ScriptError> {
        std::iter::once(self).chain(self.0.related.iter())
    }

    /// The report as plain text without colours, as tests and logs want it.
    pub fn render_plain(&self) -> String {
        crate::report::Reporter::plain().render(self)
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for ScriptError {}

impl Diagnostic for ScriptError {
    fn severity(&self) -> Option<Severity> {
        Some(if self.0.note {
            Severity::Advice
        } else {
            Severity::Error
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.0.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.0.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.0.labels.iter().cloned()))
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.0.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.0.related.iter().map(|e| e as &dyn Diagnostic),
            ))
        }
    }
}

/// An argument a binding refused, carried through rhai as the payload of a runtime
/// error so it keeps its hint.
#[derive(Debug, Clone)]
pub(crate) struct BindingError {
    pub message: String,
    pub help: Option<String>,
    /// Where the report points when the binding knows better than the call stack
    /// (a recipe's argument at the site's call): the first is the primary place.
    pub places: Vec<Place>,
}

/// A place a binding chose for its report: a label, or a note when `note` is set.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub label: String,
    pub note: Option<String>,
}

/// A refused argument reported at the given places instead of at the call.
pub(crate) fn fail_at(
    message: impl Into<String>,
    help: Option<String>,
    places: Vec<Place>,
) -> Fail {
    Box::new(rhai::EvalAltResult::ErrorRuntime(
        rhai::Dynamic::from(BindingError {
            message: message.into(),
            help,
            places,
        }),
        rhai::Position::NONE,
    ))
}

pub(crate) type Fail = Box<rhai::EvalAltResult>;

/// A refused argument: `message` says what is wrong, `help` what is allowed.
pub(crate) fn fail(message: impl Into<String>, help: impl Into<Option<String>>) -> Fail {
    Box::new(rhai::EvalAltResult::ErrorRuntime(
        rhai::Dynamic::from(BindingError {
            message: message.into(),
            help: help.into(),
            places: Vec::new(),
        }),
        rhai::Position::NONE,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_in_other_files_become_notes() {
        let mut s = Sources::default();
        s.insert("a.rhai", "service(\"x\", 1);\n");
        s.insert("b.rhai", "\n  service(\"x\", 1);\n");
        let e = ScriptError::new("duplicate service")
            .label(&s, "a.rhai", 1, 1, "declared again here")
            .label(&s, "b.rhai", 2, 3, "first declared here");
        assert_eq!(e.location().unwrap().to_string(), "a.rhai:1:1");
        assert_eq!(e.reports().count(), 2);
        let text = e.render_plain();
        assert!(text.contains("a.rhai:1:1"), "{text}");
        assert!(text.contains("b.rhai:2:3"), "{text}");
        assert!(text.contains("───┬───"), "the span covers the name: {text}");
    }

    #[test]
    fn a_place_where_rhai_stops_counting_says_so() {
        let mut s = Sources::default();
        s.insert(
            "a.rhai",
            &format!("{}service(\"x\", 1);\n", " ".repeat(70_000)),
        );
        let e = ScriptError::new("bad").label(&s, "a.rhai", 1, 65535, "this call");
        let label = e.0.labels[0].clone();
        assert_eq!(label.len(), 1, "one character, not the token there");
        assert!(
            label.label().unwrap().contains("or further right"),
            "{label:?}"
        );
    }
}
