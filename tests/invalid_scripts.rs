//! Every script in `tests/invalid/` must fail, with its primary label where the
//! first line says: `// expect: LINE:COLUMN part of the message`.

use lvsh::dsl::{Options, evaluate_file};
use std::path::{Path, PathBuf};

fn scripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/invalid exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "rhai"))
        .collect();
    files.sort();
    files
}

/// (line, column, message part) from the first line.
fn expectation(path: &Path) -> (String, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let header = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("// expect: "))
        .unwrap_or_else(|| panic!("{}: no `// expect: L:C message` header", path.display()));
    let (pos, msg) = header.split_once(' ').expect("header is `L:C message`");
    (pos.to_string(), msg.to_string())
}

#[test]
fn every_invalid_script_fails_where_its_header_says() {
    let files = scripts();
    assert!(files.len() >= 30, "only {} scripts", files.len());
    let mut failures = Vec::new();
    for f in &files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let (pos, msg) = expectation(f);
        let err = match evaluate_file(f, &Options::default()) {
            Ok(_) => {
                failures.push(format!("{name}: evaluated without error"));
                continue;
            }
            Err(e) => e,
        };
        let loc = err
            .location()
            .map(|l| (l.file.clone(), format!("{}:{}", l.line, l.column)));
        let text = err.render_plain();
        match loc {
            Some((file, at))
                if file.ends_with(&name) && at == pos && err.message().contains(&msg) =>
            {
                assert!(
                    text.contains(&format!("{name}:{pos}")),
                    "{name}: rendering lacks the place:\n{text}"
                );
                assert!(
                    err.help_text().is_some() || !text.contains("help:"),
                    "{name}"
                );
            }
            other => failures.push(format!(
                "{name}: expected {pos} `{msg}`, got {other:?} `{}`\n{text}",
                err.message()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_report_has_a_span_and_most_have_help() {
    let mut without_help = Vec::new();
    for f in scripts() {
        let err = evaluate_file(&f, &Options::default()).unwrap_err();
        let text = err.render_plain();
        assert!(
            text.contains('┬'),
            "{}: no span under the call:\n{text}",
            f.display()
        );
        if err.help_text().is_none() {
            without_help.push(f.file_name().unwrap().to_string_lossy().to_string());
        }
    }
    assert!(
        without_help.len() <= 12,
        "reports without a hint: {without_help:?}"
    );
}
