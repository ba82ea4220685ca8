//! The table of bad inputs: every row of `tests/bad_inputs/*.toml` runs the binary
//! on one input it must refuse (a script, a rules file, a state file, a saved plan,
//! a command line, a namespace name, a journal) and checks the exit status, that
//! stdout is as expected (empty unless the row says), and that stderr is its golden
//! `tests/golden/bad_inputs/TABLE/NAME.stderr` (`LVSH_BLESS=1` rewrites them).
//! A panic fails a row whatever its golden says. See `tests/bad_inputs/README.md`.

mod support;

use serde::Deserialize;
use std::{
    collections::BTreeMap,
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
};
use support::{Test, root};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    case: Vec<Case>,
}

/// One row: a command run in a fresh directory holding `files` and `dirs`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// The golden's file name; unique in its table.
    name: String,
    /// What is wrong with the input, for the reader of the table.
    #[allow(dead_code)]
    why: String,
    /// The arguments after `lvsh`; paths are relative to the row's directory.
    args: Vec<String>,
    stdin: Option<Content>,
    #[serde(default = "failed")]
    status: i32,
    #[serde(default)]
    stdout: String,
    #[serde(default)]
    files: BTreeMap<String, Content>,
    /// Empty directories to create.
    #[serde(default)]
    dirs: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

fn failed() -> i32 {
    1
}

/// A file's content: text, or made of parts for what TOML cannot hold or
/// should not spell out (bytes that are not UTF-8, a megabyte).
#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Made(Made),
}

/// `head`, then the bytes of `hex`, then `repeat` `times` times, then `tail`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Made {
    #[serde(default)]
    head: String,
    #[serde(default)]
    hex: String,
    #[serde(default)]
    repeat: String,
    #[serde(default)]
    times: usize,
    #[serde(default)]
    tail: String,
}

impl Content {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Content::Text(t) => t.clone().into_bytes(),
            Content::Made(m) => {
                let mut b = m.head.clone().into_bytes();
                let hex: String = m.hex.split_whitespace().collect();
                assert!(hex.len() % 2 == 0, "odd number of hex digits: {hex}");
                for i in (0..hex.len()).step_by(2) {
                    b.push(u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digits"));
                }
                b.extend(m.repeat.repeat(m.times).into_bytes());
                b.extend(m.tail.as_bytes());
                b
            }
        }
    }
}

fn tables() -> Vec<(String, Table)> {
    let dir = root().join("tests/bad_inputs");
    support::files(&dir, "toml")
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let table: Table =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            (stem, table)
        })
        .collect()
}

fn run(table: &str, case: &Case) {
    let dir = tempfile::tempdir().unwrap();
    for d in &case.dirs {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    for (name, content) in &case.files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content.bytes()).unwrap();
    }
    let mut test = Test::new()
        .current_dir(dir.path())
        .args(&case.args)
        .status(case.status)
        .stdout(&case.stdout)
        .stderr_golden(&format!("bad_inputs/{table}/{}.stderr", case.name));
    if let Some(stdin) = &case.stdin {
        test = test.stdin_bytes(&stdin.bytes());
    }
    for (k, v) in &case.env {
        test = test.env(k, v);
    }
    test.run();
}

#[test]
fn every_bad_input_gets_its_error() {
    let mut failures = vec![];
    let mut rows = 0;
    for (table, t) in tables() {
        let mut names = std::collections::BTreeSet::new();
        for case in &t.case {
            assert!(
                names.insert(case.name.as_str()),
                "{table}: two rows named {}",
                case.name
            );
            rows += 1;
            if catch_unwind(AssertUnwindSafe(|| run(&table, case))).is_err() {
                failures.push(format!("{table}/{}", case.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {rows} rows failed (their messages are above): {}",
        failures.len(),
        failures.join(", ")
    );
    assert!(rows >= 100, "only {rows} rows");
}

/// Goldens of rows that were removed or renamed would go stale unseen.
#[test]
fn every_golden_has_its_row() {
    let rows: std::collections::BTreeSet<PathBuf> = tables()
        .iter()
        .flat_map(|(table, t)| {
            t.case
                .iter()
                .map(move |c| Path::new(table).join(format!("{}.stderr", c.name)))
        })
        .collect();
    let goldens = root().join("tests/golden/bad_inputs");
    let mut stale = vec![];
    for table in std::fs::read_dir(&goldens).into_iter().flatten() {
        let table = table.unwrap().path();
        for g in std::fs::read_dir(&table).unwrap() {
            let g = g.unwrap().path();
            let rel = g.strip_prefix(&goldens).unwrap().to_path_buf();
            if !rows.contains(&rel) {
                stale.push(rel.display().to_string());
            }
        }
    }
    assert!(stale.is_empty(), "goldens without a row: {stale:?}");
}
