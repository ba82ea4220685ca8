//! The words of a rules line, each with its place in the source.

use std::ops::Range;

/// A word of a rules line, with its byte offset in the whole source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tok<'a> {
    pub text: &'a str,
    pub start: usize,
}

impl Tok<'_> {
    pub fn span(&self) -> Range<usize> {
        self.start..self.start + self.text.len()
    }
}

/// Splits one line (starting at byte `offset` of the source) into words.
///
/// Like ipvsadm, words are separated by spaces, tabs and carriage returns, and a
/// word `ipvsadm` is dropped wherever it stands. Unlike ipvsadm -R, which fails on
/// them, a word starting with `#` begins a comment, and a first word naming the
/// program by path (`/sbin/ipvsadm`) is dropped too.
pub(crate) fn words(line: &str, offset: usize) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices().chain([(line.len(), ' ')]) {
        let blank = matches!(c, ' ' | '\t' | '\r');
        match (start, blank) {
            (None, false) => start = Some(i),
            (Some(s), true) => {
                let text = &line[s..i];
                if text.starts_with('#') {
                    break;
                }
                let program = text == "ipvsadm" || (out.is_empty() && text.ends_with("/ipvsadm"));
                if !program {
                    out.push(Tok {
                        text,
                        start: offset + s,
                    });
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_on_blanks_and_drop_the_program_and_comments() {
        let w = words("\tipvsadm  -A -t\r 10.0.0.1:80 # web", 0);
        let t: Vec<_> = w.iter().map(|t| t.text).collect();
        assert_eq!(t, ["-A", "-t", "10.0.0.1:80"]);
        assert_eq!(w[0].start, 10);
        assert_eq!(w[2].span(), 17..28);
        let t: Vec<_> = words("/sbin/ipvsadm -C", 5)
            .iter()
            .map(|t| (t.text, t.start))
            .collect();
        assert_eq!(t, [("-C", 19)]);
        assert!(words("# only a comment", 0).is_empty());
        assert!(words("   ", 0).is_empty());
    }
}
