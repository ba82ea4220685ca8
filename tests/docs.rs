//! Every example in README.md files and docs/*.md runs as shown.
//!
//! Fenced blocks, by info string:
//! - `rhai`: the script passes `lvsh check -`;
//! - `sh`: each command is `lvsh ...` (or `cargo run -q -- ...`) and exits 0;
//! - no info string, starting with a prompt (`lvsh> `, `lvsh[3]> `): a REPL
//!   transcript, fed to `lvsh repl --empty`; no entry may fail, and the output
//!   lines it shows must come out, in that order.
//!
//! Anything else needs a directive in an HTML comment on the line before the fence
//! (invisible on GitHub), and so does a block that cannot run here:
//! - `<!-- doc-test: kernel -->` needs IPVS or the kernel lab: not run;
//!   `<!-- doc-test: kernel: PREFIX -->` only the commands starting with PREFIX;
//! - `<!-- doc-test: text -->` is not code (a report, a synopsis, a diagram);
//! - `<!-- doc-test: output: lvsh ARGS -->` is exactly what `lvsh ARGS` prints;
//! - `<!-- doc-test: args: ARGS -->` adds ARGS to `lvsh check` or `lvsh repl`.
//!
//! Blocks not run are listed on stderr (`cargo test --test docs -- --nocapture`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const LVSH: &str = env!("CARGO_BIN_EXE_lvsh");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md files anywhere in the crate (not in `target/`) and docs/*.md.
fn documents() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if p.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    walk(&p, out);
                }
            } else if name == "README.md" {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root(), &mut out);
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    out.extend(docs);
    out
}

/// A fenced block and the directive before it.
#[derive(Debug)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    info: String,
    directive: Option<String>,
    text: String,
}

fn blocks(markdown: &str) -> Result<Vec<Block>, String> {
    let mut out = Vec::new();
    let mut lines = markdown.lines().enumerate();
    let mut previous: Option<&str> = None;
    while let Some((i, line)) = lines.next() {
        let trimmed = line.trim_start();
        let Some(info) = trimmed.strip_prefix("```") else {
            if !line.trim().is_empty() {
                previous = Some(line.trim());
            }
            continue;
        };
        let indent = line.len() - trimmed.len();
        let directive = previous
            .and_then(|p| p.strip_prefix("<!-- doc-test:"))
            .and_then(|p| p.strip_suffix("-->"))
            .map(|d| d.trim().to_string());
        let mut text = String::new();
        let mut closed = false;
        for (_, l) in lines.by_ref() {
            if l.trim_start().starts_with("```") {
                closed = true;
                break;
            }
            text.push_str(l.get(indent..).unwrap_or(l.trim_start()));
            text.push('\n');
        }
        if !closed {
            return Err(format!("line {}: the block never ends", i + 1));
        }
        out.push(Block {
            line: i + 1,
            info: info.trim().to_string(),
            directive,
            text,
        });
        previous = None;
    }
    Ok(out)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn lvsh(args: &[String], stdin: &str) -> Run {
    let mut child = Command::new(LVSH)
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env_remove("XDG_STATE_HOME")
        .env(
            "LVSH_CACHE_DIR",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/cache"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Words of a command line, with '..' and ".." quoting and `# comments`.
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some(x) => w.push(x),
                        None => return Err(format!("unclosed quote in `{line}`")),
                    }
                }
            }
            c if c.is_whitespace() => out.extend(word.take()),
            '#' if word.is_none() => break,
            '|' | '<' | '>' | ';' | '&' | '$' | '`' => {
                return Err(format!("`{line}`: only plain commands run here"));
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    out.extend(word);
    Ok(out)
}

/// The arguments of an `lvsh` command line (`lvsh ARGS` or `cargo run -q -- ARGS`).
fn lvsh_args(line: &str) -> Result<Vec<String>, String> {
    let w = words(line)?;
    match w.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["lvsh", ..] => Ok(w[1..].to_vec()),
        ["cargo", "run", "-q", "--", ..] => Ok(w[4..].to_vec()),
        _ => Err(format!(
            "`{line}` is not an lvsh command; if it needs a kernel, mark the block \
             `<!-- doc-test: kernel -->` or `<!-- doc-test: kernel: {} -->`",
            line.split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ")
        )),
    }
}

fn failed(what: &str, run: &Run) -> String {
    format!(
        "{what} exited {}\n--- stdout\n{}--- stderr\n{}",
        run.code, run.stdout, run.stderr
    )
}

