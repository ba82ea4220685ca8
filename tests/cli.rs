//! The binary, end to end: golden stdout/stderr and exit codes. No kernel needed.

mod support;

use support::{Test, files, root};

const SCRIPTS: &[&str] = &[
    "ppc",
    "pcc",
    "pfmc",
    "dual-stack",
    "nat-farm",
    "generated",
    "recipes",
    "health",
];

fn script(name: &str) -> String {
    format!("scripts/{name}.rhai")
}

#[test]
fn every_script_in_the_scripts_folder_is_tested() {
    let found: Vec<String> = files(&root().join("scripts"), "rhai")
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut listed: Vec<String> = SCRIPTS.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed, "add new scripts to SCRIPTS in tests/cli.rs");
}

#[test]
fn scripts_check() {
    for name in SCRIPTS {
        Test::new()
            .args(["check", &script(name)])
            .stdout_golden(&format!("scripts/{name}.check"))
            .run();
    }
}

#[test]
fn scripts_emit_ipvsadm() {
    for name in SCRIPTS {
        Test::new()
            .args(["emit", &script(name), "--to", "ipvsadm"])
            .stdout_golden(&format!("scripts/{name}.ipvsadm"))
            .stderr_golden(&format!("scripts/{name}.ipvsadm.stderr"))
            .run();
    }
}

#[test]
fn scripts_emit_nft() {
    for name in SCRIPTS {
        Test::new()
            .args(["emit", &script(name), "--to", "nft"])
            .stdout_golden(&format!("scripts/{name}.nft"))
            .run();
    }
}

#[test]
fn scripts_emit_json() {
    for name in SCRIPTS {
        Test::new()
            .args(["emit", &script(name), "--to", "json"])
            .stdout_golden(&format!("scripts/{name}.json"))
            .run();
    }
}

#[test]
fn scripts_plan_from_empty() {
    for name in SCRIPTS {
        Test::new()
            .args(["plan", &script(name), "--empty"])
            .stdout_golden(&format!("scripts/{name}.plan"))
            .run();
    }
}

#[test]
fn plan_against_its_own_state_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    for name in SCRIPTS {
        let json = Test::new()
            .args(["emit", &script(name), "--to", "json"])
            .run()
            .stdout;
        let state = dir.path().join(format!("{name}.json"));
        std::fs::write(&state, json).unwrap();
        let state = state.to_str().unwrap();
        // No kernel was read: the message names the state file.
        Test::new()
            .args([
                "plan",
                &script(name),
                "--state",
                state,
                "--detailed-exitcode",
            ])
            .stdout(&format!(
                "No changes. The state file `{state}` matches the script.\n"
            ))
            .run();
        Test::new()
            .args([
                "plan",
                &script(name),
                "--empty",
                "--detailed-exitcode",
                "-q",
            ])
            .status(2)
            .run();
    }
}

#[test]
fn an_empty_plan_against_the_empty_balancer_says_so() {
    Test::new()
        .args(["plan", "-", "--empty"])
        .stdin("// nothing yet\n")
        .stdout("No changes. The empty balancer matches the script.\n")
        .run();
}

#[test]
fn plan_json_is_valid_json_with_every_change() {
    let out = Test::new()
        .args(["plan", "scripts/pfmc.rhai", "--empty", "--json"])
        .run();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    // fwmark service, two real servers, one nft mark rule
    assert_eq!(v["changes"].as_array().unwrap().len(), 4, "{}", out.stdout);
}

#[test]
fn merge_never_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("pcc.json");
    let json = Test::new()
        .args(["emit", "scripts/pcc.rhai", "--to", "json"])
        .run()
        .stdout;
    std::fs::write(&state, json).unwrap();
    let state = state.to_str().unwrap();
    let replace = Test::new()
        .args(["plan", "scripts/ppc.rhai", "--state", state])
        .run()
        .stdout;
    assert!(replace.lines().any(|l| l.starts_with('-')), "{replace}");
    let merge = Test::new()
        .args(["plan", "scripts/ppc.rhai", "--state", state, "--merge"])
        .run()
        .stdout;
    assert!(!merge.lines().any(|l| l.starts_with('-')), "{merge}");
}

#[test]
fn script_from_stdin() {
    Test::new()
        .args(["check", "-"])
        .stdin("service(\"10.0.0.1\", 80).rs(rs(\"10.0.0.2\"));")
        .stdout("-: ok, 1 service, 1 real server\n")
        .run();
}

#[test]
fn missing_script_is_a_clear_error() {
    Test::new()
        .args(["check", "scripts/nope.rhai"])
        .status(1)
        .stderr_contains(&["cannot read `scripts/nope.rhai`", "No such file"])
        .run();
}

#[test]
fn bad_state_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    std::fs::write(&state, "{\"services\": 3}").unwrap();
    Test::new()
        .args([
            "plan",
            "scripts/ppc.rhai",
            "--state",
            state.to_str().unwrap(),
        ])
        .status(1)
        .stderr_contains(&["is not a state file", "emit FILE --to json"])
        .run();
}

#[test]
fn usage_errors_exit_1_not_2() {
    // 2 is reserved for "changes pending" under --detailed-exitcode.
    Test::new()
        .args(["plan"])
        .status(1)
        .stderr_contains(&["FILE"])
        .run();
    Test::new()
        .args(["emit", "scripts/ppc.rhai", "--to", "yaml"])
        .status(1)
        .stderr_contains(&["yaml"])
        .run();
}

/// `lvsh --help` and every `lvsh COMMAND --help`, as golden files: a change to the
/// help shows in review.
#[test]
fn help_texts() {
    use clap::CommandFactory;
    Test::new()
        .args(["--help"])
        .stdout_golden("help/lvsh.txt")
        .run();
    for sub in lvsh::cli::Cli::command().get_subcommands() {
        let name = sub.get_name();
        if name == "help" {
            continue;
        }
        Test::new()
            .args([name, "--help"])
            .stdout_golden(&format!("help/{name}.txt"))
            .run();
    }
}

