//! A forgiving tokenizer for the text before the cursor: just enough Rhai to tell
//! a method from a function, skip strings and comments, and match brackets.
//! It never fails; what it does not know is `Other`.

/// One token and the byte offset where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok<'a> {
    Ident(&'a str),
    Dot,
    /// `::` (a module path).
    Path,
    /// `(`, `[` or `{` (`#{` too).
    Open(char),
    Close(char),
    /// A complete string or character literal.
    Str,
    /// `,`
    Comma,
    Other,
}

/// The tokens of a text, and whether it ends inside a string or a comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lexed<'a> {
    pub tokens: Vec<(usize, Tok<'a>)>,
    /// The text ends inside a string whose opening quote is at this offset.
    pub open_string: Option<usize>,
    pub in_comment: bool,
}

impl<'a> Lexed<'a> {
    /// The index of the bracket that opens the one closing at `close`.
    pub fn opening(&self, close: usize) -> Option<usize> {
        let mut depth = 0usize;
        for i in (0..=close).rev() {
            match self.tokens[i].1 {
                Tok::Close(_) => depth += 1,
                Tok::Open(_) => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// The index of the innermost bracket still open at the end.
    pub fn innermost_open(&self) -> Option<usize> {
        let mut stack = Vec::new();
        for (i, (_, t)) in self.tokens.iter().enumerate() {
            match t {
                Tok::Open(_) => stack.push(i),
                Tok::Close(_) => {
                    stack.pop();
                }
                _ => {}
            }
        }
        stack.pop()
    }

    pub fn tok(&self, i: usize) -> Tok<'a> {
        self.tokens[i].1
    }
}

pub(crate) fn lex(text: &str) -> Lexed<'_> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => match text[i..].find('\n') {
                Some(n) => i += n,
                None => return lexed(tokens, None, true),
            },
            b'/' if bytes.get(i + 1) == Some(&b'*') => match block_comment_end(text, i) {
                Some(end) => i = end,
                None => return lexed(tokens, None, true),
            },
            b'"' | b'`' | b'\'' => match string_end(bytes, i) {
                Some(end) => {
                    tokens.push((start, Tok::Str));
                    i = end;
                }
                None => return lexed(tokens, Some(start), false),
            },
            b'.' if bytes.get(i + 1) == Some(&b'.') => {
                tokens.push((start, Tok::Other));
                i += 2;
            }
            b'.' => {
                tokens.push((start, Tok::Dot));
                i += 1;
            }
            b':' if bytes.get(i + 1) == Some(&b':') => {
                tokens.push((start, Tok::Path));
                i += 2;
            }
            b'#' if bytes.get(i + 1) == Some(&b'{') => {
                tokens.push((start, Tok::Open('{')));
                i += 2;
            }
            b'(' | b'[' | b'{' => {
                tokens.push((start, Tok::Open(c as char)));
                i += 1;
            }
            b')' | b']' | b'}' => {
                tokens.push((start, Tok::Close(c as char)));
                i += 1;
            }
            b',' => {
                tokens.push((start, Tok::Comma));
                i += 1;
            }
            b'0'..=b'9' => {
                i += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'_'
                        || (bytes[i] == b'.'
                            && bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit())))
                {
                    i += 1;
                }
                tokens.push((start, Tok::Other));
            }
            _ if c == b'_' || c.is_ascii_alphabetic() => {
                while i < bytes.len() && (bytes[i] == b'_' || bytes[i].is_ascii_alphanumeric()) {
                    i += 1;
                }
                tokens.push((start, Tok::Ident(&text[start..i])));
            }
            _ => {
                tokens.push((start, Tok::Other));
                i += text[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
    }
    lexed(tokens, None, false)
}

fn lexed(tokens: Vec<(usize, Tok<'_>)>, open_string: Option<usize>, in_comment: bool) -> Lexed<'_> {
    Lexed {
        tokens,
        open_string,
        in_comment,
    }
}

/// The offset after the closing quote of the string opening at `start`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let quote = bytes[start];
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote != b'`' => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Rhai block comments nest.
fn block_comment_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Tok<'_>> {
        lex(text).tokens.into_iter().map(|(_, t)| t).collect()
    }

    #[test]
    fn tokens_of_a_chain() {
        assert_eq!(
            kinds("web.rs(rs(\"10.0.0.1:80\")).sch"),
            vec![
                Tok::Ident("web"),
                Tok::Dot,
                Tok::Ident("rs"),
                Tok::Open('('),
                Tok::Ident("rs"),
                Tok::Open('('),
                Tok::Str,
                Tok::Close(')'),
                Tok::Close(')'),
                Tok::Dot,
                Tok::Ident("sch"),
            ]
        );
    }

    #[test]
    fn strings_comments_and_numbers_are_skipped() {
        assert_eq!(
            kinds("x = \"a(b\\\"\" /* ( /* ) */ */ 1.5 // (\n#{ 'c' }"),
            vec![
                Tok::Ident("x"),
                Tok::Other,
                Tok::Str,
                Tok::Other,
                Tok::Open('{'),
                Tok::Str,
                Tok::Close('}'),
            ]
        );
    }

    #[test]
    fn open_strings_and_comments_are_reported() {
        assert_eq!(lex("import \"dr_").open_string, Some(7));
        assert!(lex("x // note").in_comment);
        assert!(lex("x /* note").in_comment);
        assert_eq!(lex("x \"done\" ").open_string, None);
    }

    #[test]
    fn brackets_match() {
        let l = lex("f(a, [1, 2], g(3)");
        assert_eq!(l.innermost_open(), Some(1));
        let l = lex("f(g(1)");
        let close = l.tokens.len() - 1;
        assert_eq!(l.opening(close), Some(3));
    }
}
