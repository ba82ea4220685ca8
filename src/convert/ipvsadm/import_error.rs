//! The error of an import: a [`Problem`] on a line, with the source for miette.

use super::problem::{Fault, Problem};
use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};
use std::{fmt, ops::Range};

/// A rules file line lvsh cannot read, pointing at the offending token.
///
/// Boxed inside: it travels in `Result`s and carries the whole source for miette.
#[derive(Debug)]
pub struct ImportError(Box<Details>);

#[derive(Debug)]
struct Details {
    problem: Problem,
    line: usize,
    source_code: NamedSource<String>,
    span: SourceSpan,
    label: &'static str,
    help: Option<String>,
}

impl ImportError {
    pub(crate) fn new(name: &str, text: &str, line: usize, fault: Fault) -> Self {
        ImportError(Box::new(Details {
            label: label_for(&fault.problem),
            problem: fault.problem,
            line,
            source_code: NamedSource::new(name, text.to_owned()),
            span: (fault.span.start, fault.span.len()).into(),
            help: fault.help,
        }))
    }

    pub fn problem(&self) -> &Problem {
        &self.0.problem
    }

    /// 1-based line of the rule.
    pub fn line(&self) -> usize {
        self.0.line
    }

    /// Byte range of the offending token in the source.
    pub fn span(&self) -> Range<usize> {
        self.0.span.offset()..self.0.span.offset() + self.0.span.len()
    }

    pub fn help_text(&self) -> Option<&str> {
        self.0.help.as_deref()
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.problem.fmt(f)
    }
}

impl std::error::Error for ImportError {}

impl Diagnostic for ImportError {
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.0.source_code)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = LabeledSpan::new_with_span(Some(self.0.label.to_owned()), self.0.span);
        Some(Box::new(std::iter::once(label)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0
            .help
            .as_deref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

fn label_for(p: &Problem) -> &'static str {
    match p {
        Problem::ServiceExists { .. } | Problem::DestExists { .. } => "defined again here",
        Problem::NoSuchService { .. } | Problem::NoSuchDest { .. } => "not defined before",
        Problem::HostName(_) => "a name, not an address",
        Problem::UnknownOption(_) | Problem::NotACommand(_) => "not understood",
        _ => "here",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_send_sync_diagnostic_with_location() {
        fn check<T: Diagnostic + Send + Sync + 'static>() {}
        check::<ImportError>();
        let text = "-A -t 10.0.0.1:80 -s rrr\n";
        let f =
            Fault::new(Problem::UnknownScheduler("rrr".into()), 21..24).help("did you mean `rr`?");
        let e = ImportError::new("rules.txt", text, 1, f);
        assert_eq!(e.to_string(), "unknown scheduler `rrr`");
        assert_eq!(&text[e.span()], "rrr");
        assert_eq!(e.help_text(), Some("did you mean `rr`?"));
        assert_eq!(e.line(), 1);
        assert_eq!(e.problem(), &Problem::UnknownScheduler("rrr".into()));
        let labels: Vec<_> = e.labels().unwrap().collect();
        assert_eq!(labels.len(), 1);
        assert_eq!(labels[0].offset(), 21);
        assert!(e.source_code().is_some());
    }
}