/// README's command list names every command and every option `--help` shows.
#[test]
fn readme_lists_every_command_and_option() {
    use clap::CommandFactory;
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme.find("## The command line\n").unwrap();
    let start = section + readme[section..].find("```\n").unwrap();
    let block = &readme[start..];
    let block = &block[..block[30..].find("```").unwrap() + 30];
    let cli = lvsh::cli::Cli::command();
    for global in cli.get_arguments().filter_map(|a| a.get_long()) {
        if global != "help" && global != "version" {
            assert!(
                block.contains(&format!("--{global}")),
                "--{global}:\n{block}"
            );
        }
    }
    for sub in cli.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = sub.get_name();
        // The command's lines: from `lvsh NAME` to the next command.
        let from = block
            .find(&format!("lvsh {name} "))
            .unwrap_or_else(|| panic!("README lacks `lvsh {name}`:\n{block}"));
        let rest = &block[from + 5..];
        let lines = &rest[..rest.find("\nlvsh ").unwrap_or(rest.len())];
        for arg in sub.get_arguments().filter(|a| !a.is_global_set()) {
            if let Some(long) = arg.get_long().filter(|l| *l != "help") {
                let short = arg.get_short().map(|c| format!("-{c} "));
                assert!(
                    lines.contains(&format!("--{long}"))
                        || short.is_some_and(|s| lines.contains(&s)),
                    "README's `lvsh {name}` lacks --{long}:\n{lines}"
                );
            }
        }
    }
}

/// A global option a command has no use for is a usage error naming both.
#[test]
fn global_options_a_command_has_no_use_for_are_refused() {
    Test::new()
        .args(["import", "-", "--netns", "nosuch"])
        .status(1)
        .stderr_golden("usage/import_with_netns.stderr")
        .run();
    for (args, says) in [
        (
            &["plan", "scripts/ppc.rhai", "--empty", "--netns", "blue"][..],
            "`--netns` means nothing for `lvsh plan`: `--empty` reads no kernel",
        ),
        (
            &["show", "--set", "vip=10.0.0.1"],
            "`--set` means nothing: `lvsh show` runs no script",
        ),
        (
            &["history", "-I", "scripts"],
            "`-I/--lib` means nothing: `lvsh history` runs no script",
        ),
        (
            &["check", "scripts/ppc.rhai", "-I", "/nonexistent"],
            "cannot use `/nonexistent`: No such file or directory",
        ),
        (
            &["check", "scripts/ppc.rhai", "-I", "README.md"],
            "`README.md` is not a directory",
        ),
    ] {
        Test::new()
            .args(args)
            .status(1)
            .stderr_contains(&[says])
            .run();
    }
    // Options a command uses, and -q, -v, --color everywhere, are accepted.
    Test::new()
        .args([
            "check",
            "scripts/ppc.rhai",
            "-I",
            "scripts",
            "-q",
            "--color",
            "never",
        ])
        .stdout("")
        .run();
}

#[test]
fn set_passes_parameters() {
    Test::new()
        .args(["check", "-", "--set", "vip=10.9.9.9", "--set", "n=3"])
        .stdin(
            "let s = service(param(\"vip\"), 80);\n\
             for i in 0..param(\"n\", 1) { s.rs(rs(`10.0.0.${i + 1}`).nat()); }",
        )
        .stdout("-: ok, 1 service, 3 real servers\n")
        .run();
}

/// A misspelt `--set` would leave the default in place and apply the wrong
/// balancer: a name the script never reads is an error, nothing is planned.
#[test]
fn set_with_a_name_the_script_never_reads_is_an_error() {
    let script = "service(param(\"vip\", \"10.0.0.1\"), param(\"port\", 80));\n";
    Test::new()
        .args(["plan", "-", "--empty", "--set", "prot=443"])
        .stdin(script)
        .status(1)
        .stdout("")
        .stderr_golden("usage/set_unknown_param.stderr")
        .run();
    Test::new()
        .args(["plan", "-", "--empty", "--set", "port=443"])
        .stdin(script)
        .stdout_contains(&["+ service tcp 10.0.0.1:443"])
        .run();
}

#[test]
fn invalid_scripts_fail_with_a_pointed_diagnostic() {
    let dir = root().join("tests/invalid");
    let mut n = 0;
    for path in files(&dir, "rhai") {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let rel = format!("tests/invalid/{name}.rhai");
        Test::new()
            .args(["check", &rel])
            .status(1)
            .stdout("")
            .stderr_golden(&format!("invalid/{name}.stderr"))
            .run();
        n += 1;
    }
    assert!(n >= 25, "only {n} invalid scripts");
}

/// `lvsh watch` reports a broken script before it looks for a kernel, as apply does.
#[test]
fn watch_refuses_a_broken_script_first() {
    Test::new()
        .args(["watch", "tests/invalid/check_timeout_not_shorter.rhai"])
        .status(1)
        .stdout("")
        .stderr_golden("invalid/check_timeout_not_shorter.stderr")
        .run();
    Test::new()
        .args(["watch", "no/such/script.rhai"])
        .status(1)
        .stdout("")
        .stderr_golden("watch/missing_script.stderr")
        .run();
}

/// ipvsadm 1.31 prints fwmarks above 2^31-1 as negative numbers; lvsh does not.
fn unsigned_fwmarks(saved: &str) -> String {
    let mut out = String::new();
    for line in saved.lines() {
        let words: Vec<String> = line
            .split(' ')
            .scan("", |prev, w| {
                let word = match (*prev, w.parse::<i32>()) {
                    ("-f", Ok(n)) if n < 0 => (n as u32).to_string(),
                    _ => w.to_string(),
                };
                *prev = w;
                Some(word)
            })
            .collect();
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    out
}

/// `lvsh import` of a rules file, then `emit --to ipvsadm` of the script it wrote,
/// gives what `ipvsadm -S -n` printed in the lab after restoring that file.
#[test]
fn import_then_emit_matches_what_the_kernel_saved() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = root().join("tests/fixtures/ipvsadm");
    let mut n = 0;
    for rules in files(&fixtures, "rules") {
        let saved = std::fs::read_to_string(rules.with_extension("saved")).unwrap();
        let script = Test::new()
            .args(["import", rules.to_str().unwrap()])
            .run()
            .stdout;
        let path = dir.path().join("imported.rhai");
        std::fs::write(&path, &script).unwrap();
        let emitted = Test::new()
            .args(["emit", path.to_str().unwrap(), "--to", "ipvsadm"])
            .stderr_any()
            .run()
            .stdout;
        // Line for line, in ipvsadm's order.
        let saved = unsigned_fwmarks(&saved);
        assert_eq!(emitted, saved, "{}:\n{script}", rules.display());
        n += 1;
    }
    assert!(n >= 5, "only {n} fixtures");
}

/// An empty (or truncated to nothing) rules file gives a script whose plan deletes
/// everything: import warns, and the script says so in a comment.
#[test]
fn importing_an_empty_rules_file_warns_on_stderr_and_in_the_script() {
    for rules in ["", "# only a comment\n\n"] {
        Test::new()
            .args(["import", "-"])
            .stdin(rules)
            .stdout_golden("usage/import_empty.rhai")
            .stderr(
                "warning: `<stdin>` holds no services: `lvsh apply` of this script deletes \
                 every service\n",
            )
            .run();
    }
    Test::new()
        .args(["import", "-", "-q"])
        .stdin("")
        .stdout_golden("usage/import_empty.rhai")
        .run();
}

