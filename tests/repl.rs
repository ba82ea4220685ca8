//! `lvsh repl` end to end: typed on a pseudo-terminal (rexpect drives rustyline
//! for real), and scripted through a pipe with golden stdout/stderr.
//!
//! Golden files live in `tests/repl/`; `LVSH_BLESS=1 cargo test --test repl`
//! rewrites them.

use rexpect::reader::Options;
use rexpect::session::{PtySession, spawn_with_options};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const LVSH: &str = env!("CARGO_BIN_EXE_lvsh");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/repl")
        .join(name)
}

fn model_of(script: &str) -> lvsh::model::Balancer {
    lvsh::dsl::evaluate_source("test.rhai", script, None, &Default::default())
        .unwrap()
        .balancer
}

// ---------------------------------------------------------------- terminal

/// `lvsh repl ARGS --history HISTORY` on a pseudo-terminal.
fn terminal(args: &[&str], history: &Path, dir: &Path) -> PtySession {
    let mut c = repl_command(args, dir);
    c.arg("--history").arg(history).env_remove("XDG_STATE_HOME");
    start(c)
}

/// `lvsh repl ARGS` in `dir`, for a terminal.
fn repl_command(args: &[&str], dir: &Path) -> Command {
    let mut c = Command::new(LVSH);
    c.arg("repl")
        .args(args)
        .current_dir(dir)
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    c
}

/// Starts `c` on a pseudo-terminal and waits for the banner.
fn start(c: Command) -> PtySession {
    // Generous: a match returns at once, and 20 s was once too little with a lab
    // VM and three builds on two cores.
    let opts = Options::new()
        .timeout_ms(Some(60_000))
        .strip_ansi_escape_codes(true);
    let mut s = spawn_with_options(c, opts).expect("lvsh starts on a pty");
    s.exp_string("lvsh repl: ").expect("the banner");
    s
}

/// Types `text` and presses Enter.
fn enter(s: &mut PtySession, text: &str) {
    s.send(text).unwrap();
    s.send("\r").unwrap();
    s.flush().unwrap();
}

/// Types a one-line entry, presses Enter and waits for the `prompt` that follows,
/// as a person would: rustyline drops what is typed ahead while an entry runs.
/// The prompt must differ from the one before, or the wait would end at once.
fn entry(s: &mut PtySession, text: &str, prompt: &str) {
    enter(s, text);
    expect(s, prompt);
}

fn expect(s: &mut PtySession, text: &str) {
    if let Err(e) = s.exp_string(text) {
        panic!("expected {text:?} on the terminal: {e}");
    }
}

/// Waits for the end and returns the exit code.
fn exit_code(s: &mut PtySession) -> i32 {
    s.exp_eof().expect("lvsh exits");
    let status = format!("{:?}", s.process().wait().unwrap());
    // `Exited(Pid(1234), 0)`
    status
        .rsplit_once(", ")
        .and_then(|(_, code)| code.trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("unexpected end: {status}"))
}

#[test]
fn multi_line_entries_continue_until_complete() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = terminal(&["--empty"], &dir.path().join("h"), dir.path());
    // Offline, the greeting names what it compares with: no kernel was read.
    expect(&mut s, "in sync with the empty balancer.");
    expect(&mut s, "lvsh> ");
    enter(&mut s, "service(\"10.0.0.1\",");
    enter(&mut s, "  80).");
    enter(&mut s, "  scheduler(\"rr\")");
    // A chain over three lines was one entry: one service, one change.
    expect(&mut s, "service tcp 10.0.0.1:80 rr, 0 real servers");
    expect(&mut s, "lvsh[1]> ");
    enter(&mut s, "fn pool(svc, ips) {");
    enter(&mut s, "  for ip in ips { svc.rs(rs(ip)); }");
    enter(&mut s, "  svc");
    enter(&mut s, "}");
    expect(&mut s, "lvsh[1]> ");
    enter(
        &mut s,
        "pool(service(\"10.0.0.1\", 80), [\"10.0.1.1\", \"10.0.1.2\"])",
    );
    expect(&mut s, "2 real servers");
    expect(&mut s, "lvsh[3]> ");
    enter(&mut s, ":quit");
    expect(&mut s, "3 changes are not applied. Quit anyway? [y/N] ");
    enter(&mut s, "y");
    assert_eq!(exit_code(&mut s), 0);
}

