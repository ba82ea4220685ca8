//! How lvsh prints an error: each problem as its own report, notes marked as
//! notes, no internal diagnostic codes, long lines and values cut. Installed as
//! miette's handler, so every `miette::Report` (commands and REPL) goes through it.

mod clip;
mod shown;

pub(crate) use clip::clip_words;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, MietteHandlerOpts, ReportHandler,
    SourceCode, ThemeCharacters, ThemeStyles,
};
use shown::Shown;
use std::fmt;

/// Renders diagnostics through miette's graphical handler, one report at a time.
pub struct Reporter {
    inner: Box<dyn ReportHandler>,
    ellipsis: &'static str,
}

impl Reporter {
    /// The handler for a terminal (or not): colors and unicode as given.
    pub fn new(color: bool, unicode: bool) -> Self {
        let theme = theme(color, unicode);
        let inner = MietteHandlerOpts::new()
            .graphical_theme(theme)
            .context_lines(1)
            .tab_width(4)
            .build();
        Reporter {
            inner: Box::new(inner),
            ellipsis: if unicode { "…" } else { "..." },
        }
    }

    /// Plain unicode text 100 columns wide, as tests and logs want it.
    pub fn plain() -> Self {
        Reporter {
            inner: Box::new(
                GraphicalReportHandler::new_themed(theme(false, true))
                    .with_width(100)
                    .with_context_lines(1),
            ),
            ellipsis: "…",
        }
    }

    /// Makes this the handler of every `miette::Report` of the process.
    pub fn install(self) {
        let shared = std::sync::Arc::new(self);
        let _ = miette::set_hook(Box::new(move |_| Box::new(Shared(shared.clone()))));
    }

    pub fn render(&self, diagnostic: &dyn Diagnostic) -> String {
        struct Render<'a>(&'a Reporter, &'a dyn Diagnostic);
        impl fmt::Debug for Render<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.debug(self.1, f)
            }
        }
        format!("{:?}", Render(self, diagnostic))
    }

    /// `diagnostic`, then each related report (and theirs) in order.
    fn write(
        &self,
        diagnostic: &dyn Diagnostic,
        parent: Option<&dyn SourceCode>,
        first: &mut bool,
        f: &mut fmt::Formatter<'_>,
    ) -> fmt::Result {
        if !std::mem::take(first) {
            writeln!(f)?;
        }
        let shown = Shown::new(diagnostic, parent, self.ellipsis);
        self.inner.debug(&shown, f)?;
        let source = diagnostic.source_code().or(parent);
        for related in diagnostic.related().into_iter().flatten() {
            self.write(related, source, first, f)?;
        }
        Ok(())
    }
}

impl ReportHandler for Reporter {
    fn debug(&self, diagnostic: &dyn Diagnostic, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return fmt::Debug::fmt(diagnostic, f);
        }
        self.write(diagnostic, None, &mut true, f)
    }
}

/// The installed handler: miette asks for one per report.
struct Shared(std::sync::Arc<Reporter>);

impl ReportHandler for Shared {
    fn debug(&self, diagnostic: &dyn Diagnostic, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug(diagnostic, f)
    }
}

/// miette's theme, with notes (advice) marked `note:` instead of a symbol.
fn theme(color: bool, unicode: bool) -> GraphicalTheme {
    let mut characters = if unicode {
        ThemeCharacters::unicode()
    } else {
        ThemeCharacters::ascii()
    };
    characters.advice = "note:".into();
    GraphicalTheme {
        characters,
        styles: if color {
            ThemeStyles::ansi()
        } else {
            ThemeStyles::none()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::{LabeledSpan, NamedSource, Severity};

    #[derive(Debug, thiserror::Error)]
    #[error("{message}")]
    struct Test {
        message: String,
        note: bool,
        text: NamedSource<String>,
        labels: Vec<LabeledSpan>,
        related: Vec<Test>,
    }

    impl Diagnostic for Test {
        fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
            Some(Box::new("lvsh::internal"))
        }
        fn severity(&self) -> Option<Severity> {
            self.note.then_some(Severity::Advice)
        }
        fn source_code(&self) -> Option<&dyn SourceCode> {
            Some(&self.text)
        }
        fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
            Some(Box::new(self.labels.iter().cloned()))
        }
        fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
            Some(Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)))
        }
    }

    fn test(message: &str, note: bool, text: &str, at: usize, related: Vec<Test>) -> Test {
        Test {
            message: message.into(),
            note,
            text: NamedSource::new("t.rhai", text.into()),
            labels: vec![LabeledSpan::at(at..at + 1, "here")],
            related,
        }
    }

    #[test]
    fn related_reports_follow_as_reports_and_notes_as_notes() {
        let e = test(
            "first problem",
            false,
            "a;\nb;\n",
            0,
            vec![
                test("inside `f`", true, "x;\n", 0, vec![]),
                test("second problem", false, "a;\nb;\n", 3, vec![]),
            ],
        );
        let text = Reporter::plain().render(&e);
        assert!(!text.contains("lvsh::internal"), "{text}");
        assert!(!text.contains("Error:"), "{text}");
        assert!(text.starts_with("  × first problem\n"), "{text}");
        assert!(text.contains("\n\n  note: inside `f`\n"), "{text}");
        assert!(text.contains("\n\n  × second problem\n"), "{text}");
        assert!(text.contains("[t.rhai:2:1]"), "{text}");
    }

    #[test]
    fn a_long_line_is_cut_in_a_report() {
        let line = format!("service(\"{}\", 80);\n", "1".repeat(500_000));
        let e = test(
            &format!("`{}` is not an address", "1".repeat(500_000)),
            false,
            &line,
            8,
            vec![],
        );
        let text = Reporter::plain().render(&e);
        assert!(text.len() < 1000, "{text}");
        assert!(text.contains("[t.rhai:1:9]"), "{text}");
        assert!(text.contains("…"), "{text}");
    }
}
