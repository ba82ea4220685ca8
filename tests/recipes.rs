//! Recipe libraries, offline: the example site and library, verification on every
//! run, and one golden per error (`tests/golden/recipes/`, `LVSH_BLESS=1`
//! rewrites them). Broken sites are copies of `examples/recipes/site` in a temp
//! directory, run from there so the goldens hold relative paths only.

mod support;

use std::{fs, path::Path};
use support::{Test, root};

const SITES: &[&str] = &["ams1", "fra1", "nyc1"];

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A copy of the example site (vendoring acme 1.0.0).
fn site() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples/recipes/site"), d.path());
    d
}

fn write(dir: &Path, path: &str, text: &str) {
    let p = dir.join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

/// `lvsh ARGS` in `dir`: exit 1 and stderr as the golden `recipes/NAME.stderr`.
fn fails(dir: &Path, name: &str, args: &[&str]) {
    Test::new()
        .current_dir(dir)
        .args(args)
        .status(1)
        .stderr_golden(&format!("recipes/{name}.stderr"))
        .run();
}

#[test]
fn the_example_sites_plan_from_empty() {
    for s in SITES {
        let file = format!("examples/recipes/site/sites/{s}.toml");
        Test::new()
            .args(["plan", "--empty", &file])
            .stdout_golden(&format!("recipes/{s}.plan"))
            .run();
    }
    Test::new()
        .args(["check", "examples/recipes/site/sites/ams1.toml"])
        .stdout_golden("recipes/ams1.check")
        .run();
}

#[test]
fn the_vendored_copy_verifies_and_is_the_library() {
    Test::new()
        .current_dir(&root().join("examples/recipes/site"))
        .args(["recipes", "verify"])
        .stdout_golden("recipes/verify.out")
        .run();
    let lib = Test::new()
        .args(["recipes", "hash", "examples/recipes/lib"])
        .stdout_golden("recipes/hash.out")
        .run()
        .stdout;
    let vendored = Test::new()
        .args(["recipes", "hash", "examples/recipes/site/vendor/lvsh/acme"])
        .run()
        .stdout;
    assert_eq!(
        lib, vendored,
        "vendor/lvsh/acme is a copy of examples/recipes/lib"
    );
    let hash = lib.lines().last().unwrap();
    let lock = fs::read_to_string(root().join("examples/recipes/site/lvsh.lock")).unwrap();
    assert!(lock.contains(&format!("hash = \"{hash}\"")), "{lock}");
    let sums = fs::read_to_string(root().join("examples/recipes/site/vendor/lvsh/acme.sums"));
    assert_eq!(
        sums.unwrap(),
        lib.strip_suffix(&format!("{hash}\n")).unwrap()
    );
}

#[test]
fn a_tampered_vendored_copy_is_refused_with_its_files() {
    let d = site();
    let acme = d.path().join("vendor/lvsh/acme");
    fs::write(
        acme.join("recipes/dr_web.rhai"),
        fs::read_to_string(acme.join("recipes/dr_web.rhai"))
            .unwrap()
            .replace("1200", "120"),
    )
    .unwrap();
    fails(d.path(), "tampered_modified", &["check", "sites/ams1.toml"]);
    write(&acme, "recipes/extra.rhai", "fn x() {}\n");
    fs::remove_file(acme.join("CHANGELOG.md")).unwrap();
    fails(
        d.path(),
        "tampered_all",
        &["plan", "--empty", "sites/fra1.toml"],
    );
    fails(d.path(), "verify_tampered", &["recipes", "verify"]);
}

#[test]
fn a_missing_or_stale_lock_says_to_lock() {
    let d = site();
    fs::remove_file(d.path().join("lvsh.lock")).unwrap();
    fails(d.path(), "lock_missing", &["check", "site.rhai"]);

    let d = site();
    let toml = fs::read_to_string(d.path().join("lvsh.toml")).unwrap();
    fs::write(d.path().join("lvsh.toml"), toml.replace("^1.0", "^1.1")).unwrap();
    fails(d.path(), "lock_stale_requested", &["check", "site.rhai"]);

    let d = site();
    fs::write(
        d.path().join("lvsh.toml"),
        format!("{toml}extra = {{ git = \"file:///srv/git/extra.git\" }}\n"),
    )
    .unwrap();
    fails(
        d.path(),
        "lock_stale_added",
        &["emit", "site.rhai", "--to", "json"],
    );
}

#[test]
fn a_cached_copy_is_verified_too() {
    let d = site();
    let cache = tempfile::tempdir().unwrap();
    // The locked hash, read from the lock (the example library changes with its tests).
    let lock = fs::read_to_string(d.path().join("lvsh.lock")).unwrap();
    let hash = lock
        .lines()
        .find_map(|l| l.strip_prefix("hash = \"sha256tree:"))
        .and_then(|h| h.strip_suffix('"'))
        .unwrap();
    let tree = cache.path().join("recipes").join(hash);
    copy_dir(&d.path().join("vendor/lvsh/acme"), &tree);
    fs::copy(
        d.path().join("vendor/lvsh/acme.sums"),
        cache.path().join(format!("recipes/{hash}.sums")),
    )
    .unwrap();
    fs::remove_dir_all(d.path().join("vendor")).unwrap();
    let cache_env = cache.path().to_str().unwrap();
    Test::new()
        .current_dir(d.path())
        .env("LVSH_CACHE_DIR", cache_env)
        .args(["check", "sites/nyc1.toml"])
        .stdout_golden("recipes/nyc1.check")
        .run();
    fs::write(tree.join("recipes/nat_farm.rhai"), "// emptied\n").unwrap();
    let out = Test::new()
        .current_dir(d.path())
        .env("LVSH_CACHE_DIR", cache_env)
        .args(["check", "sites/nyc1.toml"])
        .status(1)
        .stderr_any()
        .run();
    // The cache's path is a temp dir: compare the rest.
    let stderr = out.stderr.replace(cache_env, "CACHE");
    support::golden_text("recipes/cache_tampered.stderr", &stderr);
    fs::remove_dir_all(&tree).unwrap();
    let out = Test::new()
        .current_dir(d.path())
        .env("LVSH_CACHE_DIR", cache_env)
        .args(["check", "sites/nyc1.toml"])
        .status(1)
        .stderr_any()
        .run();
    support::golden_text(
        "recipes/cache_missing.stderr",
        &out.stderr.replace(cache_env, "CACHE"),
    );
}

#[test]
fn imports_of_libraries_are_checked() {
    let d = site();
    write(
        d.path(),
        "unknown.rhai",
        "import \"@acme/dr_web\" as web;\nimport \"@acme2/x\" as x;\n",
    );
    fails(d.path(), "unknown_library", &["check", "unknown.rhai"]);
    write(
        d.path(),
        "escape.rhai",
        "import \"@acme/../lvsh-lib\" as x;\n",
    );
    fails(d.path(), "import_escapes", &["check", "escape.rhai"]);
    write(
        d.path(),
        "nomodule.rhai",
        "import \"@acme/dr_webb\" as x;\n",
    );
    fails(d.path(), "no_such_module", &["check", "nomodule.rhai"]);
    write(d.path(), "self.rhai", "import \"@self/dr_web\" as x;\n");
    fails(d.path(), "self_outside_library", &["check", "self.rhai"]);
    write(
        d.path(),
        "bad_arg.rhai",
        "import \"@acme/dr_web\" as web;\nweb::web(#{ mark: 10, vip: \"192.0.2.10\",\n    servers: [] });\n",
    );
    fails(d.path(), "bad_argument", &["check", "bad_arg.rhai"]);
    write(
        d.path(),
        "twice.rhai",
        "import \"@acme/dr_web\" as web;\n\
         web::web(#{ mark: 10, vip: \"192.0.2.10\", servers: [\"10.0.0.1\"] });\n\
         web::web(#{ mark: 10, vip: \"192.0.2.11\", servers: [\"10.0.0.2\"] });\n",
    );
    fails(d.path(), "problem_inside_library", &["check", "twice.rhai"]);

    let bare = tempfile::tempdir().unwrap();
    write(
        bare.path(),
        "site.rhai",
        "import \"@acme/dr_web\" as web;\n",
    );
    fails(bare.path(), "no_manifest", &["check", "site.rhai"]);
}

/// A site developing `acme` next to it: `path = "lib"`.
fn unlocked_site() -> tempfile::TempDir {
    let d = site();
    fs::remove_dir_all(d.path().join("vendor")).unwrap();
    fs::remove_file(d.path().join("lvsh.lock")).unwrap();
    copy_dir(&root().join("examples/recipes/lib"), &d.path().join("lib"));
    write(
        d.path(),
        "lvsh.toml",
        "[libraries]\nacme = { path = \"lib\" }\n",
    );
    d
}

#[test]
fn unlocked_libraries_warn_and_apply_refuses_them() {
    let d = unlocked_site();
    Test::new()
        .current_dir(d.path())
        .args(["check", "sites/fra1.toml"])
        .stdout_golden("recipes/unlocked.check")
        .stderr_golden("recipes/unlocked_warning.stderr")
        .run();
    fails(
        d.path(),
        "unlocked_apply",
        &["apply", "--skip-empty", "--dry-run", "sites/fra1.toml"],
    );
    // A bug inside the library is blamed on it, with its version.
    write(
        d.path(),
        "lib/recipes/bug.rhai",
        "const RECIPE = #{ web: #{ params: #{ vip: #{ type: \"ip\" } } } };\n\
         fn web(p) {\n    let p = args(p);\n    service(p.vip, 80).rs(rs(\"10.0.1.x\"))\n}\n",
    );
    write(
        d.path(),
        "bug.rhai",
        "import \"@acme/bug\" as b;\nb::web(#{ vip: \"192.0.2.10\" });\n",
    );
    fails(d.path(), "recipe_bug", &["check", "bug.rhai"]);
    write(
        d.path(),
        "lib/lvsh-lib.toml",
        "[library]\nname = \"acme\"\nrequires-lvsh = \">=99.0\"\n",
    );
    fails(d.path(), "requires_lvsh", &["check", "site.rhai"]);
}

#[test]
fn recipes_list_names_status_and_entry_points() {
    let site_dir = root().join("examples/recipes/site");
    Test::new()
        .current_dir(&site_dir)
        .args(["recipes", "list"])
        .stdout_golden("recipes/list.out")
        .run();
    Test::new()
        .current_dir(&site_dir)
        .args(["recipes", "list", "--json"])
        .stdout_golden("recipes/list.json")
        .run();
    let d = site();
    write(
        d.path(),
        "vendor/lvsh/acme/recipes/extra.rhai",
        "fn x() {}\n",
    );
    let out = Test::new()
        .current_dir(d.path())
        .args(["recipes", "list"])
        .run();
    assert!(
        out.stdout
            .starts_with("acme 1.0.0  git+file:///srv/git/lvs-recipes.git  modified\n"),
        "{}",
        out.stdout
    );
    fs::remove_dir_all(d.path().join("vendor/lvsh/acme")).unwrap();
    let out = Test::new()
        .current_dir(d.path())
        .args(["recipes", "list"])
        .run();
    assert_eq!(
        out.stdout,
        "acme 1.0.0  git+file:///srv/git/lvs-recipes.git  missing\n"
    );
    let d = unlocked_site();
    let out = Test::new()
        .current_dir(d.path())
        .args(["recipes", "list"])
        .run();
    assert!(
        out.stdout
            .starts_with("acme -  path+lib  unlocked\n  @acme/dr_web::web"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_lock_of_another_stdlib_is_a_warning() {
    let d = site();
    let lock = fs::read_to_string(d.path().join("lvsh.lock")).unwrap();
    let start = lock.find("stdlib = \"sha256tree:").unwrap() + 20;
    let other = format!(
        "{}{}{}",
        &lock[..start],
        "0".repeat(64),
        &lock[start + 64..]
    );
    fs::write(d.path().join("lvsh.lock"), other).unwrap();
    Test::new()
        .current_dir(d.path())
        .args(["check", "sites/fra1.toml"])
        .stderr_golden("recipes/stdlib_changed.stderr")
        .run();
}

#[test]
fn a_library_module_imports_inside_its_library() {
    let d = unlocked_site();
    write(
        d.path(),
        "lib/recipes/web/pair.rhai",
        "import \"ports\" as ports;\nimport \"@self/dr_web\" as web;\n\
         fn pair(vip, servers) { web::web(#{ mark: 30, vip: vip, servers: servers, ports: ports::WEB }) }\n",
    );
    write(
        d.path(),
        "lib/recipes/web/ports.rhai",
        "export const WEB = [80, 8443];\n",
    );
    // A file of the site with the same name is not what the library reads.
    write(d.path(), "ports.rhai", "export const WEB = [1];\n");
    write(
        d.path(),
        "pair.rhai",
        "import \"@acme/web/pair\" as p;\np::pair(\"192.0.2.30\", [\"10.0.3.1\"]);\n",
    );
    let out = Test::new()
        .current_dir(d.path())
        .args(["plan", "--empty", "pair.rhai"])
        .stderr_any()
        .run();
    assert!(
        out.stdout.contains("tcp dport {80, 8443} → fwmark 30"),
        "{}",
        out.stdout
    );
    // Standard input finds the site from the current directory.
    let out = Test::new()
        .current_dir(d.path())
        .args(["check", "-"])
        .stdin("import \"@acme/nat_farm\" as n;\nn::farm(#{ vip: \"192.0.2.1\", port: 80, backends: [\"10.0.0.1\"] });\n")
        .stderr_any()
        .run();
    assert!(out.stdout.contains("ok, 1 service"), "{}", out.stdout);
    // A library whose manifest names another library.
    write(
        d.path(),
        "lib/lvsh-lib.toml",
        "[library]\nname = \"other\"\n",
    );
    fails(d.path(), "wrong_name", &["check", "pair.rhai"]);
}

#[test]
fn the_repl_imports_the_site_libraries() {
    let out = Test::new()
        .current_dir(&root().join("examples/recipes/site"))
        .args(["repl", "--empty"])
        .stdin(
            "import \"@acme/dr_web\" as w;\n\
             w::web(#{ mark: 5, vip: \"192.0.2.9\", servers: [\"10.0.0.1\"] });\n:plan\n:quit\n",
        )
        .stderr_any()
        .run();
    assert!(out.stdout.contains("+ mark 5 "), "{}", out.stdout);
    // A tampered site does not start a session.
    let d = site();
    fs::remove_file(d.path().join("vendor/lvsh/acme/README.md")).unwrap();
    let out = Test::new()
        .current_dir(d.path())
        .args(["repl", "--empty"])
        .stdin(":quit\n")
        .status(1)
        .stderr_any()
        .run();
    assert!(out.stderr.contains("removed: README.md"), "{}", out.stderr);
}

#[test]
fn the_evaluation_cache_never_skips_verification() {
    let d = site();
    let run = |status: i32| {
        Test::new()
            .current_dir(d.path())
            .args(["check", "sites/ams1.toml"])
            .status(status)
            .stderr_any()
            .run()
    };
    run(0);
    run(0);
    let acme = d.path().join("vendor/lvsh/acme/recipes/dr_web.rhai");
    let text = fs::read_to_string(&acme).unwrap();
    fs::write(&acme, text.replace("1200", "60")).unwrap();
    let out = run(1);
    assert!(
        out.stderr.contains("modified: recipes/dr_web.rhai"),
        "{}",
        out.stderr
    );
    fs::write(&acme, text).unwrap();
    run(0);
}

#[test]
fn verify_warns_about_a_library_locked_but_no_longer_named() {
    let d = site();
    fs::write(d.path().join("lvsh.toml"), "[libraries]\n").unwrap();
    Test::new()
        .current_dir(d.path())
        .args(["recipes", "verify"])
        .stdout("no libraries in lvsh.toml\n")
        .stderr("warning: lvsh.lock also locks `acme`, which lvsh.toml no longer names; `lvsh recipes lock` drops it\n")
        .run();
}

#[test]
fn recipes_commands_outside_a_site_say_so() {
    let bare = tempfile::tempdir().unwrap();
    fails(bare.path(), "verify_no_site", &["recipes", "verify"]);
}
