//! `lvsh recipes add|lock|update|fetch|vendor` against local git repositories
//! (`file://` URLs in temp dirs; never the network). Commits are made with fixed
//! names and dates, so commit ids and hashes in the goldens are stable; the temp
//! dir's path is shown as `$TMP`.

mod support;

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};
use support::{Output, Test};

/// A library repository (work tree `lib/`, served as the bare `lib.git`), a site
/// repository `site/` and a cache of its own, in one temp dir.
struct Fx {
    tmp: tempfile::TempDir,
}

const WEB_V1: &str = r#"// web: one HTTP service on port 80, direct routing.
const RECIPE = #{
    web: #{
        doc: "An HTTP service on `vip`:80.",
        returns: "Service",
        params: #{
            vip: #{ type: "ip" },
            servers: #{ type: "list<server>" },
            scheduler: #{ type: "scheduler", "default": "wlc" },
        },
    },
};

fn web(p) {
    let p = args(p);
    let svc = service(p.vip, 80, "tcp");
    svc.scheduler(p.scheduler);
    for s in p.servers {
        svc.rs(rs(s.addr).dr().weight(s.weight ?? 1));
    }
    svc
}
"#;

const SITE_SCRIPT: &str = r#"// Every site: one web service from the acme library.
import "@acme/web" as web;

const PARAMS = #{
    vip:       #{ type: "ip" },
    servers:   #{ type: "list<server>" },
};

