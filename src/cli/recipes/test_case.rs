//! One recipe test (`tests/NAME.rhai` of a library): what its `// expect-…:`
//! header lines ask, and running it in a fresh engine against the library.

use super::line_diff::line_diff;
use crate::{
    dsl::{self, Evaluated, Options, SiteValues},
    model::Balancer,
    plan::{self, Against, Mode, Plan},
    recipes::Libraries,
    state,
};
use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

/// What a test expects, from the `//` lines at its top.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestCase {
    /// The file name without `.rhai`.
    pub name: String,
    pub path: PathBuf,
    /// How errors name the file (the path, or `TAG:tests/NAME.rhai` for `--compat`).
    pub shown: String,
    /// `// expect-plan: NAME.plan`: the golden `lvsh plan --empty` text.
    pub plan: Option<String>,
    /// `// expect-model: NAME.json`: the golden `lvsh emit --to json` text.
    pub model: Option<String>,
    /// `// expect-error: [LINE:COL] part of the message`.
    pub error: Option<(Option<String>, String)>,
    /// `// expect-warning: part of a warning`, each one.
    pub warnings: Vec<String>,
    /// `NAME.toml` next to the test: its values file.
    pub values: Option<PathBuf>,
}

/// How a test went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// `--bless` wrote these goldens.
    Blessed(Vec<String>),
    Failed(Failure),
}

/// Why a test failed. `Broke` (an error where none was expected) is what `--compat`
/// calls a breaking change; the rest are behaviour changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The header is wrong or a golden is missing: the test's own fault.
    Test(String),
    /// An error where the test expected none (or a model).
    Broke(String),
    /// A golden differs, the expected error or warning did not come.
    Changed(String),
}

impl Failure {
    pub fn detail(&self) -> &str {
        match self {
            Failure::Test(s) | Failure::Broke(s) | Failure::Changed(s) => s,
        }
    }
}

const KINDS: &[&str] = &[
    "expect-plan",
    "expect-model",
    "expect-error",
    "expect-warning",
];

impl TestCase {
    /// Reads the header of the test at `path`: the `//` lines (and blank lines)
    /// before its first line of code.
    pub fn read(path: &Path) -> Result<TestCase, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut case = TestCase {
            name: name.clone(),
            path: path.to_path_buf(),
            shown: path.display().to_string(),
            ..TestCase::default()
        };
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Some(comment) = line.strip_prefix("//") else {
                break;
            };
            let comment = comment.trim();
            let Some((kind, arg)) = comment.split_once(':') else {
                continue;
            };
            let kind = kind.trim();
            if !kind.starts_with("expect") {
                continue;
            }
            let arg = arg.trim().to_string();
            let at = |what: &str| format!("line {}: {what}", n + 1);
            if !KINDS.contains(&kind) {
                return Err(at(&format!(
                    "unknown header `{kind}:`{}",
                    crate::suggest::did_you_mean(kind, KINDS.iter().copied())
                )));
            }
            if arg.is_empty() {
                return Err(at(&format!("`{kind}:` needs an argument")));
            }
            match kind {
                "expect-plan" => case.plan = Some(arg),
                "expect-model" => case.model = Some(arg),
                "expect-error" => {
                    let (first, rest) = arg.split_once(' ').unwrap_or((&arg, ""));
                    let is_place = first.split_once(':').is_some_and(|(l, c)| {
                        !l.is_empty()
                            && !c.is_empty()
                            && l.bytes().chain(c.bytes()).all(|b| b.is_ascii_digit())
                    });
                    case.error = if is_place && !rest.trim().is_empty() {
                        Some((Some(first.to_string()), rest.trim().to_string()))
                    } else {
                        Some((None, arg))
                    };
                }
                _ => case.warnings.push(arg),
            }
        }
        if case.error.is_some() && (case.plan.is_some() || case.model.is_some()) {
            return Err("a test expects an error or a plan/model, not both".into());
        }
        let values = path.with_extension("toml");
        if values.is_file() {
            case.values = Some(values);
        }
        Ok(case)
    }

    fn dir(&self) -> &Path {
        dsl::script_dir(&self.path)
    }

    /// Runs the test with `base` options (`-I`, `--set`) and `libraries`; `bless`
    /// rewrites the goldens that differ (or are missing).
    pub fn run(&self, base: &Options, libraries: &Arc<Libraries>, bless: bool) -> Outcome {
        let mut opts = base.clone();
        opts.libraries = Some(libraries.clone());
        if let Some(v) = &self.values {
            // A site file naming its script (an example's) is loaded as one; else it
            // is a layer, as `--values` gives it.
            let names_script = std::fs::read_to_string(v)
                .is_ok_and(|t| t.contains("[lvsh]") && t.contains("script"));
            let loaded = if names_script {
                SiteValues::load(Some(v), &[])
            } else {
                SiteValues::load(None, std::slice::from_ref(v))
            };
            match loaded {
                Ok(v) => opts.values = Some(Arc::new(v)),
                Err(e) => return Outcome::Failed(Failure::Test(e.render_plain())),
            }
        }
        let result = dsl::load_file(&self.path)
            .and_then(|text| dsl::evaluate_source(&self.shown, &text, Some(self.dir()), &opts));
        match (&self.error, result) {
            (Some((place, part)), Err(e)) => {
                let message_has = e.message().contains(part.as_str())
                    || e.reports().any(|r| r.message().contains(part.as_str()));
                let at = e.location().map(|l| format!("{}:{}", l.line, l.column));
                if !message_has {
                    return Outcome::Failed(Failure::Changed(format!(
                        "expected an error with `{part}`, got:\n{}",
                        e.render_plain()
                    )));
                }
                if let Some(place) = place
                    && at.as_deref() != Some(place.as_str())
                {
                    return Outcome::Failed(Failure::Changed(format!(
                        "expected the error at {place}, got it at {}:\n{}",
                        at.as_deref().unwrap_or("no place"),
                        e.render_plain()
                    )));
                }
                Outcome::Passed
            }
            (Some((_, part)), Ok(_)) => Outcome::Failed(Failure::Changed(format!(
                "expected an error with `{part}`, but the test evaluated without one"
            ))),
            (None, Err(e)) => Outcome::Failed(Failure::Broke(e.render_plain())),
            (None, Ok(evaluated)) => self.check_result(evaluated, bless),
        }
    }

    fn check_result(&self, evaluated: Evaluated, bless: bool) -> Outcome {
        let Evaluated {
            mut balancer,
            output,
            ..
        } = evaluated;
        let warnings: Vec<&String> = output
            .iter()
            .filter(|l| l.starts_with("warning: "))
            .collect();
        for w in &self.warnings {
            if !warnings.iter().any(|l| l.contains(w.as_str())) {
                let got = if warnings.is_empty() {
                    "none".to_string()
                } else {
                    warnings
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                return Outcome::Failed(Failure::Changed(format!(
                    "expected a warning with `{w}`, got: {got}"
                )));
            }
        }
        let unexpected: Vec<&&String> = warnings
            .iter()
            .filter(|l| !self.warnings.iter().any(|w| l.contains(w.as_str())))
            .collect();
        if !unexpected.is_empty() {
            let list: Vec<&str> = unexpected.iter().map(|s| s.as_str()).collect();
            return Outcome::Failed(Failure::Changed(format!(
                "unexpected warning (add `// expect-warning: …` if it is meant):\n{}",
                list.join("\n")
            )));
        }
        state::canonical(&mut balancer);
        let mut blessed = Vec::new();
        let goldens = [
            (&self.plan, plan_text(&balancer)),
            (&self.model, balancer.to_json() + "\n"),
        ];
        for (golden, got) in goldens {
            let Some(golden) = golden else { continue };
            let path = self.dir().join(golden);
            let expected = std::fs::read_to_string(&path).ok();
            if expected.as_deref() == Some(got.as_str()) {
                continue;
            }
            if bless {
                if let Err(e) = std::fs::write(&path, &got) {
                    return Outcome::Failed(Failure::Test(format!(
                        "cannot write `{}`: {e}",
                        path.display()
                    )));
                }
                blessed.push(golden.clone());
                continue;
            }
            return Outcome::Failed(match expected {
                None => Failure::Test(format!(
                    "the golden `{golden}` is missing; `lvsh recipes test --bless` writes it"
                )),
                Some(expected) => Failure::Changed(format!(
                    "`{golden}` differs (- expected, + got):\n{}",
                    line_diff(&expected, &got)
                )),
            });
        }
        if blessed.is_empty() {
            Outcome::Passed
        } else {
            Outcome::Blessed(blessed)
        }
    }
}

