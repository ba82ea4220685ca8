//! `lvsh recipes test|doc|diff`: golden tests through the binary. Libraries and
//! sites are built in temp dirs (git repositories with fixed names and dates, so
//! commit ids in the goldens are stable); the temp dir's path is shown as `$TMP`.

mod support;

use std::{fs, path::Path, path::PathBuf};
use support::Test;

const WEB_V1: &str = r#"//! web: one HTTP service on port 80, direct routing.
const RECIPE = #{
    web: #{
        doc: "An HTTP service on `vip`:80.",
        returns: "Service",
        params: #{
            vip: #{ type: "ip" },
            servers: #{ type: "list<server>", min: 1 },
            scheduler: #{ type: "scheduler", "default": "wlc" },
            persist: #{ type: "seconds", "default": 1200 },
            weight: #{ type: "weight", "default": 1, doc: "of every server" },
        },
    },
};

fn web(p) {
    let p = args(p);
    let svc = service(p.vip, 80, "tcp").scheduler(p.scheduler).persist(p.persist);
    for s in p.servers {
        svc.rs(rs(s.addr).dr().weight(s.weight ?? p.weight));
    }
    svc
}
"#;

const TESTS: &[(&str, &str)] = &[
    (
        "web_defaults.rhai",
        "// expect-plan: web_defaults.plan\nimport \"@self/web\" as web;\nweb::web(#{ vip: \"192.0.2.10\", servers: [\"10.0.0.1\", \"10.0.0.2\"] });\n",
    ),
    (
        "web_no_servers.rhai",
        "// expect-error: 3:32 needs at least 1 item\nimport \"@self/web\" as web;\nweb::web(#{ vip: \"192.0.2.10\", servers: [] });\n",
    ),
    (
        "warned.rhai",
        "// A sorry server is never checked: lvsh warns.\n// expect-warning: ignores its `.check()`\n// expect-model: warned.json\nservice(\"192.0.2.40\", 80).check(tcp()).rs(rs(\"10.0.0.1\")).sorry(rs(\"10.0.0.9\").check(tcp()));\n",
    ),
    (
        "web_weight.rhai",
        "// Site-style: the values come from web_weight.toml.\nimport \"@acme/web\" as web;\nconst PARAMS = #{ vip: #{ type: \"ip\" } };\nweb::web(#{ vip: param(\"vip\"), servers: [\"10.0.0.1\"], weight: 2 });\n",
    ),
];

/// A library `lib/` (a git repository whose release v1.0.0 is served as the bare
/// `lib.git`), and a site `site/` with three sites using it.
struct Fx {
    tmp: tempfile::TempDir,
}

impl Fx {
    fn new() -> Fx {
        let fx = Fx {
            tmp: tempfile::tempdir().unwrap(),
        };
        fs::create_dir_all(fx.path("lib/recipes")).unwrap();
        fs::create_dir_all(fx.path("lib/tests")).unwrap();
        fx.write("lib/lvsh-lib.toml", "[library]\nname = \"acme\"\n");
        fx.write("lib/recipes/web.rhai", WEB_V1);
        fx.write(
            "lib/CHANGELOG.md",
            "# acme\n\n## 1.0.0\n\n- First release.\n",
        );
        for (name, text) in TESTS {
            fx.write(&format!("lib/tests/{name}"), text);
        }
        fx.write("lib/tests/web_weight.toml", "vip = \"192.0.2.20\"\n");
        // An example site: it must evaluate cleanly with its values file.
        fx.write(
            "lib/examples/site.rhai",
            "import \"@acme/web\" as web;\nconst PARAMS = #{ vip: #{ type: \"ip\" } };\nweb::web(#{ vip: param(\"vip\"), servers: [\"10.0.0.1\"] });\n",
        );
        fx.write(
            "lib/examples/site.toml",
            "vip = \"192.0.2.50\"\n\n[lvsh]\nscript = \"site.rhai\"\n",
        );
        fx
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap()
    }

    /// lvsh in `dir` (relative to the temp dir), with this fixture's cache.
    fn lvsh(&self, dir: &str, args: &[&str]) -> Test {
        Test::new()
            .args(args)
            .current_dir(&self.path(dir))
            .env("LVSH_CACHE_DIR", self.path("cache").to_str().unwrap())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
    }

