//! The REPL without a terminal: entries and `:commands` from stdin, no prompts,
//! exit status 1 if anything failed. A statement runs once it is complete and the
//! next line that is not blank or a comment does not start with `.`: such a line
//! continues its chain, as in a script file. Errors cite lines of the input.

use super::lexer::lex;
use super::shell::{Asks, Flow, Shell, is_blank, is_incomplete, starts_chain};
use super::{Kernel, ReplOptions, command};
use std::io::{BufRead, Write};

pub(crate) fn run(kernel: Box<dyn Kernel>, opts: ReplOptions, input: impl BufRead) -> i32 {
    run_with(
        kernel,
        opts,
        input,
        Box::new(std::io::stdout()),
        Box::new(std::io::stderr()),
    )
}

/// The entry being read: where it starts, and where it ends once complete.
struct Entry {
    first_line: usize,
    /// Its offset in the document.
    start: usize,
    /// Complete up to this offset of the document: it runs unless the next line
    /// that says something continues it.
    complete_at: Option<usize>,
}

/// Runs `e`, the end of `document`, unless it is only comments.
fn run_entry(shell: &mut Shell, document: &str, e: &Entry) {
    if !is_blank(&document[e.start..]) {
        shell.input_lines(document, e.first_line);
    }
}

/// Whitespace and comments, perhaps the start of a block comment: a line that
/// neither ends a chain nor continues it.
fn says_nothing(line: &str) -> bool {
    let lexed = lex(line);
    lexed.tokens.is_empty() && lexed.open_string.is_none()
}

