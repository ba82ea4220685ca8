//! `:help`: the commands, then every DSL function and method with its signature
//! and doc; `:help NAME` for one name.

use super::catalog::{Catalog, Sig};
use super::command::{COMMANDS, closest, resolve};
use super::error::ReplError;
use std::fmt::Write;

const KEYS: &str = "\
Enter runs an entry once it is complete (open brackets, strings and chains ending
in `.` continue on the next line); a line that starts with `.` continues the entry
before it, which runs again with it. Every entry is one transaction: if it fails,
nothing changes. Tab completes, Ctrl-C clears the line, Ctrl-D quits.
";

/// The whole help.
pub(crate) fn all(cat: &Catalog) -> String {
    let mut out = String::from("Commands (any unambiguous prefix works, e.g. `:p`):\n");
    for c in COMMANDS {
        let head = format!(":{} {}", c.name, c.args);
        let mut line = format!("  {:<14}", head.trim_end());
        // Wrapped at 80 columns, under the first word of the text.
        for word in c.about.split(' ') {
            if line.len() + 1 + word.len() > 80 && line.trim().len() > head.trim_end().len() {
                let _ = writeln!(out, "{line}");
                line = " ".repeat(16);
            } else if !line.ends_with("  ") {
                line.push(' ');
            }
            line.push_str(word);
        }
        let _ = writeln!(out, "{line}");
    }
    out.push('\n');
    out.push_str(KEYS);
    let mut groups: Vec<(Option<&str>, Vec<&Sig>)> = Vec::new();
    for s in &cat.sigs {
        let key = s.receiver.as_deref();
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(s),
            None => groups.push((key, vec![s])),
        }
    }
    for (receiver, sigs) in groups {
        match receiver {
            None => out.push_str("\nFunctions:\n"),
            Some(r) => {
                let _ = writeln!(out, "\n{r} methods (chainable):");
            }
        }
        for s in sigs {
            entry(&mut out, s);
        }
    }
    if !cat.script_fns.is_empty() {
        out.push_str("\nDefined in this session:\n");
        for (name, params) in &cat.script_fns {
            let _ = writeln!(out, "  {name}({})", params.join(", "));
        }
    }
    out.push_str("\n`:help NAME` shows one function, method or command.\n");
    out
}

/// The help of one function, method (`scheduler`, `Service.scheduler`, `.scheduler`)
/// or command (`plan`, `:plan`).
pub(crate) fn one(name: &str, cat: &Catalog) -> Result<String, ReplError> {
    let name = name.trim().trim_end_matches("()").trim_end_matches('(');
    let bare = name.trim_start_matches(':').trim_start_matches('.');
    let mut out = String::new();
    // `:p` may abbreviate a command; a bare word must be its full name.
    let command = if name.starts_with(':') {
        resolve(bare).ok()
    } else {
        COMMANDS.iter().find(|c| c.name == bare).map(|c| c.name)
    };
    if let Some(c) = command.and_then(|n| COMMANDS.iter().find(|c| c.name == n)) {
        let head = format!(":{} {}", c.name, c.args);
        let _ = writeln!(out, "{}\n    {}", head.trim_end(), c.about);
    }
    for s in &cat.sigs {
        let qualified = s.receiver.as_ref().map(|r| format!("{r}.{}", s.name));
        if s.name == bare || qualified.as_deref() == Some(name) {
            entry(&mut out, s);
        }
    }
    for (n, params) in &cat.script_fns {
        if n == bare {
            let _ = writeln!(
                out,
                "  {n}({})\n      defined in this session",
                params.join(", ")
            );
        }
    }
    if out.is_empty() {
        let names = cat
            .sigs
            .iter()
            .map(|s| s.name.as_str())
            .chain(COMMANDS.iter().map(|c| c.name))
            .chain(cat.script_fns.iter().map(|(n, _)| n.as_str()));
        return Err(ReplError::UnknownHelp {
            name: name.to_string(),
            help: Some(match closest(bare, names) {
                Some(c) => format!("did you mean `{c}`? `:help` lists everything"),
                None => "`:help` lists everything".to_string(),
            }),
        });
    }
    Ok(out)
}

fn entry(out: &mut String, s: &Sig) {
    let _ = writeln!(out, "  {}\n      {}", s.text, s.doc);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_listed() {
        let text = all(&Catalog::new(&[]));
        assert!(
            text.contains("  :load FILE    run a script file as one entry\n"),
            "{text}"
        );
        assert!(text.contains("\nFunctions:\n  service(addr: string, port: int) -> Service\n"));
        assert!(
            text.contains(
                "  :save FILE    write the pending model as a flat script of literal calls; asks\n                \
                 before replacing a file, `:save! FILE` does not\n"
            ),
            "{text}"
        );
        assert!(
            text.lines()
                .all(|l| l.chars().count() <= 80 || !l.starts_with("  :"))
        );
        assert!(text.contains("\nService methods (chainable):\n"));
        assert!(text.contains("\nRealServer methods (chainable):\n"));
        assert!(text.contains("  Service.scheduler(name: string) -> Service\n      rr wrr"));
    }

    #[test]
    fn one_name_in_any_spelling() {
        let cat = Catalog::new(&[]);
        let want = one("scheduler", &cat).unwrap();
        assert!(want.starts_with("  Service.scheduler(name: string) -> Service\n"));
        assert_eq!(one("Service.scheduler", &cat).unwrap(), want);
        assert_eq!(one(".scheduler()", &cat).unwrap(), want);
        assert_eq!(one("persist", &cat).unwrap().lines().count(), 4);
        assert!(
            one(":plan", &cat)
                .unwrap()
                .starts_with(":plan\n    what applying")
        );
        assert!(one("plan", &cat).unwrap().starts_with(":plan\n"));
        assert!(one(":p", &cat).unwrap().starts_with(":plan\n"));
    }

    #[test]
    fn unknown_names_get_a_suggestion() {
        let e = one("schedular", &Catalog::new(&[])).unwrap_err();
        assert_eq!(e.to_string(), "nothing is called `schedular`");
        match e {
            ReplError::UnknownHelp { help, .. } => {
                assert!(help.unwrap().starts_with("did you mean `scheduler`?"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn session_functions_are_included() {
        let mut cat = Catalog::new(&[]);
        cat.script_fns = vec![("pool".into(), vec!["ips".into()])];
        assert!(all(&cat).contains("\nDefined in this session:\n  pool(ips)\n"));
        assert_eq!(
            one("pool", &cat).unwrap(),
            "  pool(ips)\n      defined in this session\n"
        );
    }
}