/// A model written as a script evaluates back to the same model: what `import` and
/// `save` rely on.
#[test]
fn written_scripts_evaluate_to_the_same_model() {
    let dir = tempfile::tempdir().unwrap();
    for name in SCRIPTS {
        let json = Test::new()
            .args(["emit", &script(name), "--to", "json"])
            .run()
            .stdout;
        let model = lvsh::model::Balancer::from_json(&json).unwrap();
        let text = lvsh::convert::script::to_script(&model, "round trip");
        let path = dir.path().join(format!("{name}.rhai"));
        std::fs::write(&path, &text).unwrap();
        let again = Test::new()
            .args(["emit", path.to_str().unwrap(), "--to", "json"])
            .run()
            .stdout;
        assert_eq!(again, json, "{name}:\n{text}");
    }
}

/// What the kernel accepts but ignores is a warning with its place, not an error:
/// `save` of such a kernel must still re-apply.
#[test]
fn warnings_point_at_the_script_and_do_not_fail() {
    let one = "1 service, 0 real servers";
    for (name, summary) in [
        (
            "mark_without_service_of_its_family",
            "1 service (1 fwmark), 0 real servers, 1 nft mark rule",
        ),
        (
            "mark_without_ports",
            "1 service (1 fwmark), 1 real server, 1 nft mark rule",
        ),
        ("netmask_without_persistence", one),
        ("pe_sip_on_tcp", one),
        ("pe_without_persistence", one),
        ("sorry_without_check", "1 service, 1 real server"),
        (
            "sorry_with_an_unchecked_server",
            "1 service, 2 real servers, health checks on 1 service",
        ),
        ("on_down_without_check", "1 service, 1 real server"),
        ("slow_start_without_check", "1 service, 1 real server"),
        (
            "check_on_sorry_server",
            "1 service, 1 real server, health checks on 1 service",
        ),
        ("recipe_deprecated", "1 service, 1 real server"),
        ("module_side_effect_and_param", "2 services, 0 real servers"),
    ] {
        let rel = format!("tests/warnings/{name}.rhai");
        Test::new()
            .args(["check", &rel])
            .stdout(&format!("{rel}: ok, {summary}\n"))
            .stderr_golden(&format!("warnings/{name}.stderr"))
            .run();
    }
}

/// A script with `const PARAMS`: `--set` values are checked before it runs, against
/// the declared types, and unknown names are errors at the declaration.
#[test]
fn set_values_are_checked_against_params() {
    let script = "const PARAMS = #{\n    vip: #{ type: \"ip\" },\n    port: #{ type: \"port\", \"default\": 80 },\n};\nservice(param(\"vip\"), param(\"port\"));\n";
    Test::new()
        .args([
            "plan",
            "-",
            "--empty",
            "--set",
            "vip=10.0.0.1",
            "--set",
            "port=443",
        ])
        .stdin(script)
        .stdout_contains(&["+ service tcp 10.0.0.1:443"])
        .run();
    Test::new()
        .args(["check", "-", "--set", "vip=10.0.0.x"])
        .stdin(script)
        .status(1)
        .stdout("")
        .stderr_golden("scripts/params_bad_set.stderr")
        .run();
    Test::new()
        .args(["check", "-", "--set", "vip=10.0.0.1", "--set", "prot=443"])
        .stdin(script)
        .status(1)
        .stdout("")
        .stderr_golden("scripts/params_unknown_set.stderr")
        .run();
}

/// Every Rhai example in README.md is a valid script.
#[test]
fn readme_examples_check() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut blocks = vec![];
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_end()) {
            (None, "```rhai") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(block), l) => {
                block.push_str(l);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(blocks.len() >= 2, "README has {} rhai blocks", blocks.len());
    for block in blocks {
        let out = Test::new().args(["check", "-"]).stdin(&block).run();
        assert!(out.stdout.starts_with("-: ok"), "{block}\n{}", out.stdout);
    }
}

#[test]
fn lib_dirs_resolve_imports_and_nothing_else_does() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("site_pool.rhai"),
        "fn web(vip) { service(vip, 80).scheduler(\"rr\").rs(rs(\"10.0.0.9\")) }\n",
    )
    .unwrap();
    let script = "import \"site_pool\" as p;\np::web(\"10.0.0.1\");\n";
    Test::new()
        .args(["check", "-", "-I", dir.path().to_str().unwrap()])
        .stdin(script)
        .stdout("-: ok, 1 service, 1 real server\n")
        .run();
    Test::new()
        .args(["check", "-"])
        .stdin(script)
        .status(1)
        .stderr_contains(&["site_pool"])
        .run();
}

#[test]
fn unknown_network_namespace_is_a_clear_error() {
    Test::new()
        .args([
            "--netns",
            "lvsh-test-no-such-ns",
            "plan",
            "scripts/ppc.rhai",
        ])
        .status(1)
        .stderr_contains(&[
            "network namespace `lvsh-test-no-such-ns` does not exist",
            "ip netns list",
        ])
        .run();
}

/// On a kernel without IPVS (this project's own machines), the error says why in
/// modprobe's own words, as ipvsadm shows them, not only its exit status.
#[test]
fn a_kernel_without_ip_vs_is_explained_in_modprobe_s_words() {
    let dry = std::process::Command::new("modprobe")
        .args(["-n", "--", "ip_vs"])
        .env("LC_ALL", "C")
        .output();
    let out = Test::new().args(["show"]).status_any().stderr_any().run();
    // miette wraps long words too (a path): compare without any spaces.
    let squeezed = |s: &str| s.replace(|c: char| c.is_whitespace() || c == '|', "");
    let stderr = squeezed(&out.stderr);
    match dry {
        Ok(o) if !o.status.success() => {
            let said = String::from_utf8_lossy(&o.stderr).trim().to_string();
            assert!(said.contains("ip_vs"), "modprobe said: {said}");
            assert_eq!(out.status, 1);
            for part in [
                "the kernel has no IPVS: module `ip_vs` is not loaded and cannot be:",
                said.as_str(),
                "the running kernel has no `ip_vs` module",
                "`check`, `emit`, and `plan` with --empty or --state work without IPVS",
            ] {
                assert!(
                    stderr.contains(&squeezed(part)),
                    "no {part:?} in\n{}",
                    out.stderr
                );
            }
        }
        // A kernel with IPVS (or no modprobe to ask): lvsh gets past loading it.
        _ => assert!(!stderr.contains("has no IPVS"), "{}", out.stderr),
    }
}