#[test]
fn tab_completes_functions_and_methods() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = terminal(&["--empty"], &dir.path().join("h"), dir.path());
    expect(&mut s, "lvsh> ");
    // `serv` + Tab = `service(`; the rest of the line makes it a working call.
    s.send("let web = serv\t").unwrap();
    s.flush().unwrap();
    expect(&mut s, "service(");
    enter(&mut s, "\"10.0.0.1\", 80);");
    expect(&mut s, "lvsh[1]> ");
    // After a handle's `.`, its methods.
    s.send("web.sch\t").unwrap();
    s.flush().unwrap();
    expect(&mut s, "web.scheduler(");
    enter(&mut s, "\"sh\").flag(\"sh-p\t)");
    expect(&mut s, "service tcp 10.0.0.1:80 sh, 0 real servers");
    expect(&mut s, "lvsh[1]> ");
    // Commands after `:`.
    s.send(":pl\t").unwrap();
    s.send("\r").unwrap();
    s.flush().unwrap();
    expect(&mut s, "+ service tcp 10.0.0.1:80  sh flags sh-port");
    expect(&mut s, "Plan: 1 to add, 0 to change, 0 to delete.");
    s.send_control('d').unwrap();
    expect(&mut s, "Quit anyway? [y/N] ");
    s.send_control('d').unwrap();
    assert_eq!(exit_code(&mut s), 0);
}

#[test]
fn entries_typed_ahead_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = terminal(&["--empty"], &dir.path().join("h"), dir.path());
    // Three entries in one burst, as a paste without bracketed paste sends them.
    s.send("let a = 1;\rlet b = 2;\ra + b + 1000\r").unwrap();
    s.flush().unwrap();
    expect(&mut s, "1003");
    s.send_control('d').unwrap();
    assert_eq!(exit_code(&mut s), 0);
}

#[test]
fn hints_show_the_signature() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = terminal(&["--empty"], &dir.path().join("h"), dir.path());
    expect(&mut s, "lvsh> ");
    s.send("rs(").unwrap();
    s.flush().unwrap();
    expect(&mut s, "rs(addr: string)  |  rs(addr: string, port: int)");
    s.send_control('c').unwrap();
    expect(&mut s, "lvsh> ");
    s.send_control('d').unwrap();
    assert_eq!(exit_code(&mut s), 0);
}

#[test]
fn history_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("state/lvsh/history");
    let mut s = terminal(&["--empty"], &history, dir.path());
    expect(&mut s, "lvsh> ");
    enter(&mut s, "service(\"10.0.0.9\", 8080)");
    expect(&mut s, "lvsh[1]> ");
    enter(&mut s, ":undo");
    expect(&mut s, "lvsh> ");
    s.send_control('d').unwrap();
    assert_eq!(exit_code(&mut s), 0);
    let saved = std::fs::read_to_string(&history).unwrap();
    assert!(saved.contains("service(\"10.0.0.9\", 8080)"), "{saved}");

    let mut s = terminal(&["--empty"], &history, dir.path());
    expect(&mut s, "lvsh> ");
    // Up twice: `:undo`, then the service; Enter runs it again.
    s.send("\x1b[A\x1b[A\r").unwrap();
    s.flush().unwrap();
    expect(&mut s, "service tcp 10.0.0.9:8080 wlc");
    expect(&mut s, "lvsh[1]> ");
    enter(&mut s, ":quit");
    expect(&mut s, "Quit anyway? [y/N] ");
    enter(&mut s, "yes");
    assert_eq!(exit_code(&mut s), 0);
}