    /// Runs expecting `status`; stdout and stderr with `$TMP` for the temp dir.
    fn run(&self, test: Test, status: i32) -> (String, String) {
        let out = test.status(status).stderr_any().run();
        let t = self.tmp.path().display().to_string();
        (
            out.stdout.replace(&t, "$TMP"),
            out.stderr.replace(&t, "$TMP"),
        )
    }

    /// Commits `lib/`, tags it, and pushes to `lib.git` (made on the first call).
    fn release(&self, tag: &str) {
        let lib = self.path("lib");
        if !lib.join(".git").exists() {
            support::git(&lib, &["init", "-q", "-b", "main"]);
        }
        support::git(&lib, &["add", "-A"]);
        support::git(&lib, &["commit", "-q", "-m", tag]);
        support::git(&lib, &["tag", tag]);
        if self.path("lib.git").exists() {
            support::git(&lib, &["push", "-q", "origin", "main", tag]);
        } else {
            support::git(
                self.tmp.path(),
                &["clone", "-q", "--bare", "lib", "lib.git"],
            );
            support::git(&lib, &["remote", "add", "origin", "../lib.git"]);
        }
    }

    /// The site: lvsh.toml naming `lib.git`, a script, three sites (only ams1
    /// leaves `persist` to the recipe's default).
    fn site(&self) {
        self.write(
            "site/lvsh.toml",
            &format!(
                "[libraries]\nacme = {{ git = \"file://{}\", version = \"^1.0\" }}\n",
                self.path("lib.git").display()
            ),
        );
        self.write(
            "site/site.rhai",
            "import \"@acme/web\" as web;\nconst PARAMS = #{\n    vip: #{ type: \"ip\" },\n    persist: #{ type: \"seconds\", optional: true },\n};\nweb::web(#{ vip: param(\"vip\"), servers: [\"10.0.0.1\", \"10.0.0.2\"], persist: param(\"persist\") });\n",
        );
        for (name, vip, persist) in [
            ("ams1", "192.0.2.10", ""),
            ("fra1", "192.0.2.20", "persist = 1200\n"),
            ("nyc1", "198.51.100.30", "persist = 600\n"),
        ] {
            self.write(
                &format!("site/sites/{name}.toml"),
                &format!("vip = \"{vip}\"\n{persist}\n[lvsh]\nscript = \"../site.rhai\"\n"),
            );
        }
    }
}

#[test]
fn the_example_library_passes_its_tests() {
    let (out, err) = {
        let o = Test::new()
            .args(["recipes", "test", "examples/recipes/lib"])
            .run();
        (o.stdout, o.stderr)
    };
    golden_at("example-test.stdout", &out);
    assert_eq!(err, "");
}