#[test]
fn netns_names_are_checked_before_anything_is_opened() {
    Test::new()
        .args(["--netns", "../../proc/1/ns/net", "plan", "scripts/ppc.rhai"])
        .status(1)
        .stderr_golden("usage/netns_with_slash.stderr")
        .run();
    let long = "n".repeat(256);
    for (name, rule) in [
        ("", "a namespace name cannot be empty"),
        (".", "a namespace name cannot be `.`"),
        ("..", "a namespace name cannot be `..`"),
        (
            long.as_str(),
            "a namespace name is at most 255 bytes, not 256",
        ),
    ] {
        Test::new()
            .args(["show", "--netns", name])
            .status(1)
            .stderr_contains(&["for '--netns <NAME>'", rule])
            .run();
    }
}

/// A report's words on one line: long temporary paths wrap its message.
fn unwrapped(report: &str) -> String {
    report
        .split_whitespace()
        .filter(|w| *w != "|")
        .collect::<Vec<_>>()
        .join(" ")
}

/// A directory with a script that imports through symlinks, and a root-only file
/// beside it whose first line must never show.
struct SymlinkTree {
    dir: tempfile::TempDir,
}

const SECRET: &str = "root:SECRET-FIRST-LINE:19000:0:99999:7:::";

impl SymlinkTree {
    fn new() -> Self {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(p.join("shadow"), format!("{SECRET}\n")).unwrap();
        std::fs::write(p.join("outside.rhai"), format!("{SECRET}\n")).unwrap();
        std::fs::create_dir_all(p.join("site/v2")).unwrap();
        std::fs::create_dir(p.join("lib")).unwrap();
        std::fs::write(
            p.join("site/v2/web.rhai"),
            "fn web(vip) { service(vip, 80).rs(rs(\"10.0.0.9\")) }\n",
        )
        .unwrap();
        symlink("v2/web.rhai", p.join("site/current.rhai")).unwrap();
        symlink("../shadow", p.join("site/leak.rhai")).unwrap();
        symlink(p.join("shadow"), p.join("lib/abs.rhai")).unwrap();
        symlink(p, p.join("site/up")).unwrap();
        SymlinkTree { dir }
    }

    /// A script in `site/` that imports `module`.
    fn script(&self, module: &str) -> String {
        let path = self
            .dir
            .path()
            .join(format!("site/{}.rhai", module.replace('/', "_")));
        let path = path.with_file_name(format!(
            "main_{}",
            path.file_name().unwrap().to_string_lossy()
        ));
        std::fs::write(
            &path,
            format!("import \"{module}\" as m;\nm::web(\"10.0.0.1\");\n"),
        )
        .unwrap();
        path.to_str().unwrap().to_string()
    }

    fn lib(&self) -> String {
        self.dir.path().join("lib").to_str().unwrap().to_string()
    }
}

#[test]
fn imports_follow_symlinks_only_inside_the_allowed_directories() {
    let t = SymlinkTree::new();
    Test::new()
        .args(["check", &t.script("current")])
        .stdout_contains(&["ok, 1 service, 1 real server"])
        .run();
    for (module, lib) in [("leak", None), ("up/outside", None), ("abs", Some(t.lib()))] {
        let script = t.script(module);
        let mut args = vec!["check".to_string(), script];
        if let Some(lib) = lib {
            args.extend(["-I".to_string(), lib]);
        }
        let out = Test::new().args(&args).status(1).stderr_any().run();
        let text = unwrapped(&out.stderr);
        for part in [
            "leads to",
            "outside the directories imports may read",
            "a symlink may point only inside them",
        ] {
            assert!(
                text.contains(part),
                "{module}: no {part:?} in\n{}",
                out.stderr
            );
        }
        // The refused file's content never shows, not even its first line.
        assert!(!out.stderr.contains("SECRET"), "{module}:\n{}", out.stderr);
    }
}

#[test]
fn scripts_larger_than_the_limit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.rhai");
    let max = lvsh::dsl::MAX_SCRIPT_BYTES as usize;
    let text = format!("// {}\n", "x".repeat(max));
    std::fs::write(&big, &text).unwrap();
    let big = big.to_str().unwrap();
    let message =
        format!("script `{big}` is larger than 1048576 bytes, the most lvsh reads of a script");
    let out = Test::new()
        .args(["check", big])
        .status(1)
        .stderr_any()
        .run();
    assert!(unwrapped(&out.stderr).contains(&message), "{}", out.stderr);
    let out = Test::new()
        .args(["check", "-"])
        .stdin(&text[..max + 1])
        .status(1)
        .stderr_any()
        .run();
    assert!(
        unwrapped(&out.stderr)
            .contains("the script on standard input is larger than 1048576 bytes"),
        "{}",
        out.stderr
    );
    let out = Test::new()
        .args(["repl", big, "--empty"])
        .stdin(":quit\n")
        .status(1)
        .stderr_any()
        .run();
    assert!(unwrapped(&out.stderr).contains(&message), "{}", out.stderr);
    // Exactly at the limit is fine.
    let line = "service(\"10.0.0.1\", 80);";
    Test::new()
        .args(["check", "-"])
        .stdin(&format!("{line}{}", " ".repeat(max - line.len())))
        .stdout("-: ok, 1 service, 0 real servers\n")
        .run();
}

/// Scoped scripts against a director that also holds another team's objects.
const SCOPE: &str = "tests/fixtures/scope";

#[test]
fn a_scoped_plan_leaves_what_is_outside_alone() {
    let state = format!("{SCOPE}/director.json");
    for name in ["web", "web-emptied"] {
        Test::new()
            .args(["plan", &format!("{SCOPE}/{name}.rhai"), "--state", &state])
            .stdout_golden(&format!("scope/{name}.plan"))
            .run();
    }
    let json = Test::new()
        .args([
            "plan",
            &format!("{SCOPE}/web-emptied.rhai"),
            "--state",
            &state,
        ])
        .args(["--json"])
        .run()
        .stdout;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let objects: Vec<String> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["object"].to_string())
        .collect();
    assert_eq!(objects.len(), 4, "{json}");
    for other in ["192.168.20.1", "2001:db8:20::1", "50", "daemon"] {
        assert!(
            !objects.iter().any(|o| o.contains(other)),
            "{other}: {json}"
        );
    }
    let merge = Test::new()
        .args([
            "plan",
            &format!("{SCOPE}/web-emptied.rhai"),
            "--state",
            &state,
        ])
        .args(["--merge"])
        .run()
        .stdout;
    assert!(
        merge.ends_with(&format!(
            "No changes. The state file `{state}` matches the script.\n"
        )),
        "{merge}"
    );
}

