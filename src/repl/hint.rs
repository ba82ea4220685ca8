//! Signature hints: right after `service(` or `, ` inside a call, the grey text
//! after the cursor shows what the call takes.

use super::catalog::Catalog;
use super::complete::type_of;
use super::lexer::{Tok, lex};
use super::locals::with_locals;

/// The hint for the cursor at `pos`, shown only at the end of the input and at an
/// argument boundary, so it never hides what is being typed.
pub(crate) fn hint(line: &str, pos: usize, cat: &Catalog) -> Option<String> {
    if pos != line.len() || line.trim_start().starts_with(':') {
        return None;
    }
    let last = line.trim_end().chars().last()?;
    if last != '(' && last != ',' {
        return None;
    }
    let lexed = lex(line);
    if lexed.in_comment || lexed.open_string.is_some() {
        return None;
    }
    let cat = &with_locals(cat, &lexed, line);
    let open = lexed.innermost_open()?;
    if lexed.tok(open) != Tok::Open('(') {
        return None;
    }
    let Tok::Ident(name) = lexed.tok(open.checked_sub(1)?) else {
        return None;
    };
    let method = open
        .checked_sub(2)
        .is_some_and(|i| lexed.tok(i) == Tok::Dot);
    let mut forms: Vec<String> = if method {
        let receiver = type_of(&lexed, open - 2, cat);
        cat.methods(receiver.as_deref())
            .filter(|s| s.name == name)
            .map(|s| format!("{}({})", s.name, s.params))
            .collect()
    } else {
        let mut f: Vec<String> = cat
            .globals()
            .filter(|s| s.name == name)
            .map(|s| format!("{}({})", s.name, s.params))
            .collect();
        f.extend(
            cat.script_fns
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(n, p)| format!("{n}({})", p.join(", "))),
        );
        f
    };
    forms.dedup();
    if forms.is_empty() {
        return None;
    }
    let pad = if line.ends_with(' ') { " " } else { "  " };
    Some(format!("{pad}{}", forms.join("  |  ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat() -> Catalog {
        let mut c = Catalog::new(&[]);
        c.variables = vec![("web".into(), "Service".into())];
        c.script_fns = vec![("pool".into(), vec!["vip".into(), "ips".into()])];
        c
    }

    fn at_end(line: &str) -> Option<String> {
        hint(line, line.len(), &cat())
    }

    #[test]
    fn global_functions_show_every_form() {
        assert_eq!(
            at_end("service(").as_deref(),
            Some(
                "  service(addr: string, port: int)  |  service(addr: string, port: int, protocol: string)"
            )
        );
        assert_eq!(
            at_end("let r = rs(\"10.0.0.1\", ").as_deref(),
            Some(" rs(addr: string)  |  rs(addr: string, port: int)")
        );
        assert_eq!(at_end("pool(").as_deref(), Some("  pool(vip, ips)"));
    }

    #[test]
    fn methods_follow_the_receiver() {
        assert_eq!(
            at_end("web.persist(").as_deref(),
            Some("  persist()  |  persist(secs: int)")
        );
        assert_eq!(
            at_end("web.rs(rs(\"10.0.0.1\").weight(").as_deref(),
            Some("  weight(n: int)")
        );
        // A variable and a function of the entry itself.
        assert_eq!(
            at_end("let d = sync_daemon(\"master\", \"eth0\");\nd.port(").as_deref(),
            Some("  port(port: int)")
        );
        assert_eq!(
            at_end("fn two(a, b) { a }\ntwo(").as_deref(),
            Some("  two(a, b)")
        );
        // `port` of a service, not of a sync daemon.
        assert_eq!(
            at_end("mark(1).port(").as_deref(),
            Some("  port(port: int | string)")
        );
    }

    #[test]
    fn no_hint_while_typing_a_value_or_elsewhere() {
        assert_eq!(at_end("service(\"10"), None);
        assert_eq!(at_end("service(\"10.0.0.1\", 80)"), None);
        assert_eq!(at_end("frobnicate("), None);
        assert_eq!(at_end(":load ("), None);
        assert_eq!(hint("service(", 3, &cat()), None);
        assert_eq!(at_end("[1,"), None);
    }
}
