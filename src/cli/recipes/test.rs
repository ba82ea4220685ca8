//! `lvsh recipes test [DIR] [FILTER] [--bless] [--compat TAG]`: runs each
//! `tests/*.rhai` of a library in a fresh engine, no kernel, and prints one line per
//! test as `cargo test` does. `--compat TAG` runs the tests of an older release
//! (from the library's git history) against the recipes as they are now.

use super::super::{CliError, Context};
use super::test_case::{Failure, Outcome, TestCase};
use crate::recipes::{Libraries, RecipesError, git};
use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

pub fn run(
    ctx: &Context,
    args: &[String],
    bless: bool,
    compat: Option<&str>,
) -> Result<i32, CliError> {
    let (dir, filter) = split_args(args)?;
    let root = library_root(dir.as_deref().unwrap_or(Path::new(".")))?;
    let libraries = Arc::new(Libraries::single(&root)?);
    let name = libraries.libs[0].name.clone();
    if bless && compat.is_some() {
        return Err(
            RecipesError::plain("--bless and --compat do not go together")
                .with_help(
                    "--compat compares with an old release's goldens, which stay as they were",
                )
                .into(),
        );
    }
    let old = match compat {
        Some(tag) => Some(OldTests::extract(&root, tag)?),
        None => None,
    };
    let tests_dir = match &old {
        Some(o) => o.dir.join("tests"),
        None if root == Path::new(".") => PathBuf::from("tests"),
        None => root.join("tests"),
    };
    let examples_dir = tests_dir.with_file_name("examples");
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for path in test_files(&tests_dir)? {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        files.push((stem.unwrap_or_default(), path));
    }
    // Examples must evaluate cleanly too (with their values file, if any).
    for path in test_files(&examples_dir)? {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        files.push((format!("examples/{}", stem.unwrap_or_default()), path));
    }
    let mut cases = Vec::new();
    for (stem, path) in files {
        if filter.as_deref().is_some_and(|f| !stem.contains(f)) {
            continue;
        }
        let mut case = TestCase::read(&path);
        if let (Ok(case), Some(tag)) = (&mut case, compat) {
            // Named by the release, not by the temporary directory it is read from.
            let dir = if stem.starts_with("examples/") {
                "examples"
            } else {
                "tests"
            };
            case.shown = format!("{tag}:{dir}/{}.rhai", case.name);
        }
        cases.push((stem, case));
    }
    // Every module's RECIPE, read as an import reads it: a broken schema fails here
    // even when no test imports the module.
    let mut broken = Vec::new();
    for module in super::doc::module_names(&root) {
        let file = root.join("recipes").join(format!("{module}.rhai"));
        if let Err(e) = crate::dsl::read_doc(&file, &format!("@{name}/{module}.rhai")) {
            broken.push((format!("@{name}/{module}.rhai (RECIPE)"), e.render_plain()));
        }
    }
    let against = match compat {
        Some(tag) => format!(" ({tag}'s tests against the working tree)"),
        None => String::new(),
    };
    let plural = if cases.len() == 1 { "" } else { "s" };
    ctx.out(&format!(
        "running {} test{plural} of {name}{against}\n",
        cases.len()
    ))?;
    let mut report = Report::default();
    for (what, error) in broken {
        ctx.out(&format!("test {what} ... FAILED\n"))?;
        report.add(&what, Outcome::Failed(Failure::Test(error)));
    }
    for (stem, case) in &cases {
        let outcome = match case {
            Ok(case) => case.run(&ctx.dsl, &libraries, bless),
            Err(e) => Outcome::Failed(Failure::Test(e.clone())),
        };
        let word = match (&outcome, compat.is_some()) {
            (Outcome::Passed, _) => "ok".to_string(),
            (Outcome::Blessed(files), _) => format!("blessed ({})", files.join(", ")),
            (Outcome::Failed(Failure::Broke(_)), true) => "BREAKING CHANGE".into(),
            (Outcome::Failed(Failure::Changed(_)), true) => "BEHAVIOUR CHANGE".into(),
            (Outcome::Failed(_), _) => "FAILED".into(),
        };
        ctx.out(&format!("test {stem} ... {word}\n"))?;
        report.add(stem, outcome);
    }
    ctx.out(&report.summary(compat))?;
    Ok(if report.failed.is_empty() { 0 } else { 1 })
}