#[test]
fn test_bless_pass_fail_and_errors() {
    let fx = Fx::new();
    // No golden yet: the test's own failure, naming --bless.
    let (out, _) = fx.run(fx.lvsh("lib", &["recipes", "test"]), 1);
    golden_at("test-missing-golden.stdout", &out);
    // --bless writes it; then everything passes, also with a filter.
    let (out, _) = fx.run(fx.lvsh("lib", &["recipes", "test", "--bless"]), 0);
    golden_at("test-bless.stdout", &out);
    golden_at("web_defaults.plan", &fx.read("lib/tests/web_defaults.plan"));
    golden_at("warned.json", &fx.read("lib/tests/warned.json"));
    let (out, _) = fx.run(fx.lvsh("lib", &["recipes", "test"]), 0);
    golden_at("test-pass.stdout", &out);
    let (out, _) = fx.run(fx.lvsh("", &["recipes", "test", "lib", "weight"]), 0);
    assert_eq!(
        out,
        "running 1 test of acme\ntest web_weight ... ok\n\ntest result: ok. 1 passed; 0 failed\n"
    );

    // The recipe changes: a golden differs, an expected error moves, a call breaks,
    // a header is wrong, a warning is expected but not given.
    fx.write(
        "lib/recipes/web.rhai",
        &WEB_V1
            .replace(r#""default": 1200"#, r#""default": 900"#)
            .replace("min: 1 }", "min: 2 }"),
    );
    fx.write(
        "lib/tests/web_weight.toml",
        "vip = \"192.0.2.20\"\nport = 8080\n",
    );
    fx.write(
        "lib/tests/wrong_header.rhai",
        "// expect-plans: x.plan\nlet x = 1;\n",
    );
    fx.write(
        "lib/tests/warns.rhai",
        "// expect-warning: deprecated\nimport \"@self/web\" as web;\nweb::web(#{ vip: \"192.0.2.30\", servers: [\"10.0.0.1\", \"10.0.0.2\"] });\n",
    );
    let (out, err) = fx.run(fx.lvsh("lib", &["recipes", "test"]), 1);
    golden_at("test-fail.stdout", &out);
    assert_eq!(err, "");
}

#[test]
fn test_errors_outside_a_library() {
    let fx = Fx::new();
    fs::create_dir_all(fx.path("empty")).unwrap();
    let (_, err) = fx.run(fx.lvsh("empty", &["recipes", "test"]), 1);
    golden_at("test-not-a-library.stderr", &err);
    let (_, err) = fx.run(
        fx.lvsh("lib", &["recipes", "test", "--compat", "v1.0.0"]),
        1,
    );
    golden_at("test-compat-no-git.stderr", &err);
}

#[test]
fn compat_reports_behaviour_and_breaking_changes() {
    let fx = Fx::new();
    fx.run(fx.lvsh("lib", &["recipes", "test", "--bless"]), 0);
    fx.release("v1.0.0");
    // The working tree: a shorter default persistence, and `weight` is gone.
    fx.write(
        "lib/recipes/web.rhai",
        &WEB_V1
            .replace(r#""default": 1200"#, r#""default": 900"#)
            .replace(
                "            weight: #{ type: \"weight\", \"default\": 1, doc: \"of every server\" },\n",
                "",
            )
            .replace("s.weight ?? p.weight", "s.weight ?? 1"),
    );
    let (out, err) = fx.run(
        fx.lvsh("lib", &["recipes", "test", "--compat", "v1.0.0"]),
        1,
    );
    golden_at("compat.stdout", &out);
    assert_eq!(err, "");
    // The old release's tests against itself: nothing changed.
    support::git(&fx.path("lib"), &["checkout", "-q", "--", "."]);
    let (out, _) = fx.run(
        fx.lvsh("lib", &["recipes", "test", "--compat", "v1.0.0"]),
        0,
    );
    assert!(
        out.ends_with("test result: ok. 5 passed; 0 failed\n"),
        "{out}"
    );
    let (_, err) = fx.run(
        fx.lvsh("lib", &["recipes", "test", "--compat", "v9.9.9"]),
        1,
    );
    assert!(err.contains("v9.9.9"), "{err}");
}

#[test]
fn doc_of_a_library_a_module_an_entry_and_a_site_script() {
    let lib = "examples/recipes/lib";
    let site = support::root().join("examples/recipes/site");
    let doc = |args: &[&str], dir: Option<&Path>| {
        let mut t = Test::new().args(["recipes", "doc"]).args(args);
        if let Some(d) = dir {
            t = t.current_dir(d);
        }
        t.run().stdout
    };
    golden_at("doc-lib.txt", &doc(&[lib], None));
    golden_at("doc-lib.md", &doc(&[lib, "--markdown"], None));
    golden_at("doc-lib.json", &doc(&[lib, "--json"], None));
    golden_at("doc-entry.txt", &doc(&["@acme/dr_web::web"], Some(&site)));
    golden_at("doc-site.txt", &doc(&["site.rhai"], Some(&site)));
    let err = |args: &[&str]| {
        Test::new()
            .args(["recipes", "doc"])
            .args(args)
            .current_dir(&site)
            .status(1)
            .stderr_any()
            .run()
            .stderr
    };
    let mut all = String::new();
    for args in [
        &["@acme/dr_web::webb"][..],
        &["@acme/dr_wbe"],
        &["@acmee/dr_web"],
        &["@acme"],
        &["missing.rhai"],
    ] {
        all.push_str(&format!("== {}\n{}", args.join(" "), err(args)));
    }
    golden_at("doc-errors.stderr", &all);
}

#[test]
fn doc_of_a_broken_recipe_points_at_the_schema() {
    let fx = Fx::new();
    fx.write(
        "lib/recipes/web.rhai",
        &WEB_V1.replace(r#"type: "scheduler""#, r#"type: "schedular""#),
    );
    let (_, err) = fx.run(fx.lvsh("lib", &["recipes", "doc", "."]), 1);
    golden_at("doc-broken.stderr", &err);
    // `recipes test` reports it too, before the tests that import the module.
    let (out, _) = fx.run(fx.lvsh("lib", &["recipes", "test", "--bless"]), 1);
    golden_at("test-broken.stdout", &out);
}

#[test]
fn diff_shows_api_changelog_and_the_sites_that_change() {
    let fx = Fx::new();
    fx.run(fx.lvsh("lib", &["recipes", "test", "--bless"]), 0);
    fx.release("v1.0.0");
    fx.site();
    fx.run(fx.lvsh("site", &["recipes", "lock"]), 0);
    let lock = fx.read("site/lvsh.lock");

    // 1.0.1: only words change; 1.1.0: a default changes, a param is added and
    // one deprecated.
    fx.write(
        "lib/recipes/web.rhai",
        &WEB_V1.replace("An HTTP service", "One HTTP service"),
    );
    fx.write(
        "lib/CHANGELOG.md",
        "# acme\n\n## 1.0.1\n\n- Docs.\n\n## 1.0.0\n\n- First release.\n",
    );
    fx.release("v1.0.1");
    fx.write(
        "lib/recipes/web.rhai",
        &WEB_V1
            .replace(r#""default": 1200"#, r#""default": 900"#)
            .replace(
                r#"doc: "of every server" }"#,
                r#"doc: "of every server", deprecated: "give each server its weight" },
            comment: #{ type: "string", optional: true }"#,
            ),
    );
    fx.write(
        "lib/CHANGELOG.md",
        "# acme\n\n## 1.1.0\n\n- Shorter default persistence (900 s).\n\n## 1.0.1\n\n- Docs.\n\n## 1.0.0\n\n- First release.\n",
    );
    fx.release("v1.1.0");

    let (out, err) = fx.run(
        fx.lvsh("site", &["recipes", "diff", "acme", "--to", "1.1.0"]),
        2,
    );
    golden_at("diff-1.1.0.stdout", &out);
    assert_eq!(err, "");
    let (out, _) = fx.run(
        fx.lvsh("site", &["recipes", "diff", "acme", "--to", "1.0.1"]),
        0,
    );
    golden_at("diff-1.0.1.stdout", &out);
    // Only the sites given; a script without values files too.
    let (out, _) = fx.run(
        fx.lvsh(
            "site",
            &[
                "recipes",
                "diff",
                "acme",
                "--to",
                "1.1.0",
                "sites/fra1.toml",
            ],
        ),
        0,
    );
    assert!(
        out.ends_with("  sites/fra1.toml   no change\n0 of 1 site changes.\n"),
        "{out}"
    );
    // The lock did not move.
    assert_eq!(fx.read("site/lvsh.lock"), lock);
    // A vendored site: the old version is read from vendor/lvsh/, which stays.
    fx.run(fx.lvsh("site", &["recipes", "vendor"]), 0);
    let (out, _) = fx.run(
        fx.lvsh("site", &["recipes", "diff", "acme", "--to", "1.1.0"]),
        2,
    );
    golden_at("diff-1.1.0.stdout", &out);
    fx.run(fx.lvsh("site", &["recipes", "vendor", "--check"]), 0);
    assert_eq!(fx.read("site/lvsh.lock"), lock);
    // A site that fails to evaluate: shown with its error, exit 1.
    fx.write(
        "site/other/broken.toml",
        "vip = \"192.0.2.99\"\npersist = 0\n\n[lvsh]\nscript = \"../site.rhai\"\n",
    );
    let (out, _) = fx.run(
        fx.lvsh(
            "site",
            &[
                "recipes",
                "diff",
                "acme",
                "--to",
                "1.1.0",
                "other/broken.toml",
                "sites/ams1.toml",
            ],
        ),
        1,
    );
    golden_at("diff-broken-site.stdout", &out);

    let mut all = String::new();
    for args in [
        &["recipes", "diff", "acme", "--to", "3.0.0"][..],
        &["recipes", "diff", "acmee", "--to", "1.1.0"],
    ] {
        let (_, err) = fx.run(fx.lvsh("site", args), 1);
        all.push_str(&format!("== {}\n{err}", args.join(" ")));
    }
    fs::rename(fx.path("site/lvsh.lock"), fx.path("site/lvsh.lock.bak")).unwrap();
    let (_, err) = fx.run(
        fx.lvsh("site", &["recipes", "diff", "acme", "--to", "1.1.0"]),
        1,
    );
    all.push_str(&format!("== no lock\n{err}"));
    golden_at("diff-errors.stderr", &all);
}

/// `tests/golden/recipes_rtest/NAME`.
fn golden_at(name: &str, actual: &str) {
    support::golden_text(&format!("recipes_rtest/{name}"), actual);
}