/// Exactly what `lvsh plan --empty` prints for the (canonical) model.
pub fn plan_text(desired: &Balancer) -> String {
    render(
        &plan_between(desired, &Balancer::default()),
        &Against::Empty,
    )
}

/// The plan from `before` to `desired` (both canonical), as `lvsh plan` makes it.
pub fn plan_between(desired: &Balancer, before: &Balancer) -> Plan {
    plan::diff(desired, &desired.managed(before), Mode::Replace)
}

/// A plan as `lvsh plan` prints it without color.
pub fn render(plan: &Plan, against: &Against) -> String {
    let mut out = Vec::new();
    plan.write_text_against(false, against, &mut out)
        .expect("writing into memory");
    String::from_utf8(out).expect("a plan is text")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(text: &str) -> Result<TestCase, String> {
        let dir = std::env::temp_dir().join(format!("lvsh-test-case-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("t{}.rhai", text.len()));
        std::fs::write(&path, text).unwrap();
        let c = TestCase::read(&path);
        let _ = std::fs::remove_file(&path);
        c
    }

    #[test]
    fn headers_are_the_comment_lines_before_code() {
        let c = case(
            "// A comment.\n// expect-plan: a.plan\n\n// expect-warning: deprecated\nlet x = 1;\n// expect-error: not a header\n",
        )
        .unwrap();
        assert_eq!(c.plan.as_deref(), Some("a.plan"));
        assert_eq!(c.warnings, ["deprecated"]);
        assert_eq!(c.error, None);
        let c = case("// expect-error: 3:5 needs at least 1 item\n").unwrap();
        assert_eq!(
            c.error,
            Some((Some("3:5".into()), "needs at least 1 item".into()))
        );
        let c = case("// expect-error: servers: needs\n").unwrap();
        assert_eq!(c.error, Some((None, "servers: needs".into())));
    }

    #[test]
    fn a_wrong_header_is_the_tests_error() {
        let e = case("// expect-plans: a.plan\n").unwrap_err();
        assert!(e.contains("unknown header `expect-plans:`"), "{e}");
        assert!(e.contains("expect-plan"), "{e}");
        assert!(case("// expect-error: x\n// expect-plan: a.plan\n").is_err());
        assert!(case("// expect-plan:\n").is_err());
    }
}