/// Without `--history`: `$XDG_STATE_HOME/lvsh/history` when that is absolute, else
/// `~/.local/state/lvsh/history`.
#[test]
fn history_goes_to_the_xdg_state_directory() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let state = dir.path().join("state");
    let under_home = home.join(".local/state/lvsh/history");
    for (xdg, file) in [
        (Some(state.as_path()), state.join("lvsh/history")),
        (Some(Path::new("relative")), under_home.clone()),
        (None, under_home.clone()),
    ] {
        let _ = std::fs::remove_file(&under_home);
        let mut c = repl_command(&["--empty"], dir.path());
        c.env("HOME", &home);
        match xdg {
            Some(x) => c.env("XDG_STATE_HOME", x),
            None => c.env_remove("XDG_STATE_HOME"),
        };
        let mut s = start(c);
        expect(&mut s, "lvsh> ");
        enter(&mut s, "service(\"10.0.0.9\", 8080)");
        expect(&mut s, "lvsh[1]> ");
        enter(&mut s, ":undo");
        expect(&mut s, "lvsh> ");
        s.send_control('d').unwrap();
        assert_eq!(exit_code(&mut s), 0);
        let saved = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{xdg:?}: {}: {e}", file.display()));
        assert!(saved.contains("service(\"10.0.0.9\", 8080)"), "{saved}");
        if file != under_home {
            assert!(!under_home.exists(), "XDG_STATE_HOME comes first");
        }
    }
}

#[test]
fn an_error_leaves_the_session_and_the_model_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = terminal(&["--empty"], &dir.path().join("h"), dir.path());
    expect(&mut s, "lvsh> ");
    enter(&mut s, "let vip = \"10.0.0.1\";");
    expect(&mut s, "lvsh> ");
    enter(&mut s, "service(vip, 80).scheduler(\"rrr\")");
    expect(&mut s, "unknown scheduler `rrr`, did you mean `rr`?");
    expect(&mut s, "entry 2:1:18");
    expect(&mut s, "lvsh> ");
    // The variable from before the error is still there.
    enter(&mut s, "service(vip, 80).scheduler(\"rr\")");
    expect(&mut s, "service tcp 10.0.0.1:80 rr");
    expect(&mut s, "lvsh[1]> ");
    enter(&mut s, "service(vip, 0)");
    expect(&mut s, "lvsh[!]> ");
    enter(&mut s, ":plan");
    expect(&mut s, "uses port 0 (every port) without persistence");
    enter(&mut s, ":undo");
    expect(&mut s, "Undid the last entry; 1 change pending.");
    expect(&mut s, "lvsh[1]> ");
    // Ctrl-C clears a half-typed entry.
    s.send("service(\"10.9.9.9\",").unwrap();
    s.flush().unwrap();
    // The hint after the comma: the whole text has been read.
    expect(&mut s, "\",  service(addr: string, port: int)");
    s.send_control('c').unwrap();
    expect(&mut s, "lvsh[1]> ");
    enter(&mut s, "40 + 2");
    expect(&mut s, "42");
    s.send_control('d').unwrap();
    expect(&mut s, "1 change is not applied. Quit anyway? [y/N] ");
    enter(&mut s, "y");
    assert_eq!(exit_code(&mut s), 0);
}

#[test]
fn plan_undo_and_apply_against_a_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let state = fixture("article.json");
    let mut s = terminal(
        &["--state", state.to_str().unwrap()],
        &dir.path().join("h"),
        dir.path(),
    );
    // The session starts from the state: nothing pending.
    expect(
        &mut s,
        &format!("in sync with the state file `{}`.", state.display()),
    );
    expect(&mut s, "lvsh> ");
    enter(
        &mut s,
        "service(\"192.168.10.120\", 80).server(\"192.168.10.12\").weight(0)",
    );
    expect(&mut s, "lvsh[1]> ");
    enter(&mut s, ":plan");
    expect(&mut s, "~   rs 192.168.10.12:80");
    expect(&mut s, "Plan: 0 to add, 1 to change, 0 to delete.");
    enter(&mut s, ":undo");
    expect(&mut s, "lvsh> ");
    enter(&mut s, ":plan");
    expect(&mut s, "No changes.");
    enter(&mut s, "mark(10).remove()");
    expect(&mut s, "lvsh[");
    enter(&mut s, ":apply");
    expect(&mut s, "- service fwmark 10");
    expect(&mut s, "Simulated on state file");
    expect(&mut s, "lvsh> ");
    // Applied: Ctrl-D quits without asking.
    s.send_control('d').unwrap();
    assert_eq!(exit_code(&mut s), 0);
}

