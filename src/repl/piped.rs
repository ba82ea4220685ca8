//! The REPL without a terminal: entries and `:commands` from stdin, no prompts,
//! exit status 1 if anything failed. A statement runs once it is complete; a next
//! line that starts with `.` continues its chain, as in a script file.

use super::shell::{Flow, Shell, is_blank, is_incomplete};
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

pub(crate) fn run_with(
    kernel: Box<dyn Kernel>,
    opts: ReplOptions,
    input: impl BufRead,
    out: Box<dyn Write>,
    err: Box<dyn Write>,
) -> i32 {
    let Some(mut shell) = Shell::start(kernel, &opts, out, err) else {
        return 1;
    };
    let mut lines = input.lines().peekable();
    let mut entry = String::new();
    let mut read_error = None;
    while let Some(line) = lines.next() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                read_error = Some(e);
                break;
            }
        };
        if entry.is_empty() {
            if command::is_command(&line) {
                if shell.input(&line) == Flow::Quit {
                    break;
                }
                continue;
            }
            if is_blank(&line) {
                continue;
            }
        }
        entry.push_str(&line);
        entry.push('\n');
        if is_incomplete(&entry) {
            continue;
        }
        let chained = matches!(lines.peek(), Some(Ok(next)) if next.trim_start().starts_with('.'));
        if !chained {
            shell.input(&entry);
            entry.clear();
        }
    }
    if !is_blank(&entry) {
        shell.input(&entry);
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
    use std::cell::RefCell;
    use std::rc::Rc;

    #[derive(Clone, Default)]
    struct Buf(Rc<RefCell<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buf {
        fn text(&self) -> String {
            String::from_utf8(self.0.borrow().clone()).unwrap()
        }
    }

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
        assert!(out.ends_with(&format!("Saved 2 services to `{}`.\n", file.display())));
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
        let (code, _, err) = session(Balancer::default(), "service(\"10.0.0.1\",\n");
        assert_eq!(code, 1);
        assert!(err.contains("entry 1"), "{err}");
    }
}
