//! One report as lvsh shows it: without the diagnostic code (an internal name),
//! without related reports (shown one after another instead), with long words and
//! long source lines cut.

use super::clip::{ClippedSource, clip_words};
use miette::{Diagnostic, LabeledSpan, Severity, SourceCode};
use std::fmt;

pub(super) struct Shown<'a> {
    inner: &'a dyn Diagnostic,
    message: String,
    help: Option<String>,
    source: Source<'a>,
    labels: Vec<LabeledSpan>,
}

enum Source<'a> {
    None,
    Real(&'a dyn SourceCode),
    Clipped(ClippedSource),
}

impl<'a> Shown<'a> {
    /// `parent`: the source of the report `inner` is related to, for labels
    /// without a source of their own.
    pub(super) fn new(
        inner: &'a dyn Diagnostic,
        parent: Option<&'a dyn SourceCode>,
        ellipsis: &str,
    ) -> Self {
        let clip = |text: &str| clip_words(text, ellipsis).into_owned();
        let labels: Vec<LabeledSpan> = inner
            .labels()
            .map(|ls| {
                ls.map(|mut l| {
                    l.set_label(l.label().map(clip));
                    l
                })
                .collect()
            })
            .unwrap_or_default();
        let real = inner.source_code().or(parent);
        let (source, labels) = match real {
            None => (Source::None, labels),
            Some(real) => match ClippedSource::new(real, &labels, ellipsis) {
                Some((clipped, moved)) => (Source::Clipped(clipped), moved),
                None => (Source::Real(real), labels),
            },
        };
        Shown {
            inner,
            message: clip(&inner.to_string()),
            help: inner.help().map(|h| clip(&h.to_string())),
            source,
            labels,
        }
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Shown<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source()
    }
}

impl Diagnostic for Shown<'_> {
    fn severity(&self) -> Option<Severity> {
        self.inner.severity()
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        match &self.source {
            Source::None => None,
            Source::Real(s) => Some(*s),
            Source::Clipped(s) => Some(s),
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }

    fn diagnostic_source(&self) -> Option<&dyn Diagnostic> {
        self.inner.diagnostic_source()
    }
}