pub(crate) fn run_with(
    kernel: Box<dyn Kernel>,
    opts: ReplOptions,
    input: impl BufRead,
    out: Box<dyn Write>,
    err: Box<dyn Write>,
) -> i32 {
    let Some(mut shell) = Shell::start(kernel, &opts, Asks::No, out, err) else {
        return 1;
    };
    // Every line read so far: entries are run as its end, so errors show it.
    let mut document = String::new();
    let mut entry: Option<Entry> = None;
    let mut read_error = None;
    for (n, line) in input.lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                read_error = Some(e);
                break;
            }
        };
        let waiting = entry.as_ref().and_then(|e| e.complete_at);
        if let Some(end) = waiting {
            if !says_nothing(&line) && !starts_chain(&line) {
                let e = entry.take().expect("an entry is waiting");
                run_entry(&mut shell, &document[..end], &e);
            }
        }
        let start = document.len();
        document.push_str(&line);
        document.push('\n');
        let current = match entry.as_mut() {
            Some(e) => e,
            None if command::is_command(&line) => {
                if shell.input(&line) == Flow::Quit {
                    break;
                }
                continue;
            }
            None if is_blank(&line) => continue,
            None => entry.insert(Entry {
                first_line: n + 1,
                start,
                complete_at: None,
            }),
        };
        current.complete_at =
            (!is_incomplete(&document[current.start..])).then_some(document.len());
    }
    if let Some(e) = entry {
        run_entry(&mut shell, &document, &e);
    }
    let mut failed = shell.failures() > 0;
    if let Some(e) = read_error {
        shell.note(&format!("error: cannot read standard input: {e}"));
        failed = true;
    }
    if let Some(what) = shell.unapplied() {
        shell.note(&format!("note: {what}"));
    }
    i32::from(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Balancer;
    use crate::repl::Offline;
    use crate::repl::test_buf::Buf;

    /// Runs `input` against an offline kernel holding `start`: (code, stdout, stderr).
    fn session(start: Balancer, input: &str) -> (i32, String, String) {
        let (out, err) = (Buf::default(), Buf::default());
        let code = run_with(
            // Stands in for the kernel, so messages say "the kernel".
            Box::new(Offline::new(start, "test").with_against(crate::plan::Against::Kernel)),
            ReplOptions::default(),
            input.as_bytes(),
            Box::new(out.clone()),
            Box::new(err.clone()),
        );
        (code, out.text(), err.text())
    }

    #[test]
    fn entries_build_up_and_plan() {
        let (code, out, err) = session(
            Balancer::default(),
            "let vip = \"10.0.0.1\";\nservice(vip, 80)\n  .scheduler(\"rr\")\n  .rs(rs(\"10.0.1.1\"));\n:plan\n",
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            out,
            "service tcp 10.0.0.1:80 rr, 1 real server\n\
             + service tcp 10.0.0.1:80  rr\n\
             +   rs 10.0.1.1:80         dr weight 1\n\
             Plan: 2 to add, 0 to change, 0 to delete.\n"
        );
        assert_eq!(err, "note: 2 changes are not applied\n");
    }

    #[test]
    fn a_failed_entry_changes_nothing_and_sets_the_exit_code() {
        let (code, out, err) = session(
            Balancer::default(),
            "service(\"10.0.0.1\", 80);\nservice(\"10.0.0.2\", 80).scheduler(\"rrr\");\n:plan\n",
        );
        assert_eq!(code, 1);
        assert!(err.contains("rrr"), "{err}");
        assert!(
            out.ends_with("Plan: 1 to add, 0 to change, 0 to delete.\n"),
            "{out}"
        );
    }

    #[test]
    fn apply_undo_reset_on_an_offline_kernel() {
        let (code, out, err) = session(
            Balancer::default(),
            "service(\"10.0.0.1\", 80)\n:apply\n:plan\nservice(\"10.0.0.2\", 80)\n:undo\n:undo\n:undo\n:reset\n",
        );
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("Simulated on test: 1 added"), "{out}");
        assert!(
            out.contains("No changes. The kernel matches the script.\nservice tcp 10.0.0.2:80"),
            "{out}"
        );
        assert!(
            out.contains("Undid the last entry; in sync with the kernel.\nUndid the last entry; 1 change pending.\nNothing to undo.\nBack to the start; 1 change pending.\n"),
            "{out}"
        );
        assert_eq!(err, "note: 1 change is not applied\n");
    }

    #[test]
    fn plans_compare_what_the_kernel_will_report() {
        // nft stores {80, 81-90} as {80-90}; after an apply nothing is pending.
        let (code, out, err) = session(
            Balancer::default(),
            "mark(5).vip(\"10.0.0.1\").ports([80, \"81-90\"]);\n:apply\n:plan\n",
        );
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("tcp dport 80-90 → fwmark 5"), "{out}");
        assert!(
            out.ends_with("No changes. The kernel matches the script.\n"),
            "{out}"
        );
        assert_eq!(err, "");
    }

    #[test]
    fn commands_fail_cleanly_and_quit_stops_reading() {
        let (code, out, err) = session(
            Balancer::default(),
            ":plna\n:load /nonexistent/x.rhai\n:quit\nservice(\"10.0.0.1\", 80)\n",
        );
        assert_eq!(code, 1);
        assert_eq!(out, "");
        assert!(err.contains("unknown command `:plna`"), "{err}");
        assert!(err.contains("did you mean `:plan`?"), "{err}");
        assert!(err.contains("cannot read `/nonexistent/x.rhai`"), "{err}");
        assert!(!err.contains("note:"), "{err}");
    }

    #[test]
    fn save_writes_a_script_that_rebuilds_the_model() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("saved.rhai");
        let input = format!(
            "let web = service(\"10.0.0.1\", 80).persist(300);\nfor ip in [\"10.0.1.1\", \"10.0.1.2\"] {{\n  web.rs(rs(ip).nat().weight(2));\n}}\nmark(7).vip(\"10.0.0.1\").ports([443]).rs(rs(\"10.0.1.1\"));\n:save {}\n",
            file.display()
        );
        let (code, out, err) = session(Balancer::default(), &input);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains(&format!(
                "\nSaved 2 services to `{}`: a flat snapshot of the pending model",
                file.display()
            )),
            "{out}"
        );
        let saved = crate::dsl::evaluate_file(&file, &Default::default()).unwrap();
        let typed = crate::dsl::evaluate_source(
            "t",
            "let web = service(\"10.0.0.1\", 80).persist(300); for ip in [\"10.0.1.1\", \"10.0.1.2\"] { web.rs(rs(ip).nat().weight(2)); } mark(7).vip(\"10.0.0.1\").ports([443]).rs(rs(\"10.0.1.1\"));",
            None,
            &Default::default(),
        )
        .unwrap();
        assert_eq!(saved.balancer, typed.balancer);
    }

    #[test]
    fn starts_from_the_observed_state_in_sync() {
        let start = crate::dsl::evaluate_source(
            "s",
            "service(\"10.0.0.1\", 80).scheduler(\"rr\").rs(rs(\"10.0.1.1\"));",
            None,
            &Default::default(),
        )
        .unwrap()
        .balancer;
        let (code, out, err) = session(
            start,
            ":plan\nservice(\"10.0.0.1\", 80).server(\"10.0.1.1\").weight(5);\n:plan\n",
        );
        assert_eq!(code, 0, "{err}");
        assert!(out.starts_with("No changes."), "{out}");
        assert!(out.contains("~   rs 10.0.1.1:80"), "{out}");
    }

    #[test]
    fn comments_and_blank_lines_are_not_entries() {
        let (code, out, _) = session(
            Balancer::default(),
            "service(\"10.0.0.1\", 80);\n// a note\n\n/* a longer\n note */\n:undo\n:plan\n",
        );
        assert_eq!(code, 0);
        assert!(out.ends_with("Undid the last entry; in sync with the kernel.\nNo changes. The kernel matches the script.\n"), "{out}");
    }

    #[test]
    fn load_runs_a_file_as_one_entry() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("site.rhai");
        std::fs::write(
            &file,
            "let vip = \"10.0.0.1\";\nservice(vip, 80).rs(rs(\"10.0.1.1\"));\n",
        )
        .unwrap();
        // `vip` is an entry too: the first `:undo` drops it, the second the file.
        let input = format!(":load {}\nvip\n:undo\n:undo\n:plan\n", file.display());
        let (code, out, err) = session(Balancer::default(), &input);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            out,
            format!(
                "Loaded `{}`; 2 changes pending.\n\"10.0.0.1\"\n\
                 Undid the last entry; 2 changes pending.\n\
                 Undid the last entry; in sync with the kernel.\n\
                 No changes. The kernel matches the script.\n",
                file.display()
            )
        );
    }

    struct Unreachable;

    impl Kernel for Unreachable {
        fn observe(&mut self) -> Result<Balancer, miette::Report> {
            Err(miette::miette!("cannot open the IPVS netlink family"))
        }
        fn apply(&mut self, _: &Balancer) -> Result<String, miette::Report> {
            unreachable!("never observed")
        }
        fn show(&mut self) -> Result<String, miette::Report> {
            unreachable!("never observed")
        }
    }

    #[test]
    fn no_session_without_a_kernel() {
        let err = Buf::default();
        let code = run_with(
            Box::new(Unreachable),
            ReplOptions::default(),
            ":plan\n".as_bytes(),
            Box::new(Buf::default()),
            Box::new(err.clone()),
        );
        assert_eq!(code, 1);
        assert!(err.text().contains("cannot open the IPVS netlink family"));
    }

    #[test]
    fn an_unfinished_entry_at_the_end_is_still_reported() {
        let (code, _, err) = session(Balancer::default(), "\nservice(\"10.0.0.1\",\n");
        assert_eq!(code, 1);
        // Rhai reports the end of the input.
        assert!(err.contains("[<stdin>:3:1]"), "{err}");
    }

    #[test]
    fn errors_cite_lines_of_the_input() {
        let (code, _, err) = session(
            Balancer::default(),
            "let vip = \"10.0.0.1\";\n:plan\n\n// web\nservice(vip, 80)\n  .rs(rs(\"10.0.1.1\"))\n  .scheduler(\"rrr\");\n",
        );
        assert_eq!(code, 1);
        assert!(err.contains("[<stdin>:7:4]"), "{err}");
        assert!(shows(&err, 7, "  .scheduler(\"rrr\");"), "{err}");
        assert!(shows(&err, 6, "  .rs(rs(\"10.0.1.1\"))"), "{err}");
        // A syntax error, and a problem found by `:plan` in an earlier entry.
        let (_, _, err) = session(
            Balancer::default(),
            "let a = 1;\nservice(\"10.0.0.1\", 0);\nlet b = ;\n:plan\n",
        );
        assert!(err.contains("[<stdin>:3:9]"), "{err}");
        assert!(err.contains("[<stdin>:2:1]"), "{err}");
        assert!(shows(&err, 2, "service(\"10.0.0.1\", 0);"), "{err}");
    }

    /// Does the report show input line `n` with this text?
    fn shows(report: &str, n: usize, text: &str) -> bool {
        report.lines().any(|l| {
            l.trim_start()
                .strip_prefix(&n.to_string())
                .is_some_and(|rest| {
                    rest.trim_start_matches(' ')
                        .strip_prefix(['|', '│'])
                        .is_some_and(|r| r.strip_prefix(' ') == Some(text))
                })
        })
    }

    #[test]
    fn chains_continue_past_comments_and_blank_lines() {
        let (code, out, err) = session(
            Balancer::default(),
            "service(\"10.0.0.1\", 80)\n\n  // the pool\n  .rs(rs(\"10.0.1.1\"))\n  /* and\n  one more */\n  .rs(rs(\"10.0.1.2\"));\nservice(\"10.0.0.1\", 80)\n",
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            out,
            "service tcp 10.0.0.1:80 wlc, 2 real servers\n".repeat(2)
        );
    }

    #[test]
    fn save_never_replaces_a_file_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("site.rhai");
        std::fs::write(&file, "import \"dr_pool\" as dr;\n").unwrap();
        let input = format!(
            "service(\"10.0.0.1\", 80);\n:save {0}\n:save! {0}\n",
            file.display()
        );
        let (code, out, err) = session(Balancer::default(), &input);
        assert_eq!(code, 1, "the first `:save` fails");
        assert!(
            err.contains(&format!(
                "`{}` exists; `:save` does not replace a file",
                file.display()
            )),
            "{err}"
        );
        assert!(err.contains("`:save! "), "{err}");
        assert!(out.contains("a flat snapshot"), "{out}");
        let saved = std::fs::read_to_string(&file).unwrap();
        assert!(saved.contains("service(\"10.0.0.1\", 80)"), "{saved}");
        assert!(
            saved.starts_with("// Saved from the lvsh REPL: a flat snapshot"),
            "{saved}"
        );
    }
}