#[test]
fn a_command_line_scope_acts_as_if_the_script_declared_it() {
    let state = format!("{SCOPE}/director.json");
    let script = std::fs::read_to_string(root().join(SCOPE).join("web.rhai")).unwrap();
    let unscoped: String = script
        .lines()
        .filter(|l| !l.starts_with("owns"))
        .map(|l| format!("{l}\n"))
        .collect();
    Test::new()
        .args(["--scope", "192.168.10.0/24", "--scope", "mark:10-19"])
        .args(["plan", "-", "--state", &state])
        .stdin(&unscoped)
        .stdout_golden("scope/web.plan")
        .run();
    // Without a scope the script describes the whole table again.
    let whole = Test::new()
        .args(["plan", "-", "--state", &state])
        .stdin(&unscoped)
        .run()
        .stdout;
    for gone in [
        "- service tcp 192.168.20.1:80",
        "- service udp [2001:db8:20::1]:53",
        "- mark 50",
        "- sync daemon master",
    ] {
        assert!(
            whole.lines().any(|l| l.starts_with(gone)),
            "{gone}:\n{whole}"
        );
    }
    Test::new()
        .args([
            "check",
            &format!("{SCOPE}/web.rhai"),
            "--scope",
            "2001:db8::/64",
        ])
        .stdout(&format!(
            "{SCOPE}/web.rhai: ok, 3 services (2 fwmark), 4 real servers, 2 nft mark rules, \
             owns 192.168.10.0/24, 2001:db8::/64 and marks 10-19\n"
        ))
        .run();
}

#[test]
fn objects_outside_a_command_line_scope_are_errors() {
    Test::new()
        .args(["--scope", "mark:10-19", "check", "-"])
        .stdin("service(\"10.0.0.1\", 80);\nmark(12).vip(\"10.0.0.2\");\n")
        .status(1)
        .stderr_contains(&[
            "service tcp 10.0.0.1:80 is outside the script's scope",
            "<stdin>:1:1",
            "this script owns only marks 10-19; add `owns(\"10.0.0.1\")`",
        ])
        .run();
    for (spec, says) in [
        ("192.168.10.1/24", "did you mean `192.168.10.0/24`"),
        ("mark:0", "fwmark 0 is not a mark"),
        ("mark:20-10", "runs backwards"),
        ("web", "is not an address, a prefix or `mark:N`"),
    ] {
        Test::new()
            .args(["--scope", spec, "check", "scripts/ppc.rhai"])
            .status(1)
            .stderr_contains(&["--scope <SPEC>", says])
            .run();
    }
    Test::new()
        .args(["--scope", "10.0.0.1", "repl", "--empty"])
        .status(1)
        .stderr_contains(&["`--scope` scopes a script, and the REPL works on the whole table"])
        .run();
}

/// `lvsh history` reads the journal of the namespace asked for, under
/// `LVSH_STATE_DIR`, and needs no kernel.
#[test]
fn history_lists_the_journal_and_says_when_it_is_empty() {
    use lvsh::apply::{Header, Journal, Outcome, SnapshotOut};
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_str().unwrap();
    Test::new()
        .env("LVSH_STATE_DIR", state)
        .args(["--netns", "lb1", "history"])
        .stdout(&format!(
            "No applies recorded in `{state}/netns-lb1/journal`.\n"
        ))
        .run();
    let journal = Journal::at(dir.path().join("netns-lb1/journal"));
    let before = Default::default();
    let snapshot = SnapshotOut {
        before: &before,
        foreign: &[],
        plan: serde_json::json!({"changes": []}),
    };
    for (command, outcome) in [("apply", Some(Outcome::Applied)), ("apply", None)] {
        let id = journal
            .begin(
                Header {
                    id: 0,
                    command: command.into(),
                    started: 1_796_300_000,
                    user: "ops".into(),
                    pid: 7,
                    script: Some("site.rhai".into()),
                    script_sha256: Some(format!("sha256:{}", "0f".repeat(32))),
                    added: 3,
                    changed: 1,
                    deleted: 0,
                },
                &snapshot,
            )
            .unwrap();
        if let Some(o) = outcome {
            journal.finish(id, o, "").unwrap();
        }
    }
    Test::new()
        .env("LVSH_STATE_DIR", state)
        .args(["--netns", "lb1", "history"])
        .stdout(
            "ID  STARTED                  USER  WHAT                            CHANGES   OUTCOME\n\
             1   2026-12-03 12:13:20 UTC  ops   apply site.rhai (0f0f0f0f0f0f)  +3 ~1 -0  applied\n\
             2   2026-12-03 12:13:20 UTC  ops   apply site.rhai (0f0f0f0f0f0f)  +3 ~1 -0  CUT OFF (or running)\n",
        )
        .run();
    Test::new()
        .env("LVSH_STATE_DIR", state)
        .args(["--netns", "lb1", "history", "--json"])
        .stdout_contains(&["\"outcome\": \"applied\"", "\"outcome\": null"])
        .run();
}

/// A line of half a megabyte shows as a window around its span, in every kind of
/// report; a value as long is cut in the message.
#[test]
fn long_lines_are_cut_in_every_report() {
    let long = "x".repeat(500_000);
    let cases = [
        (
            "script",
            vec!["check", "-"],
            format!("service(\"10.0.0.1\", 80).scheduler(\"{long}\");\n"),
        ),
        (
            "syntax",
            vec!["check", "-"],
            format!("let a = ; // {long}\n"),
        ),
        (
            "problem",
            vec!["check", "-"],
            format!("let s = \"{long}\"; service(\"10.0.0.1\", 0);\n"),
        ),
        (
            "import",
            vec!["import", "-"],
            format!("-A -t 10.0.0.1:80 -s {long}\n"),
        ),
    ];
    for (name, args, input) in cases {
        let out = Test::new()
            .args(args)
            .stdin(&input)
            .status(1)
            .stderr_golden(&format!("long_lines/{name}.stderr"))
            .run();
        assert!(out.stderr.len() < 2000, "{name}: {}", out.stderr.len());
    }
    // A report quotes a value of the command line: cut too.
    let name = "y".repeat(100_000);
    let out = Test::new()
        .args(["check", "-", "--set", &format!("{name}=1")])
        .stdin("service(\"10.0.0.1\", 80);")
        .status(1)
        .stderr_any()
        .run();
    assert!(out.stderr.len() < 400, "{}", out.stderr);
    assert!(
        // "..." when stderr is not a terminal.
        out.stderr.contains("`--set yyy") && out.stderr.contains("y...y"),
        "{}",
        out.stderr
    );
}

