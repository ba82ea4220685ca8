//! Rhai errors and model problems as [`ScriptError`]s that point at the script.

use super::error::{BindingError, ScriptError};
use super::sources::Sources;
use super::values::friendly_signature;
use super::{build, docs};
use crate::model::Problem;
use crate::report::clip_words;
use crate::suggest::{closest, did_you_mean};
use rhai::{EvalAltResult, ParseError, ParseErrorType, Position};

/// Stdlib recipe names, for "module not found" hints.
pub(crate) const IMPORT_HELP: &str = "imports look in the built-in recipes (dr_pool, fwmark_pool, nat_farm), then the -I/--lib directories, then the importing script's directory; paths are relative, without `..`";

/// The message, hint and primary label text for one rhai error.
struct Described {
    message: String,
    help: Option<String>,
    label: &'static str,
}

fn described(message: impl Into<String>, help: Option<String>, label: &'static str) -> Described {
    Described {
        message: message.into(),
        help,
        label,
    }
}

fn parse_error(e: &ParseErrorType) -> Described {
    let help = match e {
        ParseErrorType::Reserved(w) | ParseErrorType::VariableUndefined(w) if w == "eval" => {
            Some("`eval` is disabled: a script cannot run code it builds at run time".to_string())
        }
        ParseErrorType::Reserved(w) if w == "default" => Some(
            "`default` is a reserved word in Rhai: in a RECIPE or PARAMS map write it quoted, `\"default\": 80`"
                .to_string(),
        ),
        ParseErrorType::VariableUndefined(v) => Some(format!(
            "declare it first with `let {v} = ..;` (variables must be declared before use){}",
            did_you_mean(v, docs::names_of(""))
        )),
        ParseErrorType::ModuleUndefined(m) => {
            Some(format!("import it first: `import \"..\" as {m};`"))
        }
        ParseErrorType::MissingToken(t, _) => Some(format!("add the missing `{t}`")),
        ParseErrorType::UnknownOperator(op) if op == "eval" => {
            Some("`eval` is disabled: a script cannot run code it builds at run time".to_string())
        }
        _ => None,
    };
    let msg = match e {
        ParseErrorType::VariableUndefined(v) => format!("unknown variable `{v}`"),
        other => other.to_string(),
    };
    let msg = if msg.contains("'eval'") && msg.contains("disabled") {
        "`eval` is disabled".to_string()
    } else {
        msg
    };
    described(msg, help, "here")
}

/// "function not found" with the signatures the name does take, or a guess.
fn not_found(sig: &str) -> Described {
    let sig = friendly_signature(sig);
    let (name, args) = sig
        .split_once(" (")
        .map(|(n, a)| (n, a.trim_end_matches(')')))
        .unwrap_or((&sig, ""));
    let short = name.rsplit("::").next().unwrap_or(name);
    let known = docs::signatures(short);
    if !known.is_empty() && !name.contains("::") {
        return described(
            format!("`{short}` does not take ({args})"),
            Some(format!("it takes: {}", known.join("; "))),
            "wrong arguments",
        );
    }
    let receiver = args.split(',').next().unwrap_or("").trim();
    if ["Service", "RealServer", "SyncDaemon", "Check"].contains(&receiver) {
        let methods: Vec<&str> = docs::names_of(receiver).collect();
        let mut unique = methods.clone();
        unique.dedup();
        let guess = closest(short, unique.iter().copied())
            .map(|m| format!(", did you mean `.{m}()`?"))
            .unwrap_or_default();
        return described(
            format!("{receiver} has no method `{short}`{guess}"),
            Some(format!("{receiver} methods: {}", unique.join(", "))),
            "unknown method",
        );
    }
    let all = docs::names_of("")
        .chain(docs::names_of("Service"))
        .chain(docs::names_of("RealServer"));
    described(
        format!(
            "unknown function `{name}` ({args}){}",
            did_you_mean(short, all)
        ),
        removed_help(name),
        "unknown function",
    )
}

