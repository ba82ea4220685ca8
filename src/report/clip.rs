//! Long lines and long words cut to what a reader can take in: a 500 KB string
//! literal would otherwise be printed whole, with an underline as long.

use miette::{LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use std::{borrow::Cow, collections::HashMap};

/// A source line longer than this (in characters) is shown as a window.
pub(crate) const MAX_LINE: usize = 120;
/// Characters of a long line shown around its span.
const WINDOW: usize = 80;
/// Characters of the window before the start of the span.
const LEAD: usize = 24;
/// A word (a run without spaces) longer than this is cut in a message.
pub(crate) const MAX_WORD: usize = 80;
/// Characters kept of a cut word: its start and its end.
const WORD_HEAD: usize = 48;
const WORD_TAIL: usize = 16;

/// `text` with each word longer than [`MAX_WORD`] cut to its start, `ellipsis` and
/// its end (a value quoted in a message can be as long as the script).
pub(crate) fn clip_words<'a>(text: &'a str, ellipsis: &str) -> Cow<'a, str> {
    if !text
        .split(char::is_whitespace)
        .any(|w| w.len() > MAX_WORD && w.chars().count() > MAX_WORD)
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(4 * MAX_WORD));
    let mut rest = text;
    while !rest.is_empty() {
        let space = rest.len() - rest.trim_start_matches(char::is_whitespace).len();
        out.push_str(&rest[..space]);
        rest = &rest[space..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        let count = word.chars().count();
        if count > MAX_WORD {
            let head = word.char_indices().nth(WORD_HEAD).map_or(0, |(i, _)| i);
            let tail = word
                .char_indices()
                .nth(count - WORD_TAIL)
                .map_or(word.len(), |(i, _)| i);
            out.push_str(&word[..head]);
            out.push_str(ellipsis);
            out.push_str(&word[tail..]);
        } else {
            out.push_str(word);
        }
        rest = &rest[end..];
    }
    Cow::Owned(out)
}

/// A source whose long lines are cut to a window around the spans on them, with
/// its labels moved to match. Line numbers stay as they were; the column a report
/// names is the column in the real line.
#[derive(Debug)]
pub(crate) struct ClippedSource {
    name: Option<String>,
    text: String,
    /// Byte column in the real line of each label start on a cut line, by its
    /// offset in `text`.
    columns: HashMap<usize, usize>,
}

/// How one real line is shown: as it is at `at` in the clipped text, or cut.
struct Line {
    /// Offset of the real line.
    start: usize,
    at: usize,
    cut: Option<Cut>,
}

/// The part `shown` (real offsets) of a cut line, after an ellipsis of `prefix`
/// bytes and before one of `suffix`.
struct Cut {
    shown: std::ops::Range<usize>,
    prefix: usize,
    suffix: usize,
}

impl Line {
    /// Where a real offset on this line is shown: before the window on the
    /// leading ellipsis, after it on the trailing one. `end`: the offset ends a span.
    fn map(&self, offset: usize, end: bool) -> usize {
        let Some(cut) = &self.cut else {
            return self.at + offset - self.start;
        };
        let first = self.at + cut.prefix;
        if offset < cut.shown.start {
            if end { first } else { self.at }
        } else if offset <= cut.shown.end {
            first + offset - cut.shown.start
        } else {
            let last = first + cut.shown.len();
            if end { last + cut.suffix } else { last }
        }
    }
}