/// A state file on one long line (minified JSON) with a bad entry far into it.
#[test]
fn a_long_state_file_line_is_cut_around_the_bad_entry() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.json");
    let service = |i: u32, sched: &str| {
        format!(
            r#"{{"protocol":"tcp","address":"10.{}.{}.1","port":80,"scheduler":"{sched}"}}"#,
            i / 256,
            i % 256
        )
    };
    let mut services: Vec<String> = (0..8000).map(|i| service(i, "rr")).collect();
    services.push(service(8000, "RR"));
    std::fs::write(
        &state,
        format!(r#"{{"services":[{}]}}"#, services.join(",")),
    )
    .unwrap();
    let out = Test::new()
        .args([
            "plan",
            "scripts/ppc.rhai",
            "--state",
            state.to_str().unwrap(),
        ])
        .status(1)
        .stderr_any()
        .run();
    assert!(out.stderr.len() < 2000, "{}", out.stderr.len());
    let text = unwrapped(&out.stderr);
    assert!(
        text.contains("`services[8000].scheduler`: unknown value `RR`, did you mean `rr`?"),
        "{text}"
    );
    assert!(text.contains("s.json:1:"), "{text}");
    assert!(text.contains("1 ...er\":\"rr\"}"), "{text}");
    assert!(text.contains("\"scheduler\":\"RR\"}]}"), "{text}");
}

/// Which entry of a state file is wrong, what is wrong, and where: no serde words.
#[test]
fn a_bad_state_file_entry_is_named_and_shown() {
    let good = std::fs::read_to_string("tests/fixtures/scope/director.json").unwrap();
    let cases = [
        (
            "missing_protocol",
            good.replacen("\"protocol\": \"tcp\",", "", 1),
        ),
        (
            "port_not_a_number",
            good.replacen("\"port\": 80", "\"port\": \"eighty\"", 1),
        ),
        (
            "scheduler_case",
            good.replacen("\"scheduler\": \"rr\"", "\"scheduler\": \"RR\"", 1),
        ),
        ("not_json", good[..good.len() / 2].to_string()),
    ];
    for (name, text) in cases {
        assert_ne!(text, good, "{name}: the fixture changed");
        Test::new()
            .args(["plan", "scripts/ppc.rhai", "--state", "-"])
            .stdin(&text)
            .status(1)
            .stderr_golden(&format!("state_file/{name}.stderr"))
            .run();
    }
}

/// `-q` leaves errors only: no warnings, notices or script output.
#[test]
fn quiet_leaves_only_errors() {
    let warned = "tests/warnings/pe_sip_on_tcp.rhai";
    for args in [
        vec!["-q", "check", warned],
        vec!["check", warned, "--quiet"],
        vec!["-q", "emit", warned, "--to", "json"],
        vec!["-q", "emit", warned, "--to", "ipvsadm"],
        vec!["-q", "plan", warned, "--empty"],
    ] {
        Test::new().args(&args).stderr("").run();
    }
    Test::new()
        .args(["-q", "check", "-"])
        .stdin("print(\"hello\"); service(\"10.0.0.1\", 80).pe(\"sip\").persist();")
        .stdout("")
        .stderr("")
        .run();
    // Errors still show.
    Test::new()
        .args(["-q", "check", "tests/invalid/unknown_scheduler.rhai"])
        .status(1)
        .stderr_contains(&["unknown scheduler `rrr`"])
        .run();
}

/// `apply --skip-empty` of a script of comments (the shipped /etc/lvsh/lvsh.rhai)
/// says so and changes nothing: it does not even open the kernel, so it succeeds
/// here, without root or IPVS.
#[test]
fn apply_skip_empty_changes_nothing_for_a_script_that_declares_nothing() {
    Test::new()
        .args(["apply", "--yes", "--skip-empty", "packaging/lvsh.rhai"])
        .stderr(
            "`packaging/lvsh.rhai`: the script declares no services, marks, timeouts, sync \
             daemons or sysctls; --skip-empty: nothing was changed, and the kernel was not read\n",
        )
        .run();
    Test::new()
        .args(["apply", "--yes", "--skip-empty", "-q", "-"])
        .stdin("// nothing yet\n")
        .stderr("")
        .run();
}

/// `--skip-empty` still reports a broken script (it is evaluated first).
#[test]
fn apply_skip_empty_reports_a_broken_script() {
    Test::new()
        .args(["apply", "--yes", "--skip-empty", "-"])
        .stdin("service(\n")
        .status(1)
        .stderr_any()
        .run();
}

/// `lvsh man` prints roff pages; `lvsh man --dir` writes one per command.
#[test]
fn man_pages_for_lvsh_and_each_command() {
    Test::new()
        .args(["man"])
        .stdout_contains(&[".TH lvsh 8", "lvsh\\-apply(8)"])
        .run();
    Test::new()
        .args(["man", "apply"])
        .stdout_contains(&[".TH lvsh-apply 8  \"lvsh 0.", "\\-\\-skip\\-empty"])
        .run();
    let dir = tempfile::tempdir().unwrap();
    Test::new()
        .args(["man", "--dir", dir.path().to_str().unwrap()])
        .run();
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    assert_eq!(pages.len(), 19, "{pages:?}");
    assert!(pages.contains(&"lvsh.8".to_string()), "{pages:?}");
    Test::new()
        .args(["man", "nosuch"])
        .status(1)
        .stderr_contains(&["nosuch", "possible values"])
        .run();
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F _lvsh"),
        ("zsh", "#compdef lvsh"),
        ("fish", "complete -c lvsh"),
        ("elvish", "edit:completion:arg-completer[lvsh]"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        Test::new()
            .args(["completions", shell])
            .stdout_contains(&[marker, "undrain"])
            .run();
    }
}

/// The site values files of scripts/sites: each names scripts/sites/site.rhai.
const SITES: &[&str] = &["ams1.toml", "fra1.toml", "nyc1.json"];

