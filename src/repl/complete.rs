//! Tab completion as a pure function of the input and the cursor: methods of the
//! receiver after a `.`, functions and variables elsewhere, recipe names after
//! `import "`, known values inside `.scheduler("`, commands after `:`.

use super::catalog::Catalog;
use super::command::{COMMANDS, resolve};
use super::lexer::{Lexed, Tok, lex};
use super::locals::with_locals;
use crate::model::{SchedFlag, Scheduler};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub display: String,
    pub replacement: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Completion {
    Nothing,
    /// Replace the text from `start` to the cursor with one of `candidates`.
    Words {
        start: usize,
        candidates: Vec<Candidate>,
    },
    /// Complete a file name starting at `start` (`:load`, `:save`).
    Path {
        start: usize,
    },
}

/// Rhai keywords worth completing at the start of a statement.
const KEYWORDS: &[&str] = &[
    "break", "const", "continue", "else", "export", "false", "fn", "for", "if", "import", "let",
    "loop", "return", "true", "while",
];

/// What completes the text before `pos` in `line`.
pub(crate) fn complete(line: &str, pos: usize, cat: &Catalog) -> Completion {
    let before = &line[..pos];
    let trimmed = before.trim_start();
    if trimmed.starts_with(':') {
        return command(before, before.len() - trimmed.len(), cat);
    }
    let lexed = lex(before);
    if lexed.in_comment {
        return Completion::Nothing;
    }
    if let Some(quote) = lexed.open_string {
        return in_string(&lexed, before, quote, cat);
    }
    let cat = &with_locals(cat, &lexed, before);
    let (word, start, prev) = match lexed.tokens.last() {
        Some(&(at, Tok::Ident(w))) if at + w.len() == before.len() => {
            (w, at, lexed.tokens.len().checked_sub(2))
        }
        _ => ("", before.len(), lexed.tokens.len().checked_sub(1)),
    };
    let prev_tok = prev.map(|i| lexed.tok(i));
    match prev_tok {
        Some(Tok::Dot) => {
            let dot = prev.expect("a previous token");
            let receiver = type_of(&lexed, dot, cat);
            if receiver.as_deref().is_some_and(|ty| !cat.is_dsl_type(ty)) {
                return Completion::Nothing;
            }
            let names = functions(
                cat.methods(receiver.as_deref())
                    .map(|s| (s.name.as_str(), !s.params.is_empty())),
            );
            words(start, word, names)
        }
        Some(Tok::Path) => Completion::Nothing,
        _ if word.is_empty() || word.starts_with(|c: char| c.is_ascii_digit()) => {
            Completion::Nothing
        }
        _ => {
            let mut names = functions(
                cat.globals()
                    .map(|s| (s.name.as_str(), !s.params.is_empty())),
            );
            names.extend(functions(
                cat.script_fns
                    .iter()
                    .map(|(n, p)| (n.as_str(), !p.is_empty())),
            ));
            names.extend(cat.variables.iter().map(|(n, _)| plain(n)));
            names.extend(KEYWORDS.iter().map(|k| plain(k)));
            words(start, word, names)
        }
    }
}

/// The type of the expression that ends just before token `end`, if known.
pub(crate) fn type_of(lexed: &Lexed<'_>, end: usize, cat: &Catalog) -> Option<String> {
    let last = end.checked_sub(1)?;
    match lexed.tok(last) {
        Tok::Close(')') => {
            let open = lexed.opening(last)?;
            let Tok::Ident(name) = lexed.tok(open.checked_sub(1)?) else {
                return None;
            };
            match open.checked_sub(2).map(|i| lexed.tok(i)) {
                Some(Tok::Dot) => {
                    let receiver = type_of(lexed, open - 2, cat);
                    cat.returns(true, receiver.as_deref(), name)
                }
                Some(Tok::Path) => None,
                _ => cat.returns(false, None, name),
            }
        }
        Tok::Ident(name) => match last.checked_sub(1).map(|i| lexed.tok(i)) {
            Some(Tok::Dot | Tok::Path) => None,
            _ => cat.variable_type(name).map(str::to_string),
        },
        _ => None,
    }
}

/// Inside a string: recipe names after `import`, known values as first argument.
fn in_string(lexed: &Lexed<'_>, before: &str, quote: usize, cat: &Catalog) -> Completion {
    let prefix = &before[quote + 1..];
    let start = quote + 1;
    let n = lexed.tokens.len();
    let values: Vec<&str> = match (n.checked_sub(1), n.checked_sub(2)) {
        (Some(i), _) if lexed.tok(i) == Tok::Ident("import") => {
            cat.modules.iter().map(String::as_str).collect()
        }
        (Some(open), Some(callee)) if lexed.tok(open) == Tok::Open('(') => {
            let Tok::Ident(name) = lexed.tok(callee) else {
                return Completion::Nothing;
            };
            let method = callee
                .checked_sub(1)
                .is_some_and(|i| lexed.tok(i) == Tok::Dot);
            first_argument_values(method, name)
        }
        _ => Vec::new(),
    };
    let candidates: Vec<Candidate> = values
        .into_iter()
        .filter(|v| v.starts_with(prefix))
        .map(|v| Candidate {
            display: v.to_string(),
            replacement: format!("{v}\""),
        })
        .collect();
    if candidates.is_empty() {
        Completion::Nothing
    } else {
        Completion::Words { start, candidates }
    }
}

