//! The binary, end to end: golden stdout/stderr and exit codes. No kernel needed.

mod support;

use support::{Test, root};

const SCRIPTS: &[&str] = &[
    "ppc",
    "pcc",
    "pfmc",
    "dual-stack",
    "nat-farm",
    "generated",
    "recipes",
];

fn script(name: &str) -> String {
    format!("scripts/{name}.rhai")
}

#[test]
fn every_script_in_the_scripts_folder_is_tested() {
    let mut found: Vec<String> = std::fs::read_dir(root().join("scripts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    found.sort();
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
        Test::new()
            .args([
                "plan",
                &script(name),
                "--state",
                state,
                "--detailed-exitcode",
            ])
            .stdout("No changes. The kernel matches the script.\n")
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

#[test]
fn invalid_scripts_fail_with_a_pointed_diagnostic() {
    let dir = root().join("tests/invalid");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|x| x != "rhai") {
            continue;
        }
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

fn line_set(text: &str) -> std::collections::BTreeSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
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
/// gives the lines `ipvsadm -S -n` printed in the lab after restoring that file.
#[test]
fn import_then_emit_matches_what_the_kernel_saved() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = root().join("tests/fixtures/ipvsadm");
    let mut n = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let rules = entry.unwrap().path();
        if rules.extension().is_none_or(|x| x != "rules") {
            continue;
        }
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
        let saved = unsigned_fwmarks(&saved);
        assert_eq!(
            line_set(&emitted),
            line_set(&saved),
            "{}:\n{script}",
            rules.display()
        );
        n += 1;
    }
    assert!(n >= 5, "only {n} fixtures");
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
        ("netmask_without_persistence", one),
        ("pe_sip_on_tcp", one),
        ("pe_without_persistence", one),
    ] {
        let rel = format!("tests/warnings/{name}.rhai");
        Test::new()
            .args(["check", &rel])
            .stdout(&format!("{rel}: ok, {summary}\n"))
            .stderr_golden(&format!("warnings/{name}.stderr"))
            .run();
    }
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