#[test]
fn save_writes_a_script_that_reproduces_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = terminal(&["--empty"], &dir.path().join("h"), dir.path());
    expect(&mut s, "lvsh> ");
    let typed = [
        (
            "let vip = \"192.168.10.120\"; let web = service(vip, 80);",
            "lvsh[1]> ",
        ),
        ("web.scheduler(\"wrr\").persist(120);", "lvsh[1]> "),
        (
            "for ip in [\"192.168.10.11\", \"192.168.10.12\"] { web.rs(rs(ip).nat().weight(3)); }",
            "lvsh[3]> ",
        ),
        ("mark(10).vip(vip).ports([80, 443]);", "lvsh[5]> "),
        (
            "mark(10).rs(rs(\"192.168.10.11\").tun(\"gre\").csum());",
            "lvsh[6]> ",
        ),
        ("timeouts(#{tcp: 900});", "lvsh[7]> "),
    ];
    for (line, prompt) in typed {
        if line.starts_with("web.") {
            // The count stays: wait for the entry's value instead.
            enter(&mut s, line);
            expect(&mut s, "wrr persist 120");
            expect(&mut s, prompt);
        } else {
            entry(&mut s, line, prompt);
        }
    }
    enter(&mut s, ":save saved.rhai");
    expect(&mut s, "Saved 2 services to `saved.rhai`: a flat snapshot");
    enter(&mut s, ":q");
    expect(&mut s, "Quit anyway? [y/N] ");
    enter(&mut s, "y");
    assert_eq!(exit_code(&mut s), 0);

    let saved =
        lvsh::dsl::evaluate_file(&dir.path().join("saved.rhai"), &Default::default()).unwrap();
    // The same model as a script states it (a script declares mark 10 once).
    let script = r#"
        let vip = "192.168.10.120";
        let web = service(vip, 80).scheduler("wrr").persist(120);
        for ip in ["192.168.10.11", "192.168.10.12"] { web.rs(rs(ip).nat().weight(3)); }
        mark(10).vip(vip).ports([80, 443]).rs(rs("192.168.10.11").tun("gre").csum());
        timeouts(#{tcp: 900});
    "#;
    assert_eq!(saved.balancer, model_of(script));
}

/// The README's example, typed line by line: a line starting with `.` continues the
/// entry before it, which ran already.
#[test]
fn a_line_starting_with_a_dot_continues_the_entry_before() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = terminal(&["--empty"], &dir.path().join("h"), dir.path());
    expect(&mut s, "lvsh> ");
    entry(
        &mut s,
        "let web = service(\"10.0.0.1\", 80).scheduler(\"wlc\");",
        "lvsh[1]> ",
    );
    enter(&mut s, "web.rs(rs(\"10.0.0.2\"))");
    expect(&mut s, "wlc, 1 real server");
    expect(&mut s, "lvsh[2]> ");
    enter(&mut s, "    .rs(rs(\"10.0.0.3\"));");
    expect(&mut s, "wlc, 2 real servers");
    expect(&mut s, "lvsh[3]> ");
    enter(&mut s, ":plan");
    expect(&mut s, "+   rs 10.0.0.3:80         dr weight 1");
    expect(&mut s, "Plan: 3 to add, 0 to change, 0 to delete.");
    // One entry: one undo drops both lines.
    entry(&mut s, ":undo", "lvsh[1]> ");
    // Pasted in one burst, as without bracketed paste: the same.
    s.send("web.rs(rs(\"10.0.0.2\"))\r    .rs(rs(\"10.0.0.3\"));\r")
        .unwrap();
    s.flush().unwrap();
    expect(&mut s, "lvsh[3]> ");
    // After an entry that ends with `;` there is nothing to continue.
    enter(&mut s, ".rs(rs(\"10.0.0.4\"))");
    expect(&mut s, "continues the entry just before it");
    expect(&mut s, "lvsh[3]> ");
    enter(&mut s, ":quit");
    expect(&mut s, "Quit anyway? [y/N] ");
    enter(&mut s, "y");
    assert_eq!(exit_code(&mut s), 0);
}