/// A REPL prompt at the start of `line`: the rest of the line.
fn after_prompt(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("lvsh")?;
    let rest = match rest.strip_prefix('[') {
        Some(r) => &r[r.find(']')? + 1..],
        None => rest,
    };
    rest.strip_prefix("> ").or(rest.strip_prefix('>'))
}

/// Splits a transcript into the REPL's input and the output lines it shows. A line
/// without a prompt continues the entry while it is unfinished or when it starts
/// with `.`; otherwise it is output.
fn transcript(text: &str) -> (String, Vec<String>) {
    let mut input = String::new();
    let mut entry = String::new();
    let mut shown = Vec::new();
    for line in text.lines() {
        if let Some(typed) = after_prompt(line) {
            entry = format!("{typed}\n");
            input.push_str(&entry);
            continue;
        }
        let continues = !entry.is_empty()
            && (line.trim_start().starts_with('.')
                || open_brackets(&entry)
                || lvsh::dsl::Session::is_incomplete(&entry));
        if continues {
            entry.push_str(line);
            entry.push('\n');
            input.push_str(line);
            input.push('\n');
        } else {
            entry.clear();
            shown.push(line.trim_end().to_string());
        }
    }
    (input, shown)
}

/// Does `text` leave a bracket open (outside strings)?
fn open_brackets(text: &str) -> bool {
    let mut depth = 0i32;
    let mut quote = None;
    let mut escaped = false;
    for c in text.chars() {
        match (quote, c) {
            (Some(_), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (Some(_), _) => {}
            (None, '"' | '`' | '\'') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')' | ']' | '}') => depth -= 1,
            _ => {}
        }
        escaped = false;
    }
    depth > 0
}

/// Runs one block; `Ok(Some(why))` when it is not run.
fn check(block: &Block) -> Result<Option<String>, String> {
    let directive = block.directive.as_deref().unwrap_or("");
    let (key, value) = match directive.split_once(':') {
        Some((k, v)) => (k.trim(), v.trim()),
        None => (directive, ""),
    };
    let extra = if key == "args" {
        words(value)?
    } else {
        Vec::new()
    };
    match key {
        "kernel" if value.is_empty() => return Ok(Some("needs a kernel".into())),
        "text" => return Ok(Some("not code".into())),
        "output" => {
            let args = lvsh_args(value)?;
            let run = lvsh(&args, "");
            if run.code != 0 {
                return Err(failed(value, &run));
            }
            return if run.stdout == block.text {
                Ok(None)
            } else {
                Err(format!(
                    "`{value}` prints\n{}\nnot what the block shows:\n{}",
                    run.stdout, block.text
                ))
            };
        }
        "" | "args" | "kernel" => {}
        other => return Err(format!("unknown directive `{other}`")),
    }
    let language = block.info.split_whitespace().next().unwrap_or("");
    match language {
        "rhai" => {
            let mut args = vec!["check".to_string(), "-".to_string()];
            args.extend(extra);
            let run = lvsh(&args, &block.text);
            if run.code != 0 {
                return Err(failed(&format!("lvsh {}", args.join(" ")), &run));
            }
            Ok(None)
        }
        "sh" | "bash" | "shell" | "console" => {
            let mut skipped = Vec::new();
            let mut ran = 0;
            for line in block.text.lines() {
                let line = line.trim();
                let line = line.strip_prefix("$ ").unwrap_or(line);
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                if key == "kernel" && line.starts_with(value) {
                    skipped.push(line.to_string());
                    continue;
                }
                let args = lvsh_args(line)?;
                let run = lvsh(&args, "");
                if run.code != 0 {
                    return Err(failed(line, &run));
                }
                ran += 1;
            }
            if key == "kernel" && skipped.is_empty() {
                return Err(format!("no command starts with `{value}`"));
            }
            if ran == 0 && skipped.is_empty() {
                return Err("no command in the block".into());
            }
            Ok((!skipped.is_empty()).then(|| format!("needs a kernel: {}", skipped.join("; "))))
        }
        "" | "text"
            if block
                .text
                .lines()
                .next()
                .is_some_and(|l| after_prompt(l).is_some()) =>
        {
            let (input, shown) = transcript(&block.text);
            let mut args = vec!["repl".to_string(), "--empty".to_string()];
            args.extend(extra);
            let run = lvsh(&args, &input);
            if run.code != 0 {
                return Err(failed("the transcript", &run));
            }
            let mut out = run.stdout.lines().map(str::trim_end);
            for want in shown.iter().filter(|l| !l.is_empty()) {
                if !out.any(|l| l == want) {
                    return Err(format!(
                        "the REPL did not print `{want}` (in this order)\n--- stdout\n{}",
                        run.stdout
                    ));
                }
            }
            Ok(None)
        }
        _ => Err(format!(
            "a ```{language} block the test cannot run: mark it with \
             `<!-- doc-test: text -->`, `kernel` or `output: lvsh ARGS`"
        )),
    }
}