/// The strings a DSL call accepts as its first argument.
fn first_argument_values(method: bool, name: &str) -> Vec<&'static str> {
    match (method, name) {
        (true, "scheduler") => Scheduler::names().collect(),
        (true, "flag") => SchedFlag::all_names().to_vec(),
        (true, "pe") => vec!["sip", "none"],
        (true, "tun") => vec!["ipip", "gre", "gue"],
        (false, "sync_daemon") => vec!["master", "backup"],
        _ => Vec::new(),
    }
}

/// `:comm` → commands; `:load pa` / `:save pa` → paths; `:help na` → names.
fn command(before: &str, colon: usize, cat: &Catalog) -> Completion {
    let body = &before[colon + 1..];
    let Some(space) = body.find(char::is_whitespace) else {
        let mut candidates: Vec<Candidate> = COMMANDS
            .iter()
            .filter(|c| c.name.starts_with(body))
            .map(|c| Candidate {
                display: format!(":{}", c.name),
                replacement: if c.args.is_empty() {
                    format!(":{}", c.name)
                } else {
                    format!(":{} ", c.name)
                },
            })
            .collect();
        candidates.sort_by(|a, b| a.display.cmp(&b.display));
        return Completion::Words {
            start: colon,
            candidates,
        };
    };
    let rest = &body[space..];
    let start = colon + 1 + space + (rest.len() - rest.trim_start().len());
    match resolve(&body[..space]) {
        Ok("load" | "save") => Completion::Path { start },
        Ok("help") => {
            let mut names: Vec<Candidate> = cat.sigs.iter().map(|s| plain(&s.name)).collect();
            names.extend(COMMANDS.iter().map(|c| plain(&format!(":{}", c.name))));
            words(start, &before[start..], names)
        }
        _ => Completion::Nothing,
    }
}

/// Function names: `name(` when some signature takes arguments, else `name()`.
fn functions<'a>(sigs: impl Iterator<Item = (&'a str, bool)>) -> Vec<Candidate> {
    let mut takes: Vec<(&str, bool)> = Vec::new();
    for (name, args) in sigs {
        match takes.iter_mut().find(|(n, _)| *n == name) {
            Some((_, t)) => *t |= args,
            None => takes.push((name, args)),
        }
    }
    takes
        .into_iter()
        .map(|(name, args)| Candidate {
            display: name.to_string(),
            replacement: if args {
                format!("{name}(")
            } else {
                format!("{name}()")
            },
        })
        .collect()
}

fn plain(name: &str) -> Candidate {
    Candidate {
        display: name.to_string(),
        replacement: name.to_string(),
    }
}