/// On the later lines of an entry Tab knows what the earlier lines declared, and on
/// a line that continues the entry before, what that entry's chain is.
#[test]
fn tab_completes_on_continuation_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = terminal(&["--empty"], &dir.path().join("h"), dir.path());
    expect(&mut s, "lvsh> ");
    entry(&mut s, "let web = service(\"10.0.0.1\", 80);", "lvsh[1]> ");
    enter(&mut s, "for ip in [\"10.0.1.1\", \"10.0.1.2\"] {");
    enter(&mut s, "    let backend = rs(ip).nat();");
    s.send("    web.rs(backe\t").unwrap();
    s.flush().unwrap();
    expect(&mut s, "web.rs(backend");
    s.send(".wei\t").unwrap();
    s.flush().unwrap();
    expect(&mut s, "backend.weight(");
    enter(&mut s, "3));");
    enter(&mut s, "}");
    expect(&mut s, "lvsh[3]> ");
    // `.t` after a real server: only its own methods (`tun(`), not `tcp()`/`ttl(`.
    enter(&mut s, "web.server(\"10.0.1.1\")");
    expect(&mut s, "rs 10.0.1.1 nat weight 3");
    expect(&mut s, "lvsh[3]> ");
    s.send("    .t\t").unwrap();
    s.flush().unwrap();
    expect(&mut s, ".tun(");
    enter(&mut s, "\"gre\")");
    expect(&mut s, "rs 10.0.1.1 tun gre");
    s.send_control('d').unwrap();
    expect(&mut s, "Quit anyway? [y/N] ");
    s.send_control('d').unwrap();
    assert_eq!(exit_code(&mut s), 0);
}

#[test]
fn save_asks_before_replacing_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site.rhai");
    let script =
        "import \"dr_pool\" as dr;\ndr::pool(param(\"vip\", \"10.0.0.1\"), 80, [\"10.0.1.1\"]);\n";
    std::fs::write(&site, script).unwrap();
    let mut s = terminal(&["site.rhai", "--empty"], &dir.path().join("h"), dir.path());
    expect(&mut s, "lvsh[2]> ");
    enter(&mut s, ":save site.rhai");
    expect(
        &mut s,
        "`site.rhai` exists (the script this session started from). \
         Replace it with a flat snapshot of the pending model? [y/N] ",
    );
    enter(&mut s, "n");
    expect(&mut s, "Not saved.");
    assert_eq!(std::fs::read_to_string(&site).unwrap(), script);
    enter(&mut s, ":save site.rhai");
    expect(&mut s, "[y/N] ");
    enter(&mut s, "y");
    expect(&mut s, "Saved 1 service to `site.rhai`: a flat snapshot");
    let saved = std::fs::read_to_string(&site).unwrap();
    assert!(
        !saved.contains("import \"") && !saved.contains("dr::"),
        "{saved}"
    );
    assert!(saved.contains("service(\"10.0.0.1\", 80)"), "{saved}");
    // `:save!` does not ask.
    std::fs::write(dir.path().join("other.rhai"), "").unwrap();
    enter(&mut s, ":save! other.rhai");
    expect(&mut s, "Saved 1 service to `other.rhai`");
    s.send_control('d').unwrap();
    expect(&mut s, "Quit anyway? [y/N] ");
    s.send_control('d').unwrap();
    assert_eq!(exit_code(&mut s), 0);
}