/// `[DIR] [FILTER]`: a first argument that is not a directory is the filter.
fn split_args(args: &[String]) -> Result<(Option<PathBuf>, Option<String>), CliError> {
    match args {
        [] => Ok((None, None)),
        [one] if Path::new(one).is_dir() => Ok((Some(one.into()), None)),
        [one] => Ok((None, Some(one.clone()))),
        [dir, filter] => Ok((Some(dir.into()), Some(filter.clone()))),
        _ => Err(RecipesError::plain("too many arguments")
            .with_help("lvsh recipes test [DIR] [FILTER]")
            .into()),
    }
}

/// The nearest directory at or above `start` that holds `lvsh-lib.toml`.
pub(super) fn library_root(start: &Path) -> Result<PathBuf, CliError> {
    let abs = std::path::absolute(start).map_err(|e| RecipesError::read(start, e))?;
    let mut dir = abs.as_path();
    loop {
        if dir.join("lvsh-lib.toml").is_file() {
            // Keep the path as given when it is the library itself (for messages).
            return Ok(if dir == abs {
                start.to_path_buf()
            } else {
                dir.to_path_buf()
            });
        }
        match dir.parent() {
            Some(p) => dir = p,
            None => {
                return Err(RecipesError::plain(format!(
                    "no lvsh-lib.toml in `{}` or above: this is not a recipe library",
                    start.display()
                ))
                .with_help("a library's root holds lvsh-lib.toml with `[library] name = \"…\"`")
                .into());
            }
        }
    }
}

/// The `tests/*.rhai` files, sorted; none when there is no `tests/`.
fn test_files(dir: &Path) -> Result<Vec<PathBuf>, CliError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut files = Vec::new();
    for e in entries {
        let path = e.map_err(|e| RecipesError::read(dir, e))?.path();
        if path.extension().is_some_and(|x| x == "rhai") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[derive(Default)]
struct Report {
    passed: usize,
    blessed: usize,
    failed: Vec<(String, Failure)>,
}

impl Report {
    fn add(&mut self, name: &str, outcome: Outcome) {
        match outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Blessed(_) => self.blessed += 1,
            Outcome::Failed(f) => self.failed.push((name.to_string(), f)),
        }
    }

    fn summary(&self, compat: Option<&str>) -> String {
        let mut out = String::new();
        if !self.failed.is_empty() {
            out.push_str("\nfailures:\n");
            for (name, f) in &self.failed {
                out.push_str(&format!("\n---- {name} ----\n{}", f.detail()));
                if !f.detail().ends_with('\n') {
                    out.push('\n');
                }
            }
            if let Some(tag) = compat {
                let broke = self
                    .failed
                    .iter()
                    .filter(|(_, f)| matches!(f, Failure::Broke(_)))
                    .count();
                let count = |n: usize, what: &str| match n {
                    1 => format!("1 {what} change"),
                    n => format!("{n} {what} changes"),
                };
                out.push_str(&format!(
                    "\nsince {tag}: {} (a call that worked fails now), {} (a model or an \
                     error differs); either needs a new major version\n",
                    count(broke, "breaking"),
                    count(self.failed.len() - broke, "behaviour")
                ));
            }
        }
        let result = if self.failed.is_empty() {
            "ok"
        } else {
            "FAILED"
        };
        out.push_str(&format!(
            "\ntest result: {result}. {} passed; {} failed",
            self.passed,
            self.failed.len()
        ));
        if self.blessed > 0 {
            out.push_str(&format!("; {} blessed", self.blessed));
        }
        out.push('\n');
        out
    }
}

/// The package files of an older release of the library, extracted from its git
/// repository into a temporary directory that is removed again.
struct OldTests {
    dir: PathBuf,
    tmp: PathBuf,
}

impl OldTests {
    fn extract(root: &Path, tag: &str) -> Result<OldTests, CliError> {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["rev-parse", "--show-prefix"])
            .output()
            .map_err(|e| RecipesError::plain(format!("cannot run git: {e}")))?;
        if !out.status.success() {
            return Err(RecipesError::plain(format!(
                "--compat needs the library's git history, and `{}` is not in a git repository",
                root.display()
            ))
            .into());
        }
        let prefix = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let subdir = prefix.trim_end_matches('/');
        let tmp = std::env::temp_dir().join(format!(
            "lvsh-compat-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let dir = tmp.join("lib");
        let subdir = (!subdir.is_empty()).then_some(subdir);
        if let Err(e) = git::extract(root, tag, subdir, &dir) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e.into());
        }
        Ok(OldTests { dir, tmp })
    }
}

impl Drop for OldTests {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}