impl ClippedSource {
    /// `None` when no line of `source` is long or it cannot be read as text.
    pub(crate) fn new(
        source: &dyn SourceCode,
        labels: &[LabeledSpan],
        ellipsis: &str,
    ) -> Option<(ClippedSource, Vec<LabeledSpan>)> {
        let all = source
            .read_span(&SourceSpan::from(0..0), 0, usize::MAX)
            .ok()?;
        let real = std::str::from_utf8(all.data()).ok()?;
        if !real.split('\n').any(|l| l.len() > MAX_LINE) {
            return None;
        }
        let mut text = String::new();
        let mut lines: Vec<Line> = Vec::new();
        let mut start = 0;
        for line in real.split_inclusive('\n') {
            let body = line.strip_suffix('\n').unwrap_or(line);
            let at = text.len();
            let mut cut = None;
            if body.len() <= MAX_LINE || body.chars().count() <= MAX_LINE {
                text.push_str(line);
            } else {
                let on_line = |l: &&LabeledSpan| (start..=start + body.len()).contains(&l.offset());
                let anchor = labels
                    .iter()
                    .filter(on_line)
                    .find(|l| l.primary())
                    .or_else(|| labels.iter().find(on_line))
                    .map(|l| l.offset() - start);
                let shown = window(body, anchor);
                let prefix = if shown.start > 0 { ellipsis.len() } else { 0 };
                let suffix = if shown.end < body.len() {
                    ellipsis.len()
                } else {
                    0
                };
                text.push_str(&ellipsis[..prefix]);
                text.push_str(&body[shown.clone()]);
                text.push_str(&ellipsis[..suffix]);
                text.push_str(&line[body.len()..]);
                cut = Some(Cut {
                    shown: start + shown.start..start + shown.end,
                    prefix,
                    suffix,
                });
            }
            lines.push(Line { start, at, cut });
            start += line.len();
        }
        let line_of = |offset: usize| {
            let i = lines.partition_point(|l| l.start <= offset);
            i.checked_sub(1).map(|i| &lines[i])
        };
        let map = |offset: usize, end: bool| {
            line_of(offset).map_or(0, |l| l.map(offset, end).min(text.len()))
        };
        let mut columns = HashMap::new();
        let moved = labels
            .iter()
            .map(|l| {
                let start = map(l.offset(), false);
                let end = map(l.offset() + l.len(), true).max(start);
                if let Some(line) = line_of(l.offset()).filter(|line| line.cut.is_some()) {
                    columns.entry(start).or_insert(l.offset() - line.start);
                }
                let span = SourceSpan::new(start.into(), end - start);
                let text = l.label().map(String::from);
                if l.primary() {
                    LabeledSpan::new_primary_with_span(text, span)
                } else {
                    LabeledSpan::new_with_span(text, span)
                }
            })
            .collect();
        Some((
            ClippedSource {
                name: all.name().map(String::from),
                text,
                columns,
            },
            moved,
        ))
    }
}

/// The byte range of `line` to show: [`WINDOW`] characters starting [`LEAD`]
/// characters before `anchor` (a byte offset in the line), or the line's start.
fn window(line: &str, anchor: Option<usize>) -> std::ops::Range<usize> {
    let starts: Vec<usize> = line.char_indices().map(|(i, _)| i).collect();
    let chars = starts.len();
    let byte = |c: usize| starts.get(c).copied().unwrap_or(line.len());
    let anchor = anchor.map_or(0, |a| starts.partition_point(|&s| s < a));
    let mut first = anchor.saturating_sub(LEAD);
    let last = (first + WINDOW).min(chars);
    first = first.min(last.saturating_sub(WINDOW));
    byte(first)..byte(last)
}