#[test]
fn ctrl_d_asks_only_when_changes_are_pending() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = terminal(&["--empty"], &dir.path().join("h"), dir.path());
    expect(&mut s, "lvsh> ");
    enter(&mut s, "service(\"10.0.0.1\", 80)");
    expect(&mut s, "lvsh[1]> ");
    s.send_control('d').unwrap();
    expect(&mut s, "1 change is not applied. Quit anyway? [y/N] ");
    // No: the session goes on, with its change.
    enter(&mut s, "n");
    expect(&mut s, "lvsh[1]> ");
    enter(&mut s, ":apply");
    expect(&mut s, "Simulated on an empty balancer: 1 added");
    expect(&mut s, "lvsh> ");
    s.send_control('d').unwrap();
    assert_eq!(exit_code(&mut s), 0);
}

// ---------------------------------------------------------------- pipe

/// Runs `lvsh repl ARGS` with `input` on stdin; (code, stdout, stderr).
fn piped(args: &[&str], input: &str) -> (i32, String, String) {
    let mut child = Command::new(LVSH)
        .arg("repl")
        .args(args)
        .current_dir(fixture(""))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Compares with `tests/repl/NAME.out` / `.err`, or rewrites them.
fn golden(name: &str, stdout: &str, stderr: &str) {
    for (ext, got) in [("out", stdout), ("err", stderr)] {
        let path = fixture(&format!("{name}.{ext}"));
        if std::env::var_os("LVSH_BLESS").is_some() {
            std::fs::write(&path, got).unwrap();
            continue;
        }
        let want =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(got, want, "{} differs", path.display());
    }
}

#[test]
fn piped_session_builds_plans_and_reports_errors() {
    let input = std::fs::read_to_string(fixture("session.in")).unwrap();
    let (code, out, err) = piped(&["--empty"], &input);
    golden("session", &out, &err);
    assert_eq!(code, 1, "a statement failed");
}

#[test]
fn piped_session_against_a_state_file() {
    let input = std::fs::read_to_string(fixture("state.in")).unwrap();
    let (code, out, err) = piped(&["--state", "article.json"], &input);
    golden("state", &out, &err);
    assert_eq!(code, 0);
}

#[test]
fn piped_session_starting_from_a_script() {
    let (code, out, err) = piped(
        &["article.rhai", "--empty"],
        ":plan\nweb\n:reset\nvip\n:plan\n",
    );
    golden("script", &out, &err);
    assert_eq!(code, 1, "`web` is not defined");
}

#[test]
fn piped_save_never_replaces_a_file_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("site.rhai");
    std::fs::write(&file, "// mine\n").unwrap();
    let input = format!(
        "service(\"10.0.0.1\", 80)\n:save {0}\n:save! {0}\n",
        file.display()
    );
    let (code, out, err) = piped(&["--empty"], &input);
    assert_eq!(code, 1, "the first `:save` fails: {err}");
    assert!(
        err.contains("exists; `:save` does not replace a file"),
        "{err}"
    );
    assert!(
        out.contains("a flat snapshot of the pending model"),
        "{out}"
    );
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("service(\"10.0.0.1\", 80)"), "{saved}");
}

#[test]
fn piped_help() {
    let (code, out, err) = piped(&["--empty"], ":help\n:help rs\n:help :sa\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("Commands (any unambiguous prefix works"),
        "{out}"
    );
    assert!(out.contains("\nFunctions:\n  service(addr: string, port: int) -> Service\n"));
    assert!(
        out.contains(
            "  rs(addr: string, port: int) -> RealServer\n      A real server on `port`.\n"
        )
    );
    assert!(out.contains("  Service.rs(server: RealServer | string | array) -> Service\n"));
    assert!(out.contains(":save FILE\n    write the pending model as a flat script"));
    assert!(out.ends_with("`:save! FILE` does not\n"), "{out}");
}