/// Every block of one document: (blocks run, blocks not run with why, failures).
fn check_document(name: &str, markdown: &str) -> (usize, Vec<String>, Vec<String>) {
    let (mut ran, mut not_run, mut failures) = (0, Vec::new(), Vec::new());
    match blocks(markdown) {
        Err(e) => failures.push(format!("{name}: {e}")),
        Ok(blocks) => {
            for b in blocks {
                match check(&b) {
                    Ok(None) => ran += 1,
                    Ok(Some(why)) => not_run.push(format!("{name}:{}: {why}", b.line)),
                    Err(e) => failures.push(format!("{name}:{}: {e}", b.line)),
                }
            }
        }
    }
    (ran, not_run, failures)
}

#[test]
fn every_example_runs_as_shown() {
    let (mut ran, mut not_run, mut failures) = (0, Vec::new(), Vec::new());
    for doc in documents() {
        let name = doc.strip_prefix(root()).unwrap().display().to_string();
        let (r, n, f) = check_document(&name, &std::fs::read_to_string(&doc).unwrap());
        ran += r;
        not_run.extend(n);
        failures.extend(f);
    }
    for n in &not_run {
        eprintln!("not run: {n}");
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
    assert!(ran >= 15, "only {ran} examples ran");
}

#[test]
fn the_documents_include_the_readme_and_the_dsl() {
    let names: Vec<String> = documents()
        .iter()
        .map(|d| d.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    for want in ["README.md", "docs/DSL.md", "tests/lab/README.md"] {
        assert!(names.contains(&want.to_string()), "{names:?}");
    }
}

#[test]
fn broken_and_unmarked_examples_fail() {
    let md = "\
```rhai
service(\"10.0.0.1\", 80).scheduler(\"rrr\");
```

```sh
lvsh check scripts/missing.rhai
```

```sh
ipvsadm -L -n
```

```
lvsh> service(\"10.0.0.1\", 80);
lvsh[1]> .rs(rs(\"10.0.0.2\"));
```

```
lvsh> service(\"10.0.0.1\", 80)
service tcp 10.0.0.1:80 rr, 0 real servers
```

```
some text
```

<!-- doc-test: output: lvsh plan --empty scripts/ppc.rhai -->
```
Plan: 1 to add
```

<!-- doc-test: kernel: ipvsadm -->
```sh
lvsh check scripts/ppc.rhai
```
";
    let (ran, not_run, failures) = check_document("t.md", md);
    let at: Vec<&str> = failures
        .iter()
        .map(|f| f.split_once(": ").unwrap().0)
        .collect();
    assert_eq!(
        at,
        [
            "t.md:1", "t.md:5", "t.md:9", "t.md:13", "t.md:18", "t.md:23", "t.md:28", "t.md:33"
        ],
        "{failures:#?}"
    );
    assert!(failures[2].contains("mark the block"), "{}", failures[2]);
    assert!(failures[3].contains("Unexpected '.'"), "{}", failures[3]);
    assert!(failures[4].contains("did not print"), "{}", failures[4]);
    assert_eq!((ran, not_run.len()), (0, 0));

    let md = "\
<!-- doc-test: kernel: ipvsadm -->
```sh
lvsh check scripts/ppc.rhai
ipvsadm -L -n
```

<!-- doc-test: args: --set vip=10.0.0.1 -->
```rhai
service(param(\"vip\"), 80);
```

```
lvsh> let web = service(\"10.0.0.1\", 80);
lvsh[1]> web.rs(rs(\"10.0.0.2\"))
    .rs(rs(\"10.0.0.3\"));
lvsh[3]> web
service tcp 10.0.0.1:80 wlc, 2 real servers
```
";
    let (ran, not_run, failures) = check_document("t.md", md);
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(ran, 2);
    assert_eq!(not_run, ["t.md:2: needs a kernel: ipvsadm -L -n"]);
}

#[test]
fn transcripts_split_into_input_and_output() {
    let (input, shown) = transcript(
        "lvsh> fn f(x) {\n  x\n}\nlvsh[2]> f(1)\n    .to_string()\n\"1\"\nlvsh[!]> :plan\nPlan: 1\n",
    );
    assert_eq!(input, "fn f(x) {\n  x\n}\nf(1)\n    .to_string()\n:plan\n");
    assert_eq!(shown, ["\"1\"", "Plan: 1"]);
}