/// A property read or written (`rs(..).dr`, `s.persist = 30`): lvsh's objects have
/// methods, no properties, so the property is most likely a method missing its `()`.
fn property(message: &str) -> Option<Described> {
    // rhai: "Unknown property 'dr' - a getter is not registered for type 'RealServer'",
    // "No writable property 'x' - a setter is not registered for type 'T' to handle 'i64'".
    let quoted: Vec<&str> = message.split('\'').skip(1).step_by(2).collect();
    let (&name, &receiver) = (quoted.first()?, quoted.get(1)?);
    let write = message.starts_with("No writable property");
    let methods: Vec<&str> = docs::names_of(receiver).collect();
    if methods.is_empty() {
        return None;
    }
    let call = |m: &str| {
        if write {
            format!("`.{m}(..)`")
        } else {
            format!("`.{m}()`")
        }
    };
    let to_set = if write { " to set" } else { "" };
    let (guess, help) = if methods.contains(&name) {
        (
            Some(name),
            format!(
                "`{name}` is a method: call it with parentheses, {}",
                call(name)
            ),
        )
    } else {
        let mut unique = methods.clone();
        unique.sort_unstable();
        unique.dedup();
        (
            closest(name, unique.iter().copied()),
            format!(
                "{receiver} has methods, no properties: {}",
                unique.join(", ")
            ),
        )
    };
    let guess = guess
        .map(|m| format!(", did you mean {}?", call(m)))
        .unwrap_or_default();
    Some(described(
        format!("{receiver} has no property `{name}`{to_set}{guess}"),
        Some(help),
        if write {
            "property set here"
        } else {
            "property read here"
        },
    ))
}

/// Why a function of rhai's standard library is missing from lvsh's sandbox.
fn removed_help(name: &str) -> Option<String> {
    let name = name.strip_prefix("get$").unwrap_or(name);
    if !super::engine::REMOVED.contains(&name) {
        return None;
    }
    Some(if name == "exit" {
        "scripts cannot stop early (lvsh would apply half a balancer); `throw \"reason\"` stops with an error".to_string()
    } else {
        format!(
            "`{name}` is not available: a script cannot wait or read the clock, it only describes the balancer"
        )
    })
}

fn runtime_error(e: &EvalAltResult) -> Described {
    use EvalAltResult as E;
    match e {
        E::ErrorRuntime(d, _) if d.is::<BindingError>() => {
            let b = d.clone().cast::<BindingError>();
            described(b.message, b.help, "this call")
        }
        E::ErrorRuntime(d, _) => described(format!("script error: {d}"), None, "thrown here"),
        E::ErrorParsing(p, _) => parse_error(p),
        E::ErrorDotExpr(message, _) if property(message).is_some() => {
            property(message).expect("checked")
        }
        E::ErrorFunctionNotFound(sig, _) => not_found(sig),
        E::ErrorVariableNotFound(v, _) => {
            described(format!("unknown variable `{v}`"), None, "here")
        }
        E::ErrorModuleNotFound(m, _) => described(
            format!("module `{m}` not found"),
            Some(IMPORT_HELP.to_string()),
            "imported here",
        ),
        E::ErrorTooManyOperations(_) => described(
            format!(
                "the script runs too long (more than {} operations)",
                super::engine::MAX_OPERATIONS
            ),
            Some("is there an endless loop? lvsh stops scripts that run too long".to_string()),
            "stopped here",
        ),
        E::ErrorStackOverflow(_) => described(
            "function calls nest too deeply",
            Some(format!(
                "lvsh allows {} nested calls; is there an endless recursion?",
                super::engine::MAX_CALL_LEVELS
            )),
            "here",
        ),
        E::ErrorDataTooLarge(what, _) => described(
            format!("{what} too large"),
            Some(format!(
                "lvsh limits strings to {} bytes, arrays to {} items and maps to {} entries",
                super::engine::MAX_STRING,
                super::engine::MAX_ARRAY,
                super::engine::MAX_MAP
            )),
            "here",
        ),
        E::ErrorTooManyModules(_) => described("too many imports", None, "here"),
        E::ErrorTerminated(token, _)
            if token.clone().into_string().ok().as_deref() == Some(super::engine::OUT_OF_TIME) =>
        {
            described(
                format!(
                    "the script runs too long (more than {} seconds)",
                    super::engine::MAX_RUN_TIME.as_secs()
                ),
                Some("is there an endless loop? lvsh stops scripts that run too long".to_string()),
                "stopped here",
            )
        }
        E::ErrorTerminated(..) => described("interrupted", None, "stopped here"),
        other => {
            let mut e = other.to_string();
            if let Some(i) = e.rfind(" (line ") {
                e.truncate(i);
            }
            described(e, None, "here")
        }
    }
}