#[test]
fn every_site_in_the_sites_folder_is_tested() {
    let mut found: Vec<String> = std::fs::read_dir(root().join("scripts/sites"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml") || n.ends_with(".json"))
        .collect();
    found.sort();
    assert_eq!(found, SITES, "add new sites to SITES in tests/cli.rs");
}

/// A values file as the command's FILE: the script it names runs with its values
/// (and its shared layer's); `values explain` says where each value comes from.
#[test]
fn sites_plan_from_their_values_files() {
    for site in SITES {
        let stem = site.split('.').next().unwrap();
        let file = format!("scripts/sites/{site}");
        Test::new()
            .args(["plan", "--empty", &file])
            .stdout_golden(&format!("sites/{stem}.plan"))
            .run();
        Test::new()
            .args(["check", &file])
            .stdout_golden(&format!("sites/{stem}.check"))
            .run();
        Test::new()
            .args(["values", "explain", &file])
            .stdout_golden(&format!("sites/{stem}.explain"))
            .run();
    }
    Test::new()
        .args(["values", "explain", "scripts/sites/ams1.toml", "persist"])
        .stdout_golden("sites/ams1.persist.explain")
        .run();
    // The same values, as ipvsadm would restore them.
    Test::new()
        .args(["emit", "scripts/sites/fra1.toml", "--to", "ipvsadm"])
        .stdout_contains(&["-A -f 10 -s mh -p 1800"])
        .stderr_golden("sites/fra1.ipvsadm.stderr")
        .run();
}

/// Every bad values file is reported at its file and line, with the declaration
/// in the script as a note where there is one.
#[test]
fn bad_values_point_at_their_line() {
    for name in [
        "unknown_key",
        "wrong_type",
        "range",
        "pinned",
        "bad_syntax",
        "missing_script",
        "missing_param",
        "values_inside_lvsh",
        "wrong_type.json",
    ] {
        let file = if name.contains('.') {
            format!("tests/values/{name}")
        } else {
            format!("tests/values/{name}.toml")
        };
        Test::new()
            .args(["plan", "--empty", &file])
            .status(1)
            .stdout("")
            .stderr_golden(&format!("values/{name}.stderr"))
            .run();
    }
    Test::new()
        .args(["check", "tests/values/ok.toml", "--set", "scheduler=rr"])
        .status(1)
        .stdout("")
        .stderr_golden("values/pinned_by_set.stderr")
        .run();
    Test::new()
        .args(["values", "explain", "tests/values/ok.toml", "prot"])
        .status(1)
        .stdout("")
        .stderr_golden("values/explain_unknown.stderr")
        .run();
    Test::new()
        .args(["values", "explain", "tests/values/site.rhai"])
        .status(1)
        .stdout("")
        .stderr_golden("values/explain_a_script.stderr")
        .run();
}

/// `--values` layers come after the site file and before `--set`; they also work
/// with a plain script.
#[test]
fn values_layers_apply_in_order() {
    Test::new()
        .args([
            "plan",
            "--empty",
            "tests/values/ok.toml",
            "--values",
            "tests/values/more.toml",
        ])
        .stdout_contains(&["+ service tcp 192.0.2.1:8443  mh"])
        .run();
    Test::new()
        .args([
            "plan",
            "--empty",
            "tests/values/ok.toml",
            "--values",
            "tests/values/more.toml",
            "--set",
            "port=9000",
        ])
        .stdout_contains(&["+ service tcp 192.0.2.1:9000  mh"])
        .run();
    Test::new()
        .args([
            "values",
            "explain",
            "tests/values/ok.toml",
            "--values",
            "tests/values/more.toml",
            "--set",
            "vip=192.0.2.9",
        ])
        .stdout_golden("values/ok_layers.explain")
        .run();
    Test::new()
        .args([
            "check",
            "tests/values/site.rhai",
            "--values",
            "tests/values/shared.toml",
            "--set",
            "vip=192.0.2.3",
        ])
        .stdout("tests/values/site.rhai: ok, 1 service, 1 real server\n")
        .run();
    // The REPL starts from the site's script, with the same values.
    Test::new()
        .args([
            "repl",
            "--empty",
            "tests/values/ok.toml",
            "--values",
            "tests/values/more.toml",
        ])
        .stdin("param(\"port\")\n:plan\n")
        .stdout_contains(&["8443", "+ service tcp 192.0.2.1:8443  mh"])
        .stderr("note: 2 changes are not applied\n")
        .run();
    Test::new()
        .args(["repl", "--empty", "tests/values/range.toml"])
        .stdin(":plan\n")
        .status(1)
        .stderr_contains(&["range.toml:2:8", "out of range"])
        .run();
    Test::new()
        .args(["history", "--values", "tests/values/more.toml"])
        .status(1)
        .stdout("")
        .stderr_contains(&["`--values` means nothing"])
        .run();
}

/// The evaluation cache: a hit prints what the evaluation printed, byte for byte,
/// and any input that changes (the script, an imported module, `--set`, `--scope`)
/// means a fresh evaluation. `-v` says which it was.
#[test]
fn the_cache_answers_only_for_unchanged_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let cache = cache.to_str().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "site.rhai",
        r#"import "pool" as pool;
let n = param("n", 2);
print(`n = ${n}`);
pool::web("192.0.2.1", n);
service("192.0.2.1", 443).rs(rs("10.0.0.1").dr().weight(0));
"#,
    );
    write(
        "pool.rhai",
        r#"fn web(vip, n) { let s = service(vip, 80); for i in 1..=n { s.rs(rs(`10.0.0.${i}`).dr()); } }"#,
    );
    let run = |args: &[&str]| {
        let mut all = vec!["-v"];
        all.extend_from_slice(args);
        let out = Test::new()
            .current_dir(dir.path())
            .env("LVSH_CACHE_DIR", cache)
            .args(all)
            .stderr_any()
            .run();
        let from_cache = out.stderr.contains("cache: `site.rhai` from the cache");
        assert!(
            from_cache || out.stderr.contains("cache: `site.rhai` evaluated"),
            "{}",
            out.stderr
        );
        let rest: String = out
            .stderr
            .lines()
            .filter(|l| !l.starts_with("cache: "))
            .map(|l| format!("{l}\n"))
            .collect();
        (from_cache, out.stdout, rest)
    };
    let check = ["check", "site.rhai"];
    let (hit, out, err) = run(&check);
    assert!(!hit);
    assert_eq!(out, "site.rhai: ok, 2 services, 3 real servers\n");
    assert!(err.starts_with("n = 2\n"), "{err}");
    assert_eq!(run(&check), (true, out.clone(), err.clone()));
    // Without -v, a hit and a miss print the same.
    let plain = |args: &[&str]| {
        Test::new()
            .current_dir(dir.path())
            .env("LVSH_CACHE_DIR", cache)
            .args(args)
            .stderr_any()
            .run()
    };
    let hit = plain(&check);
    let miss = plain(&["check", "site.rhai", "--no-cache"]);
    assert_eq!((hit.stdout, hit.stderr), (miss.stdout, miss.stderr));
    // The entry is the evaluation's, whichever command made it.
    let (hit, plan, _) = run(&["plan", "site.rhai", "--empty"]);
    assert!(hit, "check filled the entry plan uses");
    assert!(plan.contains("+ service tcp 192.0.2.1:80"), "{plan}");

    // Each input, one at a time.
    assert!(!run(&["check", "site.rhai", "--set", "n=3"]).0, "--set");
    assert!(run(&["check", "site.rhai", "--set", "n=3"]).0);
    assert!(
        !run(&["check", "site.rhai", "--set", "n=4"]).0,
        "--set value"
    );
    assert!(
        !run(&["check", "site.rhai", "--scope", "192.0.2.0/24"]).0,
        "--scope"
    );
    assert!(run(&check).0);
    write(
        "pool.rhai",
        r#"fn web(vip, n) { let s = service(vip, 80).scheduler("wrr"); for i in 1..=n { s.rs(rs(`10.0.0.${i}`).dr()); } }"#,
    );
    let (hit, _, _) = run(&check);
    assert!(!hit, "module");
    let (hit, plan, _) = run(&["plan", "site.rhai", "--empty"]);
    assert!(hit);
    assert!(
        plan.lines()
            .any(|l| l.starts_with("+ service tcp 192.0.2.1:80 ") && l.ends_with("wrr")),
        "{plan}"
    );
    write(
        "site.rhai",
        &std::fs::read_to_string(dir.path().join("site.rhai"))
            .unwrap()
            .replace("443", "8443"),
    );
    assert!(!run(&check).0, "script");
    assert!(run(&check).0);
    // --no-cache evaluates even then.
    assert!(!run(&["check", "site.rhai", "--no-cache"]).0);
    let entries = || std::fs::read_dir(cache).unwrap().count();
    let before = entries();
    let out = Test::new()
        .current_dir(dir.path())
        .env("LVSH_CACHE_DIR", cache)
        .args(["-v", "check", "site.rhai", "--no-cache", "--set", "n=5"])
        .stderr_any()
        .run();
    assert!(
        out.stderr
            .contains("cache: `site.rhai` evaluated, without a cache"),
        "{}",
        out.stderr
    );
    assert_eq!(entries(), before, "--no-cache stores nothing");

    // A spoilt entry is a miss, not an error.
    for e in std::fs::read_dir(cache).unwrap() {
        std::fs::write(e.unwrap().path(), "{\"format\":").unwrap();
    }
    assert!(!run(&check).0, "corrupt entry");
    assert!(run(&check).0);
}