impl SourceCode for ClippedSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let c = self.text.read_span(span, before, after)?;
        let column = match self.columns.get(&span.offset()) {
            Some(column) if before == 0 => *column,
            _ => c.column(),
        };
        let contents = match &self.name {
            Some(name) => MietteSpanContents::new_named(
                name.clone(),
                c.data(),
                *c.span(),
                c.line(),
                column,
                c.line_count(),
            ),
            None => MietteSpanContents::new(c.data(), *c.span(), c.line(), column, c.line_count()),
        };
        Ok(Box::new(contents))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miette::NamedSource;

    fn clipped(text: &str, labels: &[LabeledSpan]) -> (ClippedSource, Vec<LabeledSpan>) {
        let source = NamedSource::new("t.rhai", text.to_string());
        ClippedSource::new(&source, labels, "…").expect("a line is long")
    }

    fn shown(c: &ClippedSource, l: &LabeledSpan) -> String {
        c.text[l.offset()..l.offset() + l.len()].to_string()
    }

    #[test]
    fn short_lines_are_left_alone() {
        let source = NamedSource::new("t.rhai", "let a = 1;\n".repeat(1000));
        let label = LabeledSpan::at(4..5, "here");
        assert!(ClippedSource::new(&source, &[label], "…").is_none());
    }

    #[test]
    fn a_long_line_is_a_window_around_its_span() {
        let literal = format!("\"{}\"", "x".repeat(500_000));
        let text = format!("// first\nservice(\"10.0.0.1\", 80).scheduler({literal});\nlast();\n");
        let start = text.find("\"xxx").unwrap();
        let label =
            LabeledSpan::new_primary_with_span(Some("this".into()), start..start + literal.len());
        let after = LabeledSpan::at(
            text.find("last").unwrap()..text.find("last").unwrap() + 4,
            "next",
        );
        let (c, labels) = clipped(&text, &[label, after]);
        let lines: Vec<&str> = c.text.lines().collect();
        assert_eq!(lines.len(), 3, "line numbers stay");
        assert_eq!(lines[0], "// first");
        assert_eq!(lines[2], "last();");
        assert!(
            lines[1].starts_with('…') && lines[1].ends_with('…'),
            "{}",
            lines[1]
        );
        assert_eq!(lines[1].chars().count(), WINDOW + 2);
        assert!(lines[1].contains("scheduler(\"xxx"), "{}", lines[1]);
        // The underline runs from the quote to the end of the window.
        let under = shown(&c, &labels[0]);
        assert!(
            under.starts_with("\"xxx") && under.ends_with('…'),
            "{under}"
        );
        assert!(under.chars().count() < WINDOW);
        assert_eq!(shown(&c, &labels[1]), "last");
        // The report names the real column.
        let contents = c.read_span(labels[0].inner(), 0, 0).unwrap();
        assert_eq!((contents.line(), contents.column()), (1, start - 9));
        assert_eq!(contents.name(), Some("t.rhai"));
    }

    #[test]
    fn a_span_at_the_end_of_a_long_line() {
        let text = format!("let s = \"{}\"; oops(\n", "y".repeat(1000));
        let at = text.find("oops").unwrap();
        let (c, labels) = clipped(&text, &[LabeledSpan::at(at..at + 4, "here")]);
        let line = c.text.lines().next().unwrap();
        assert!(line.starts_with('…') && line.ends_with("oops("), "{line}");
        assert_eq!(shown(&c, &labels[0]), "oops");
    }

    #[test]
    fn labels_outside_the_window_point_at_the_ellipsis() {
        let text = format!("a({});\n", "1, ".repeat(200));
        let far = text.len() - 3;
        let labels = [
            LabeledSpan::new_primary_with_span(Some("first".into()), 0..1),
            LabeledSpan::at(far..far + 1, "far"),
        ];
        let (c, labels) = clipped(&text, &labels);
        assert_eq!(shown(&c, &labels[0]), "a");
        assert_eq!(shown(&c, &labels[1]), "…");
    }

    #[test]
    fn long_lines_without_spans_show_their_start() {
        let text = format!("x();\n// {}\n", "z".repeat(300));
        let (c, labels) = clipped(&text, &[LabeledSpan::at(0..1, "x")]);
        let second = c.text.lines().nth(1).unwrap();
        assert!(
            second.starts_with("// zz") && second.ends_with('…'),
            "{second}"
        );
        assert_eq!(shown(&c, &labels[0]), "x");
    }

    #[test]
    fn long_words_are_cut_in_messages() {
        let long = format!("`{}`", "é".repeat(1000));
        let text = format!("unknown scheduler {long}, did you mean `rr`?");
        let cut = clip_words(&text, "…");
        assert!(cut.starts_with("unknown scheduler `éé"), "{cut}");
        assert!(cut.ends_with("é`, did you mean `rr`?"), "{cut}");
        assert!(cut.chars().count() < 120, "{cut}");
        assert!(matches!(
            clip_words("a short message", "…"),
            Cow::Borrowed(_)
        ));
    }
}
