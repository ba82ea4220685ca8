//! A small builder for tests through the `lvsh` binary: arguments, stdin, and the
//! expected stdout, stderr and exit code, either inline or as golden files.
//!
//! Golden files live under `tests/golden/`; run with `LVSH_BLESS=1` to rewrite them
//! from the actual output (then review the diff).

#![allow(dead_code)]

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The files of `dir` whose name ends in `.EXT`, sorted.
pub fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    out
}

pub struct Test {
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    dir: Option<PathBuf>,
    /// `None`: any exit status.
    status: Option<i32>,
    stdout: Expect,
    stderr: Expect,
    env: Vec<(String, String)>,
}

enum Expect {
    Any,
    Exact(String),
    Contains(Vec<String>),
    Golden(PathBuf),
}

pub struct Output {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

impl Test {
    pub fn new() -> Self {
        Test {
            args: vec![],
            stdin: None,
            dir: None,
            status: Some(0),
            stdout: Expect::Any,
            stderr: Expect::Exact(String::new()),
            env: vec![],
        }
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, args: I) -> Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_string()));
        self
    }

    pub fn stdin(mut self, s: &str) -> Self {
        self.stdin = Some(s.into());
        self
    }

    /// Standard input that need not be text.
    pub fn stdin_bytes(mut self, bytes: &[u8]) -> Self {
        self.stdin = Some(bytes.to_vec());
        self
    }

    /// Runs lvsh in `dir` instead of the repository root, so that the paths it
    /// prints are the relative ones the test gave.
    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.dir = Some(dir.to_path_buf());
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn status(mut self, code: i32) -> Self {
        self.status = Some(code);
        self
    }

    /// Any exit status: for a test that checks it itself.
    pub fn status_any(mut self) -> Self {
        self.status = None;
        self
    }

    pub fn stdout(mut self, s: &str) -> Self {
        self.stdout = Expect::Exact(s.into());
        self
    }

    pub fn stdout_contains(mut self, parts: &[&str]) -> Self {
        self.stdout = Expect::Contains(parts.iter().map(|s| s.to_string()).collect());
        self
    }

    pub fn stdout_golden(mut self, name: &str) -> Self {
        self.stdout = Expect::Golden(root().join("tests/golden").join(name));
        self
    }

    pub fn stderr(mut self, s: &str) -> Self {
        self.stderr = Expect::Exact(s.into());
        self
    }

    pub fn stderr_any(mut self) -> Self {
        self.stderr = Expect::Any;
        self
    }

    pub fn stderr_contains(mut self, parts: &[&str]) -> Self {
        self.stderr = Expect::Contains(parts.iter().map(|s| s.to_string()).collect());
        self
    }

    pub fn stderr_golden(mut self, name: &str) -> Self {
        self.stderr = Expect::Golden(root().join("tests/golden").join(name));
        self
    }

    /// Runs the binary from the repository root and checks everything expected.
    pub fn run(self) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lvsh"));
        cmd.args(&self.args)
            .current_dir(self.dir.clone().unwrap_or_else(root))
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            .env("COLUMNS", "100")
            // One evaluation cache for every test, kept between runs: a script a test
            // ran before is answered from it, so the goldens also check that a hit
            // prints what the evaluation printed.
            .env("LVSH_CACHE_DIR", cache_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("lvsh binary runs");
        {
            let mut stdin = child.stdin.take().unwrap();
            if let Some(input) = &self.stdin {
                // lvsh may stop reading early (a script over the size limit).
                let _ = stdin.write_all(input);
            }
        }
        let out = child.wait_with_output().unwrap();
        let output = Output {
            stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
            status: out.status.code().unwrap_or(-1),
        };
        let what = format!("lvsh {}", self.args.join(" "));
        // No input, however bad, may crash lvsh (checked before a golden is blessed).
        assert!(
            output.status != 101 && !output.stderr.contains("panicked at"),
            "{what}: lvsh panicked\n{}",
            output.stderr
        );
        check(&what, "stdout", &self.stdout, &output.stdout);
        check(&what, "stderr", &self.stderr, &output.stderr);
        if let Some(status) = self.status {
            assert_eq!(
                output.status, status,
                "{what}: exit status\nstdout:\n{}\nstderr:\n{}",
                output.stdout, output.stderr
            );
        }
        output
    }
}

/// The evaluation cache of the tests (`LVSH_CACHE_DIR`), under the target directory.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cache")
}

impl Default for Test {
    fn default() -> Self {
        Test::new()
    }
}

fn check(what: &str, stream: &str, expect: &Expect, actual: &str) {
    match expect {
        Expect::Any => {}
        Expect::Exact(s) => assert_eq!(actual, s, "{what}: {stream}"),
        Expect::Contains(parts) => {
            for p in parts {
                assert!(
                    actual.contains(p.as_str()),
                    "{what}: {stream} lacks {p:?}:\n{actual}"
                );
            }
        }
        Expect::Golden(path) => golden(what, stream, path, actual),
    }
}

/// Compares `actual` with the golden file `path` (relative to `tests/golden/`),
/// or writes it under `LVSH_BLESS`: for tests that replace what varies first.
pub fn golden_text(path: &str, actual: &str) {
    let path = root().join("tests/golden").join(path);
    golden(path.to_str().unwrap(), "output", &path, actual);
}

/// git with a fixed identity and clock and no user configuration, in `dir`.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "lvsh tests")
        .env("GIT_AUTHOR_EMAIL", "tests@example.org")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_NAME", "lvsh tests")
        .env("GIT_COMMITTER_EMAIL", "tests@example.org")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn golden(what: &str, stream: &str, path: &Path, actual: &str) {
    if std::env::var_os("LVSH_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{what}: golden file {} missing ({e}); run with LVSH_BLESS=1 to create it",
            path.display()
        )
    });
    assert_eq!(
        actual,
        expected,
        "{what}: {stream} differs from {}",
        path.display()
    );
}