web::web(#{ vip: param("vip"), servers: param("servers") });
"#;

const SITES: &[(&str, &str)] = &[
    ("ams1", "192.0.2.10"),
    ("fra1", "192.0.2.20"),
    ("nyc1", "198.51.100.30"),
];

impl Fx {
    fn new() -> Fx {
        // Always under /tmp (not $TMPDIR): the path's length shapes the goldens'
        // underlines, even where it is shown as `$TMP`.
        let fx = Fx {
            tmp: tempfile::Builder::new()
                .prefix("lvsh-git-")
                .tempdir_in("/tmp")
                .unwrap(),
        };
        let lib = fx.path("lib");
        fs::create_dir_all(lib.join("recipes")).unwrap();
        fs::create_dir_all(lib.join(".ci")).unwrap();
        fx.write("lib/lvsh-lib.toml", "[library]\nname = \"acme\"\n");
        fx.write("lib/recipes/web.rhai", WEB_V1);
        fx.write("lib/CHANGELOG.md", "# acme\n\n## 1.0.0\n\nFirst release.\n");
        // Not a package file: neither hashed nor vendored.
        fx.write("lib/.ci/build.yml", "steps: []\n");
        support::git(&lib, &["init", "-q", "-b", "main"]);
        fx.commit_and_tag("first release", "v1.0.0");
        support::git(&lib, &["tag", "latest"]);
        support::git(&fx.path(""), &["clone", "-q", "--bare", "lib", "lib.git"]);
        support::git(&lib, &["remote", "add", "origin", "../lib.git"]);
        fs::create_dir_all(fx.path("site/sites")).unwrap();
        fx.write("site/site.rhai", SITE_SCRIPT);
        for (name, vip) in SITES {
            fx.write(
                &format!("site/sites/{name}.toml"),
                &format!(
                    "vip = \"{vip}\"\nservers = [\"10.0.0.1\", \"10.0.0.2\"]\n\n[lvsh]\nscript = \"../site.rhai\"\n"
                ),
            );
        }
        fx
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        fs::write(self.path(rel), text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap()
    }

    fn url(&self) -> String {
        format!("file://{}", self.path("lib.git").display())
    }

    /// Commits everything in `lib/`, tags it and pushes the tag to `lib.git`.
    fn commit_and_tag(&self, msg: &str, tag: &str) {
        let lib = self.path("lib");
        support::git(&lib, &["add", "-A"]);
        support::git(&lib, &["commit", "-q", "-m", msg]);
        support::git(&lib, &["tag", tag]);
        if self.path("lib.git").exists() {
            support::git(&lib, &["push", "-q", "origin", "main", tag]);
        }
    }

    /// lvsh in `site/`, with this fixture's cache.
    fn lvsh(&self, args: &[&str]) -> Test {
        Test::new()
            .args(args)
            .current_dir(&self.path("site"))
            .env("LVSH_CACHE_DIR", self.path("cache").to_str().unwrap())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
    }

    /// Runs lvsh expecting `status`; returns stdout and stderr with `$TMP` for the temp dir.
    fn run(&self, test: Test, status: i32) -> (String, String) {
        let out: Output = test.status(status).stderr_any().run();
        let t = self.tmp.path().display().to_string();
        (
            out.stdout.replace(&t, "$TMP"),
            out.stderr.replace(&t, "$TMP"),
        )
    }

    fn tmp_text(&self, text: &str) -> String {
        text.replace(&self.tmp.path().display().to_string(), "$TMP")
    }

    /// The files under `rel`, sorted, `/`-separated.
    fn files(&self, rel: &str) -> Vec<String> {
        let mut out = Vec::new();
        walk(&self.path(rel), "", &mut out);
        out.sort();
        out
    }
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if e.file_type().unwrap().is_dir() {
            walk(&e.path(), &format!("{name}/"), out);
        } else {
            out.push(name);
        }
    }
}

fn plans(fx: &Fx, name: &str) {
    let mut all = String::new();
    for (site, _) in SITES {
        let (out, err) = fx.run(
            fx.lvsh(&["plan", &format!("sites/{site}.toml"), "--empty"]),
            0,
        );
        all.push_str(&format!("== {site}\n{out}{err}"));
    }
    golden_at(name, &all);
}

#[test]
fn round_trip_add_lock_vendor_plan_update_and_plan_without_git() {
    let fx = Fx::new();
    let url = fx.url();

    // Add: lvsh.toml is created, the newest release locked with `^` and fetched.
    let (out, err) = fx.run(fx.lvsh(&["recipes", "add", "acme", &url]), 0);
    golden_at("add.stdout", &out);
    assert_eq!(err, "");
    golden_at("add.lvsh.toml", &fx.tmp_text(&fx.read("site/lvsh.toml")));
    golden_at("add.lvsh.lock", &fx.tmp_text(&fx.read("site/lvsh.lock")));

    // Vendor: exactly the package files, and the summary beside them.
    let (out, _) = fx.run(fx.lvsh(&["recipes", "vendor"]), 0);
    assert_eq!(out, "acme 1.0.0 vendored\n");
    assert_eq!(
        fx.files("site/vendor/lvsh"),
        [
            "acme.sums",
            "acme/CHANGELOG.md",
            "acme/lvsh-lib.toml",
            "acme/recipes/web.rhai"
        ]
    );
    let (out, _) = fx.run(fx.lvsh(&["recipes", "vendor", "--check"]), 0);
    assert_eq!(out, "vendor/lvsh/ matches lvsh.lock\n");
    let (out, _) = fx.run(fx.lvsh(&["recipes", "lock", "--check"]), 0);
    assert_eq!(out, "lvsh.lock agrees with lvsh.toml\n");
    let (out, _) = fx.run(fx.lvsh(&["recipes", "verify"]), 0);
    assert!(out.starts_with("acme 1.0.0 verified"), "{out}");
    plans(&fx, "plan-1.0.0");

    // v1.1.0 changes a default; a lock does not move by itself.
    fx.write(
        "lib/recipes/web.rhai",
        &WEB_V1.replace(r#""default": "wlc""#, r#""default": "rr""#),
    );
    fx.write(
        "lib/CHANGELOG.md",
        "# acme\n\n## 1.1.0\n\nThe default scheduler is rr.\n\n## 1.0.0\n\nFirst release.\n",
    );
    // An annotated tag this time: it is dereferenced to its commit.
    let lib = fx.path("lib");
    support::git(&lib, &["add", "-A"]);
    support::git(&lib, &["commit", "-q", "-m", "rr by default"]);
    support::git(&lib, &["tag", "-a", "-m", "acme 1.1.0", "v1.1.0"]);
    support::git(&lib, &["push", "-q", "origin", "main", "v1.1.0"]);
    let lock_before = fx.read("site/lvsh.lock");
    let (out, _) = fx.run(fx.lvsh(&["recipes", "lock"]), 0);
    assert_eq!(out, "lvsh.lock is up to date\n");
    let (out, err) = fx.run(fx.lvsh(&["recipes", "update", "--dry-run"]), 0);
    assert_eq!(out, "acme 1.0.0 → 1.1.0\n");
    assert!(err.contains("`lvsh recipes diff`"), "{err}");
    assert_eq!(fx.read("site/lvsh.lock"), lock_before);

    // Update moves the lock and the vendored copy.
    let (out, err) = fx.run(fx.lvsh(&["recipes", "update"]), 0);
    assert_eq!(out, "acme 1.0.0 → 1.1.0\n");
    assert_eq!(err, "vendor: acme 1.1.0 vendored\n");
    golden_at("update.lvsh.lock", &fx.tmp_text(&fx.read("site/lvsh.lock")));
    assert!(
        fx.read("site/vendor/lvsh/acme/recipes/web.rhai")
            .contains(r#""default": "rr""#)
    );
    fx.run(fx.lvsh(&["recipes", "vendor", "--check"]), 0);
    plans(&fx, "plan-1.1.0");

    // A director: no git on PATH, an empty cache; plans from vendor/lvsh/.
    let empty = fx.path("no-git");
    fs::create_dir_all(&empty).unwrap();
    let director = |args: &[&str]| {
        fx.lvsh(args).env("PATH", empty.to_str().unwrap()).env(
            "LVSH_CACHE_DIR",
            fx.path("director-cache").to_str().unwrap(),
        )
    };
    let (out, _) = fx.run(director(&["plan", "sites/ams1.toml", "--empty"]), 0);
    assert!(out.contains("rr"), "{out}");
    let (_, err) = fx.run(director(&["recipes", "fetch"]), 1);
    golden_at("no-git.stderr", &err);
}

#[test]
fn a_force_moved_tag_is_refused() {
    let fx = Fx::new();
    fx.run(fx.lvsh(&["recipes", "add", "acme", &fx.url()]), 0);
    let (out, _) = fx.run(fx.lvsh(&["recipes", "fetch"]), 0);
    assert_eq!(out, "acme 1.0.0 cached\n");
    // Someone moves v1.0.0 to another commit and force-pushes it.
    fx.write(
        "lib/recipes/web.rhai",
        &WEB_V1.replace("port 80", "port 81"),
    );
    let lib = fx.path("lib");
    support::git(&lib, &["commit", "-q", "-am", "sneaky"]);
    support::git(&lib, &["tag", "-f", "v1.0.0"]);
    support::git(&lib, &["push", "-q", "-f", "origin", "v1.0.0"]);
    // `recipes fetch` asks the repository even when the cache holds the tree …
    let (_, err) = fx.run(fx.lvsh(&["recipes", "fetch"]), 1);
    golden_at("force-moved.stderr", &err);
    // … and a fresh cache cannot be filled from the moved tag.
    let (_, err2) = fx.run(
        fx.lvsh(&["recipes", "fetch"])
            .env("LVSH_CACHE_DIR", fx.path("cache2").to_str().unwrap()),
        1,
    );
    assert_eq!(err, err2);
}

#[test]
fn check_variants_exit_1_naming_the_differences() {
    let fx = Fx::new();
    fx.write(
        "site/lvsh.toml",
        &format!(
            "# our libraries\n[libraries]\nacme = {{ git = \"{}\", version = \"^1.0\" }}\n",
            fx.url()
        ),
    );
    let (_, err) = fx.run(fx.lvsh(&["recipes", "lock", "--check"]), 1);
    golden_at("lock-check-no-lock.stderr", &err);
    let (out, _) = fx.run(fx.lvsh(&["recipes", "lock"]), 0);
    assert_eq!(out, "acme 1.0.0 (new)\n");
    fx.run(fx.lvsh(&["recipes", "lock", "--check"]), 0);

    // A changed requirement: the lock is stale until `recipes lock`.
    fx.write(
        "site/lvsh.toml",
        &fx.read("site/lvsh.toml").replace("^1.0", "~1.0.0"),
    );
    let (_, err) = fx.run(fx.lvsh(&["recipes", "lock", "--check"]), 1);
    golden_at("lock-check-stale.stderr", &err);
    let (out, _) = fx.run(fx.lvsh(&["recipes", "lock"]), 0);
    assert_eq!(
        out, "lvsh.lock written; no library changed version\n",
        "1.0.0 still satisfies ~1.0.0"
    );
    assert!(fx.read("site/lvsh.lock").contains("requested = \"~1.0.0\""));
    assert!(fx.read("site/lvsh.toml").starts_with("# our libraries\n"));

    // vendor --check: missing, tampered, and no longer locked.
    let (_, err) = fx.run(fx.lvsh(&["recipes", "vendor", "--check"]), 1);
    golden_at("vendor-check-missing.stderr", &err);
    fx.run(fx.lvsh(&["recipes", "vendor"]), 0);
    fx.write("site/vendor/lvsh/acme/recipes/web.rhai", "// changed\n");
    fx.write("site/vendor/lvsh/acme/recipes/extra.rhai", "// added\n");
    fs::create_dir_all(fx.path("site/vendor/lvsh/old")).unwrap();
    let (_, err) = fx.run(fx.lvsh(&["recipes", "vendor", "--check"]), 1);
    golden_at("vendor-check-tampered.stderr", &err);
    // `vendor` repairs it and removes the library no longer locked.
    let (out, _) = fx.run(fx.lvsh(&["recipes", "vendor"]), 0);
    assert_eq!(out, "acme 1.0.0 vendored\nold removed (no longer locked)\n");
    fx.run(fx.lvsh(&["recipes", "vendor", "--check"]), 0);
}

#[test]
fn errors_of_add_and_update() {
    let fx = Fx::new();
    let url = fx.url();
    // No version matches: the available ones are listed, lvsh.toml is not left behind.
    let (_, err) = fx.run(
        fx.lvsh(&["recipes", "add", "acme", &url, "--version", "^2"]),
        1,
    );
    golden_at("add-no-match.stderr", &err);
    assert!(!fx.path("site/lvsh.toml").exists());
    // The name must be the library's own.
    let (_, err) = fx.run(fx.lvsh(&["recipes", "add", "web", &url]), 1);
    golden_at("add-wrong-name.stderr", &err);
    assert!(!fx.path("site/lvsh.toml").exists());
    // Offline: no fetch at all.
    let (_, err) = fx.run(
        fx.lvsh(&["recipes", "add", "acme", &url])
            .env("LVSH_RECIPES_OFFLINE", "1"),
        1,
    );
    golden_at("offline.stderr", &err);
    // A repository that is not there: git's own words are in the error.
    let (_, err) = fx.run(
        fx.lvsh(&["recipes", "add", "acme", &format!("{url}-gone")]),
        1,
    );
    assert!(
        err.contains("git ls-remote") && err.contains("help:"),
        "{err}"
    );

    fx.run(
        fx.lvsh(&["recipes", "add", "acme", &url, "--version", "=1.0.0"]),
        0,
    );
    let (_, err) = fx.run(fx.lvsh(&["recipes", "add", "acme", &url]), 1);
    golden_at("add-twice.stderr", &err);
    let (_, err) = fx.run(fx.lvsh(&["recipes", "update", "nope"]), 1);
    golden_at("update-unknown.stderr", &err);
    let (_, err) = fx.run(fx.lvsh(&["recipes", "update", "acme", "--to", "1.3.0"]), 1);
    golden_at("update-to-missing.stderr", &err);
    // Not in the library's tags' order of preference, but allowed by =1.0.0? No.
    fx.write("lib/CHANGELOG.md", "# acme\n\n## 1.1.0\n");
    fx.commit_and_tag("1.1.0", "v1.1.0");
    let (_, err) = fx.run(fx.lvsh(&["recipes", "update", "acme", "--to", "1.1.0"]), 1);
    golden_at("update-to-outside-requirement.stderr", &err);
    let (out, _) = fx.run(fx.lvsh(&["recipes", "update"]), 0);
    assert_eq!(out, "nothing to update\n");
}

#[test]
fn a_library_in_a_subdirectory_and_a_git_tree_without_a_library() {
    let fx = Fx::new();
    let lib = fx.path("lib");
    fs::create_dir_all(lib.join("lib")).unwrap();
    for f in ["lvsh-lib.toml", "recipes", "CHANGELOG.md"] {
        fs::rename(lib.join(f), lib.join("lib").join(f)).unwrap();
    }
    fx.commit_and_tag("moved into lib/", "v2.0.0");
    let url = fx.url();
    let (_, err) = fx.run(fx.lvsh(&["recipes", "add", "acme", &url]), 1);
    golden_at("not-a-library.stderr", &err);
    let (out, _) = fx.run(
        fx.lvsh(&["recipes", "add", "acme", &url, "--subdir", "lib"]),
        0,
    );
    assert!(out.ends_with("acme 2.0.0 (new)\n"), "{out}");
    let lock = fx.read("site/lvsh.lock");
    assert!(lock.contains("subdir = \"lib\""), "{lock}");
    fx.run(fx.lvsh(&["recipes", "vendor"]), 0);
    assert_eq!(
        fx.files("site/vendor/lvsh/acme"),
        ["CHANGELOG.md", "lvsh-lib.toml", "recipes/web.rhai"]
    );
}

/// Copies the files under `from` to `to`, skipping `skip` (top-level names).
fn copy_dir(from: &Path, to: &Path, skip: &[&str]) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if skip.contains(&name.as_str()) {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name), &[]);
        } else {
            fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

#[test]
fn the_example_lock_and_vendored_copy_are_what_lock_and_vendor_write() {
    let fx = Fx::new();
    let examples = support::root().join("examples/recipes");
    // The example library as release v1.0.0 of a repository of its own.
    let lib = fx.path("example-lib");
    copy_dir(&examples.join("lib"), &lib, &[]);
    support::git(&lib, &["init", "-q", "-b", "main"]);
    support::git(&lib, &["add", "-A"]);
    support::git(&lib, &["commit", "-q", "-m", "acme 1.0.0"]);
    support::git(&lib, &["tag", "v1.0.0"]);
    let url = format!("file://{}", lib.display());
    // The example site without its lock and vendored copy, pointed at that repository.
    let site = fx.path("site");
    fs::remove_dir_all(&site).unwrap();
    copy_dir(&examples.join("site"), &site, &["lvsh.lock", "vendor"]);
    let toml = fx.read("site/lvsh.toml");
    fx.write(
        "site/lvsh.toml",
        &toml.replace("file:///srv/git/lvs-recipes.git", &url),
    );
    let (out, _) = fx.run(fx.lvsh(&["recipes", "lock"]), 0);
    assert_eq!(out, "acme 1.0.0 (new)\n");
    let hash = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("hash = "))
            .map(str::to_string)
    };
    let committed = fs::read_to_string(examples.join("site/lvsh.lock")).unwrap();
    assert_eq!(hash(&fx.read("site/lvsh.lock")), hash(&committed));
    fx.run(fx.lvsh(&["recipes", "vendor"]), 0);
    let ours = fx.files("site/vendor/lvsh");
    let mut theirs = Vec::new();
    walk(&examples.join("site/vendor/lvsh"), "", &mut theirs);
    theirs.sort();
    assert_eq!(ours, theirs);
    for f in &ours {
        assert_eq!(
            fx.read(&format!("site/vendor/lvsh/{f}")),
            fs::read_to_string(examples.join("site/vendor/lvsh").join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn a_git_that_hangs_is_stopped_after_the_timeout() {
    let fx = Fx::new();
    let bin = fx.path("slow-bin");
    fs::create_dir_all(&bin).unwrap();
    let git = bin.join("git");
    fs::write(&git, "#!/bin/sh\nexec sleep 30\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&git, fs::Permissions::from_mode(0o755)).unwrap();
    let start = std::time::Instant::now();
    let (_, err) = fx.run(
        fx.lvsh(&["recipes", "add", "acme", &fx.url()])
            .env("PATH", &format!("{}:/usr/bin:/bin", bin.display()))
            .env("LVSH_GIT_TIMEOUT", "1"),
        1,
    );
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    assert!(
        err.contains("`git ls-remote")
            && err.contains("longer than 1s and was stopped")
            && err.contains("LVSH_GIT_TIMEOUT"),
        "{err}"
    );
    assert!(!fx.path("site/lvsh.toml").exists());
}

#[test]
fn concurrent_fetches_share_one_cache() {
    let fx = Fx::new();
    fx.run(fx.lvsh(&["recipes", "add", "acme", &fx.url()]), 0);
    let cache = fx.path("shared-cache");
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_lvsh"))
                .args(["recipes", "fetch"])
                .current_dir(fx.path("site"))
                .env("LVSH_CACHE_DIR", &cache)
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("lvsh runs")
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut entries = fx.files("shared-cache/recipes");
    entries.retain(|e| !e.starts_with("git/"));
    let hex = fx
        .read("site/lvsh.lock")
        .lines()
        .find_map(|l| l.strip_prefix("hash = \"sha256tree:"))
        .unwrap()
        .trim_end_matches('"')
        .to_string();
    assert_eq!(
        entries,
        [
            format!("{hex}.sums"),
            format!("{hex}/CHANGELOG.md"),
            format!("{hex}/lvsh-lib.toml"),
            format!("{hex}/recipes/web.rhai"),
        ]
    );
}

#[test]
fn a_lock_whose_hash_the_fetched_files_do_not_have_is_refused() {
    let fx = Fx::new();
    fx.run(fx.lvsh(&["recipes", "add", "acme", &fx.url()]), 0);
    let lock = fx.read("site/lvsh.lock");
    let hash = lock
        .lines()
        .find_map(|l| l.strip_prefix("hash = \"sha256tree:"))
        .unwrap()
        .trim_end_matches('"')
        .to_string();
    fx.write("site/lvsh.lock", &lock.replace(&hash, &"0".repeat(64)));
    let (_, err) = fx.run(
        fx.lvsh(&["recipes", "fetch"])
            .env("LVSH_CACHE_DIR", fx.path("cache2").to_str().unwrap()),
        1,
    );
    golden_at("content-differs.stderr", &err.replace(&hash, "<HASH>"));
    assert!(
        !fx.path(&format!("cache2/recipes/{}", "0".repeat(64)))
            .exists(),
        "nothing is put into the cache"
    );
    let mut left = fx.files("cache2/recipes");
    left.retain(|f| !f.starts_with("git/"));
    assert_eq!(left, Vec::<String>::new(), "no temporary tree is left");
    // What the help says fixes it: the entry goes, `lock` writes it again.
    let start = lock.find("[[library]]").unwrap();
    fx.write("site/lvsh.lock", &lock[..start]);
    let (out, _) = fx.run(fx.lvsh(&["recipes", "lock"]), 0);
    assert_eq!(out, "acme 1.0.0 (new)\n");
    assert_eq!(fx.read("site/lvsh.lock"), lock);
}

/// `tests/golden/recipes_git/NAME`.
fn golden_at(name: &str, actual: &str) {
    support::golden_text(&format!("recipes_git/{name}"), actual);
}