fn line_col(pos: Position) -> Option<(usize, usize)> {
    Some((pos.line()?, pos.position().unwrap_or(1)))
}

/// A parse error of the file `name`.
pub(crate) fn from_parse(err: &ParseError, name: &str, sources: &Sources) -> ScriptError {
    let d = parse_error(err.err_type());
    let mut e = ScriptError::new(d.message).with_help(d.help);
    if let Some((l, c)) = line_col(err.position()) {
        e = e.label(sources, name, l, c, d.label);
    }
    e
}

struct Frame {
    source: String,
    pos: Position,
    /// The function this frame calls into (for all but the innermost).
    calls: Option<String>,
}

/// An evaluation error of the script `main`. The report points at the deepest place
/// in `main`; places inside imported modules follow as notes with their own text.
pub(crate) fn from_rhai(err: &EvalAltResult, main: &str, sources: &Sources) -> ScriptError {
    let mut frames = Vec::new();
    let mut current = main.to_string();
    let mut e = err;
    loop {
        match e {
            EvalAltResult::ErrorInFunctionCall(name, src, inner, pos) => {
                frames.push(Frame {
                    source: current.clone(),
                    pos: *pos,
                    calls: Some(name.clone()),
                });
                if !src.is_empty() {
                    current = src.clone();
                }
                e = inner;
            }
            EvalAltResult::ErrorInModule(path, inner, pos) => {
                frames.push(Frame {
                    source: current.clone(),
                    pos: *pos,
                    calls: Some(format!("import \"{path}\"")),
                });
                current = path.clone();
                e = inner;
            }
            _ => break,
        }
    }
    if let Some(placed) = placed(e, sources) {
        return placed;
    }
    frames.push(Frame {
        source: current,
        pos: e.position(),
        calls: None,
    });
    let mut d = runtime_error(e);
    let primary = frames
        .iter()
        .rposition(|f| f.source == main && !f.pos.is_none())
        .unwrap_or(frames.len() - 1);
    let label = match &frames[primary].calls {
        None => d.label.to_string(),
        Some(f) if f.starts_with("import") => "the module imported here fails".to_string(),
        Some(f) => format!("the error is inside `{f}`"),
    };
    if let Some(blame) = recipe_blame(&frames[primary..], sources) {
        d.help = Some(match d.help {
            Some(h) => format!("{h}\n{blame}"),
            None => blame,
        });
    }
    let mut out = ScriptError::new(d.message).with_help(d.help);
    let f = &frames[primary];
    if let Some((l, c)) = line_col(f.pos) {
        out = out.label(sources, &f.source, l, c, label);
    }
    for i in primary + 1..frames.len() {
        let f = &frames[i];
        let Some((l, c)) = line_col(f.pos) else {
            continue;
        };
        let within = match frames[i - 1].calls.clone().unwrap_or_default() {
            c if c.starts_with("import \"") => format!("module {}", &c["import ".len()..]),
            c => format!("`{c}`"),
        };
        let text = match &f.calls {
            None => "fails here".to_string(),
            Some(c) => format!("calls `{c}`"),
        };
        let note = ScriptError::note(format!("inside {within}{}", library_of(sources, &f.source)))
            .label(sources, &f.source, l, c, text);
        out.push_related(note);
    }
    out
}