/// The candidates that start with `word`, sorted, without duplicates.
fn words(start: usize, word: &str, all: Vec<Candidate>) -> Completion {
    let mut candidates: Vec<Candidate> = all
        .into_iter()
        .filter(|c| c.display.starts_with(word))
        .collect();
    candidates.sort_by(|a, b| a.display.cmp(&b.display));
    candidates.dedup_by(|a, b| a.display == b.display);
    if candidates.is_empty() {
        Completion::Nothing
    } else {
        Completion::Words { start, candidates }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let mut c = Catalog::new(&[]);
        c.variables = vec![
            ("web".into(), "Service".into()),
            ("backend".into(), "RealServer".into()),
            ("vip".into(), "string".into()),
        ];
        c.script_fns = vec![("pool".into(), vec!["ips".into()])];
        c
    }

    /// The replacements offered with the cursor at the end of `line`.
    fn offered(line: &str) -> Vec<String> {
        match complete(line, line.len(), &catalog()) {
            Completion::Words { start, candidates } => {
                assert!(start <= line.len());
                candidates.into_iter().map(|c| c.replacement).collect()
            }
            Completion::Nothing => Vec::new(),
            Completion::Path { start } => vec![format!("<path at {start}>")],
        }
    }

    #[test]
    fn global_functions_at_statement_start() {
        assert_eq!(offered("serv"), ["service("]);
        assert_eq!(offered("let s = ma"), ["mark("]);
        assert_eq!(offered("web.rs(r"), ["return", "rs("]);
        assert_eq!(offered("po"), ["pool("]);
        assert_eq!(offered("imp"), ["import"]);
    }

    #[test]
    fn variables_of_the_scope() {
        assert_eq!(offered("we"), ["web"]);
        assert_eq!(offered("service(v"), ["vip"]);
    }

    #[test]
    fn methods_of_the_receiver_type() {
        assert_eq!(offered("service(vip, 80).sch"), ["scheduler("]);
        assert_eq!(offered("web.sch"), ["scheduler("]);
        assert_eq!(offered("web.op"), ["ops()"]);
        // `.persist()` and `.persist(secs)`: offer the parenthesis open.
        assert_eq!(offered("web.pers"), ["persist("]);
        assert_eq!(offered("rs(\"10.0.0.1\").we"), ["weight("]);
        assert_eq!(offered("backend.n"), ["nat()"]);
        assert_eq!(offered("sync_daemon(\"master\", \"eth0\").sy"), ["syncid("]);
        // A method's return type carries the chain on.
        assert_eq!(offered("web.server(\"10.0.0.1\").d"), ["dr()"]);
        assert_eq!(offered("mark(10).vip(vip).po"), ["port(", "ports("]);
    }

    #[test]
    fn chains_over_several_lines() {
        assert_eq!(
            offered("service(vip, 80)\n    .rs(rs(\"10.0.0.1\"))\n    .sch"),
            ["scheduler("]
        );
    }

    #[test]
    fn names_declared_on_earlier_lines_of_the_entry() {
        let entry = "for ip in [\"10.0.1.1\"] {\n    let server = rs(ip).nat();\n    ";
        assert_eq!(
            offered(&format!("{entry}web.rs(ser")),
            ["server", "service("]
        );
        assert_eq!(offered(&format!("{entry}server.we")), ["weight("]);
        assert_eq!(
            offered(&format!("{entry}web.rs(rs(i")),
            ["if", "import", "ip"]
        );
        assert_eq!(offered("fn pool(svc, ips) {\n  ip"), ["ips"]);
        assert_eq!(offered("fn pool(svc) { svc }\npo"), ["pool("]);
    }

    #[test]
    fn all_methods_when_the_receiver_is_unknown() {
        let all = offered("x().");
        assert!(all.contains(&"scheduler(".to_string()));
        assert!(all.contains(&"weight(".to_string()));
        assert!(all.contains(&"syncid(".to_string()));
        let service = offered("web.");
        assert!(service.contains(&"scheduler(".to_string()));
        assert!(!service.contains(&"weight(".to_string()));
    }

    #[test]
    fn no_methods_for_plain_values() {
        assert_eq!(offered("vip.le"), Vec::<String>::new());
    }

    #[test]
    fn nothing_in_comments_numbers_and_module_paths() {
        assert!(offered("// serv").is_empty());
        assert!(offered("let x = 1").is_empty());
        assert!(offered("dr::po").is_empty());
        assert!(offered("").is_empty());
        assert!(offered("service(\"10.0.0.1\", 80); ").is_empty());
    }

    #[test]
    fn strings_complete_known_values() {
        assert_eq!(offered("import \"dr"), ["dr_pool\""]);
        assert_eq!(offered("web.scheduler(\"wl"), ["wlc\""]);
        assert_eq!(offered("web.flag(\"sh-"), ["sh-fallback\"", "sh-port\""]);
        assert_eq!(offered("sync_daemon(\"b"), ["backup\""]);
        assert!(offered("service(\"10.").is_empty());
    }

    #[test]
    fn commands_after_a_colon() {
        assert_eq!(offered(":p"), [":plan"]);
        assert_eq!(offered(":s"), [":save ", ":show"]);
        assert_eq!(offered(":"), {
            let v: Vec<String> = COMMANDS
                .iter()
                .map(|c| {
                    if c.args.is_empty() {
                        format!(":{}", c.name)
                    } else {
                        format!(":{} ", c.name)
                    }
                })
                .collect();
            let mut v = v;
            v.sort();
            v
        });
    }

    #[test]
    fn paths_after_load_and_save() {
        assert_eq!(offered(":load sit"), ["<path at 6>"]);
        assert_eq!(offered(":save   "), ["<path at 8>"]);
        assert_eq!(offered(":lo x"), ["<path at 4>"]);
        assert!(offered(":plan x").is_empty());
    }

    #[test]
    fn help_completes_names() {
        assert_eq!(offered(":help sched"), ["scheduler"]);
        assert_eq!(offered(":help :pl"), [":plan"]);
    }

    #[test]
    fn the_cursor_may_be_mid_line() {
        let c = catalog();
        let line = "serv(\"10.0.0.1\", 80)";
        match complete(line, 4, &c) {
            Completion::Words { start, candidates } => {
                assert_eq!(start, 0);
                assert_eq!(candidates[0].replacement, "service(");
            }
            other => panic!("{other:?}"),
        }
    }
}