#[test]
fn no_cache_is_refused_for_commands_that_run_no_script() {
    Test::new()
        .args(["history", "--no-cache"])
        .status(1)
        .stderr_contains(&["`--no-cache` means nothing: `lvsh history` runs no script"])
        .run();
}

/// Runs at the same time share the cache safely: each writes its entry beside and
/// renames it over, so every run reads a whole entry or none.
#[test]
fn concurrent_runs_share_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let script = dir.path().join("site.rhai");
    let mut text = String::new();
    for i in 1..=200 {
        text.push_str(&format!(
            "service(\"10.1.0.{}\", {}).rs(rs(\"10.2.0.1\").nat()).rs(rs(\"10.2.0.2\").nat());\n",
            i % 250 + 1,
            1000 + i
        ));
    }
    std::fs::write(&script, text).unwrap();
    let expected = "ok, 200 services, 400 real servers\n";
    for round in 0..3 {
        let children: Vec<_> = (0..8)
            .map(|_| {
                std::process::Command::new(env!("CARGO_BIN_EXE_lvsh"))
                    .args(["check", script.to_str().unwrap()])
                    .env("LVSH_CACHE_DIR", &cache)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}: {out:?}");
            assert!(
                String::from_utf8_lossy(&out.stdout).ends_with(expected),
                "round {round}: {out:?}"
            );
            assert!(out.stderr.is_empty(), "round {round}: {out:?}");
        }
    }
    let names: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "one entry and no temporary file: {names:?}");
}

/// A site's values are part of the cache's key: changing a value in the site file
/// or adding a `--values` file evaluates again.
#[test]
fn the_cache_answers_only_for_unchanged_site_values() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "site.rhai",
        r#"const PARAMS = #{ weight: #{ type: "weight", "default": 1 } };
service("192.0.2.1", 80).rs(rs("10.0.0.1").dr().weight(param("weight")));
"#,
    );
    write(
        "ams1.toml",
        "weight = 2\n\n[lvsh]\nscript = \"site.rhai\"\n",
    );
    write("more.toml", "weight = 5\n");
    let plan = |extra: &[&str]| {
        let mut args = vec!["-v", "plan", "--empty", "ams1.toml"];
        args.extend_from_slice(extra);
        let out = Test::new()
            .current_dir(dir.path())
            .env("LVSH_CACHE_DIR", cache.to_str().unwrap())
            .args(args)
            .stderr_any()
            .run();
        let hit = out.stderr.contains("from the cache");
        let weight = out
            .stdout
            .lines()
            .find(|l| l.contains("rs 10.0.0.1"))
            .unwrap();
        (hit, weight.split_whitespace().last().unwrap().to_string())
    };
    assert_eq!(plan(&[]), (false, "2".into()));
    assert_eq!(plan(&[]), (true, "2".into()));
    assert_eq!(plan(&["--values", "more.toml"]), (false, "5".into()));
    write(
        "ams1.toml",
        "weight = 3\n\n[lvsh]\nscript = \"site.rhai\"\n",
    );
    assert_eq!(plan(&[]), (false, "3".into()));
    write("more.toml", "weight = 6\n");
    assert_eq!(plan(&["--values", "more.toml"]), (false, "6".into()));
}

/// What `lvsh import` writes (the fixtures' expected scripts) is read by the
/// evaluator of literal statements, not by rhai: `-v` says so. A loop is rhai's.
#[test]
fn imported_scripts_are_read_without_rhai() {
    let dir = root().join("tests/fixtures/ipvsadm");
    let mut seen = 0;
    for path in files(&dir, "rhai") {
        let out = Test::new()
            .args(["-v", "--no-cache", "check", path.to_str().unwrap()])
            .stderr_any()
            .run();
        assert!(
            out.stderr.contains("; literal statements, without rhai"),
            "{}: {}",
            path.display(),
            out.stderr
        );
        seen += 1;
    }
    assert!(seen >= 5, "{seen} scripts in {}", dir.display());
    let out = Test::new()
        .args(["-v", "--no-cache", "check", &script("generated")])
        .stderr_any()
        .run();
    assert!(
        out.stderr.contains("evaluated, without a cache (engine "),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("literal statements"), "{}", out.stderr);
}