/// The report of a binding that chose its own places (a recipe's `args()`).
fn placed(e: &EvalAltResult, sources: &Sources) -> Option<ScriptError> {
    let EvalAltResult::ErrorRuntime(d, _) = e else {
        return None;
    };
    let b = d.read_lock::<BindingError>()?;
    if b.places.is_empty() {
        return None;
    }
    let mut out = ScriptError::new(b.message.clone()).with_help(b.help.clone());
    for p in &b.places {
        out = match &p.note {
            None => out.label(sources, &p.file, p.line, p.column, p.label.clone()),
            Some(n) => out.note_label(
                sources,
                n.clone(),
                &p.file,
                p.line,
                p.column,
                p.label.clone(),
            ),
        };
    }
    Some(out)
}

/// When the error happened inside a recipe entry point that had accepted its
/// arguments: who is probably at fault.
fn recipe_blame(frames: &[Frame], sources: &Sources) -> Option<String> {
    frames.windows(2).find_map(|w| {
        let entry = w[0].calls.as_deref()?;
        let recipe = sources.recipes.get(&w[1].source)?;
        recipe.entries.contains_key(entry).then(|| match sources.libraries.get(&w[1].source) {
            Some(lib) => format!(
                "the arguments passed the declared parameters of `{entry}`, so this is probably a bug in {lib} ({}); report it with this output",
                w[1].source
            ),
            None => format!(
                "the arguments passed the declared parameters of `{entry}`, so this is probably a bug in the recipe {}",
                w[1].source
            ),
        })
    })
}

/// One report for all errors among `problems` (the first is the report, the others
/// related), or `None` when there are only warnings.
pub(crate) fn from_problems(problems: &[Problem], sources: &Sources) -> Option<ScriptError> {
    let mut errors = problems
        .iter()
        .filter(|p| p.is_error())
        .map(|p| problem(p, sources));
    let mut first = errors.next()?;
    for e in errors {
        first.push_related(e);
    }
    Some(first)
}

/// ` (acme 1.0.0)` for a module of a recipe library, else nothing.
fn library_of(sources: &Sources, module: &str) -> String {
    sources
        .libraries
        .get(module)
        .map(|l| format!(" ({l})"))
        .unwrap_or_default()
}

fn problem(p: &Problem, sources: &Sources) -> ScriptError {
    // Objects of a REPL's start model were not made by any script line.
    let placed = p.places.iter().any(|pl| pl.origin.pos().is_some());
    let message = if placed {
        p.message.clone()
    } else {
        format!("{} (in the starting state)", p.message)
    };
    let mut e = ScriptError::new(message).with_help(p.help.clone());
    for pl in &p.places {
        let Some(pos) = pl.origin.pos() else {
            continue;
        };
        e = match build::inside_label(&pl.label) {
            Some(label) => e.note_label(
                sources,
                format!("{}{}", build::INSIDE, library_of(sources, &pos.source)),
                &pos.source,
                pos.line,
                pos.column,
                label,
            ),
            None => e.label(sources, &pos.source, pos.line, pos.column, pl.label.clone()),
        };
    }
    e
}

/// Warnings as output lines: `warning: message (file:line:column)`, long values cut.
pub(crate) fn warnings(problems: &[Problem]) -> Vec<String> {
    problems
        .iter()
        .filter(|p| !p.is_error())
        .map(|p| {
            let message = clip_words(&p.message, "…");
            match p.places.iter().find_map(|pl| pl.origin.pos()) {
                Some(pos) => format!(
                    "warning: {message} ({}:{}:{})",
                    pos.source, pos.line, pos.column
                ),
                None => format!("warning: {message}"),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_time_says_so_and_other_terminations_are_interruptions() {
        let sources = Sources::default();
        let stopped = |token: &str| {
            let e = EvalAltResult::ErrorTerminated(token.into(), Position::NONE);
            from_rhai(&e, "test.rhai", &sources)
        };
        let e = stopped(super::super::engine::OUT_OF_TIME);
        assert_eq!(
            e.message(),
            format!(
                "the script runs too long (more than {} seconds)",
                super::super::engine::MAX_RUN_TIME.as_secs()
            )
        );
        assert!(e.help_text().unwrap().contains("endless loop"));
        assert_eq!(stopped("ctrl-c").message(), "interrupted");
    }
}
