//! Names an entry declares before the cursor (`let`, `const`, `for`, `fn` and its
//! parameters): on the later lines of a multi-line entry they complete as the
//! names of earlier entries do.

use super::catalog::Catalog;
use super::complete::type_of;
use super::lexer::{Lexed, Tok};

/// `cat` with the names `text` (lexed as `lexed`) declares: variables first, so
/// they shadow the session's, and functions.
pub(crate) fn with_locals(cat: &Catalog, lexed: &Lexed<'_>, text: &str) -> Catalog {
    let mut out = cat.clone();
    let toks = &lexed.tokens;
    let is = |i: usize, c: char| {
        toks.get(i)
            .is_some_and(|&(at, _)| text[at..].starts_with(c))
    };
    let ident = |i: usize| match toks.get(i) {
        Some(&(_, Tok::Ident(n))) => Some(n),
        _ => None,
    };
    let declare = |out: &mut Catalog, name: &str, ty: String| {
        out.variables.insert(0, (name.to_string(), ty));
    };
    for i in 0..toks.len() {
        match toks[i].1 {
            Tok::Ident("let" | "const") => {
                let Some(name) = ident(i + 1) else { continue };
                if !is(i + 2, '=') {
                    declare(&mut out, name, String::new());
                    continue;
                }
                // In scope once its statement ends; its type is the value's.
                let Some(end) = statement_end(lexed, text, i + 3) else {
                    continue;
                };
                let ty = type_of(lexed, end, &out).unwrap_or_default();
                declare(&mut out, name, ty);
            }
            Tok::Ident("for") => {
                // `for x in` or `for (x, i) in`
                let mut j =
                    i + 1 + usize::from(toks.get(i + 1).map(|t| t.1) == Some(Tok::Open('(')));
                while let Some(name) = ident(j) {
                    if name == "in" {
                        break;
                    }
                    declare(&mut out, name, String::new());
                    j += if toks.get(j + 1).is_some_and(|t| t.1 == Tok::Comma) {
                        2
                    } else {
                        1
                    };
                }
            }
            Tok::Ident("fn") => {
                let Some(name) = ident(i + 1) else { continue };
                let mut params = Vec::new();
                let mut j = i + 3;
                if toks.get(i + 2).map(|t| t.1) == Some(Tok::Open('(')) {
                    while let Some(p) = ident(j) {
                        params.push(p.to_string());
                        j += 1;
                        if toks.get(j).map(|t| t.1) == Some(Tok::Comma) {
                            j += 1;
                        }
                    }
                }
                for p in &params {
                    declare(&mut out, p, String::new());
                }
                out.script_fns.push((name.to_string(), params));
            }
            _ => {}
        }
    }
    out
}

/// The index of the `;` that ends the statement going on at token `from`, if the
/// text before the cursor has it.
fn statement_end(lexed: &Lexed<'_>, text: &str, from: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &(at, tok)) in lexed.tokens.iter().enumerate().skip(from) {
        match tok {
            Tok::Open(_) => depth += 1,
            Tok::Close(_) if depth == 0 => return None,
            Tok::Close(_) => depth -= 1,
            Tok::Other if depth == 0 && text[at..].starts_with(';') => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repl::lexer::lex;

    fn locals(text: &str) -> Vec<(String, String)> {
        let cat = Catalog::new(&[]);
        let mut v = with_locals(&cat, &lex(text), text).variables;
        v.truncate(v.len() - cat.variables.len());
        v
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn declarations_with_their_types() {
        assert_eq!(
            locals("let web = service(\"a\", 80);\nlet s = web.server(\"b\");\nconst n = 3;\n"),
            pairs(&[("n", ""), ("s", "RealServer"), ("web", "Service")])
        );
        // Not yet in scope while its value is typed.
        assert_eq!(locals("let web = service(\"a\", "), pairs(&[]));
        assert_eq!(
            locals("for (ip, i) in ips {\n  for x in y {"),
            pairs(&[("x", ""), ("i", ""), ("ip", "")])
        );
        assert_eq!(
            locals("fn pool(svc, ips) {\n  "),
            pairs(&[("ips", ""), ("svc", "")])
        );
    }

    #[test]
    fn functions_of_the_entry() {
        let text = "fn pool(svc, ips) { svc }\n";
        let cat = with_locals(&Catalog::new(&[]), &lex(text), text);
        assert_eq!(
            cat.script_fns,
            vec![(
                "pool".to_string(),
                vec!["svc".to_string(), "ips".to_string()]
            )]
        );
    }
}
