//! Which scenarios there are, in which order they run, and their time limits.

use std::fs;
use std::path::{Path, PathBuf};

/// The folders under `tests/lab` that hold scenarios, run in this order.
pub const FOLDERS: [&str; 2] = ["scenarios", "selftest"];

/// A scenario's limit unless its header says `# lab-timeout: SECONDS`.
pub const DEFAULT_LIMIT: u32 = 60;

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The file name without `.sh`; also the name of its test in `tests/lab.rs`.
    pub name: String,
    /// The path under `tests/lab`, which is also its path under `/lab` in the VM.
    pub path: String,
    pub file: PathBuf,
    /// Seconds the VM lets it run before killing it.
    pub limit: u32,
}

#[cfg(test)]
impl Scenario {
    /// A scenario for tests of the harness.
    pub fn named(name: &str, limit: u32) -> Scenario {
        Scenario {
            name: name.into(),
            path: format!("scenarios/{name}.sh"),
            file: PathBuf::from(format!("{name}.sh")),
            limit,
        }
    }
}

/// Every scenario of the lab's own folders.
#[allow(dead_code)] // used by tests/lab.rs, not by tests/lab_bench.rs
pub fn discover(lab_dir: &Path) -> Result<Vec<Scenario>, String> {
    discover_in(lab_dir, &FOLDERS.map(String::from))
}

/// Every scenario under `lab_dir` in these folders, folder by folder, sorted by name.
pub fn discover_in(lab_dir: &Path, folders: &[String]) -> Result<Vec<Scenario>, String> {
    let mut all: Vec<Scenario> = Vec::new();
    for folder in folders {
        let dir = lab_dir.join(folder);
        let entries =
            fs::read_dir(&dir).map_err(|e| format!("cannot list `{}`: {e}", dir.display()))?;
        let mut found = Vec::new();
        for entry in entries {
            let file = entry
                .map_err(|e| format!("cannot list `{}`: {e}", dir.display()))?
                .path();
            let Some(name) = file
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".sh"))
            else {
                continue;
            };
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(format!(
                    "scenario file `{}`: names are lower case letters, digits and `_` (they name tests)",
                    file.display()
                ));
            }
            let text = fs::read_to_string(&file)
                .map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
            found.push(Scenario {
                name: name.to_string(),
                path: format!("{folder}/{name}.sh"),
                limit: limit(&text).map_err(|e| format!("`{}`: {e}", file.display()))?,
                file,
            });
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        for scenario in found {
            if let Some(twin) = all.iter().find(|s| s.name == scenario.name) {
                return Err(format!(
                    "two scenarios named `{}`: `{}` and `{}`",
                    scenario.name, twin.path, scenario.path
                ));
            }
            all.push(scenario);
        }
    }
    Ok(all)
}

/// The scenarios named in `only` (all when `None`), in plan order.
pub fn select(all: &[Scenario], only: Option<&[String]>) -> Result<Vec<Scenario>, String> {
    let Some(only) = only else {
        return Ok(all.to_vec());
    };
    if let Some(unknown) = only
        .iter()
        .find(|name| !all.iter().any(|s| &s.name == *name))
    {
        let known: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        return Err(format!(
            "no scenario named `{unknown}`; there are: {}",
            known.join(", ")
        ));
    }
    Ok(all
        .iter()
        .filter(|s| only.contains(&s.name))
        .cloned()
        .collect())
}

/// `/lab/plan` for the VM: one `NAME PATH LIMIT` line per scenario.
pub fn plan_file(scenarios: &[Scenario]) -> String {
    scenarios
        .iter()
        .map(|s| format!("{} {} {}\n", s.name, s.path, s.limit))
        .collect()
}

/// The limit from a `# lab-timeout: SECONDS` line among the leading comments.
fn limit(text: &str) -> Result<u32, String> {
    for line in text.lines().take_while(|line| line.starts_with('#')) {
        if let Some(value) = line.strip_prefix("# lab-timeout:") {
            return match value.trim().parse() {
                Ok(seconds) if seconds > 0 => Ok(seconds),
                _ => Err(format!(
                    "`{line}`: the limit is a whole number of seconds above 0"
                )),
            };
        }
    }
    Ok(DEFAULT_LIMIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_comes_from_the_header_comment() {
        assert_eq!(limit("# lab-timeout: 2\n# why\necho hi\n"), Ok(2));
        assert_eq!(limit("# what it proves\n# lab-timeout:  90\n"), Ok(90));
        assert_eq!(
            limit("# nothing said\necho '# lab-timeout: 5'\n"),
            Ok(DEFAULT_LIMIT)
        );
        assert!(
            limit("# lab-timeout: soon\n")
                .unwrap_err()
                .contains("whole number")
        );
        assert!(limit("# lab-timeout: 0\n").is_err());
    }

    #[test]
    fn selecting_an_unknown_scenario_names_the_known_ones() {
        let all = vec![Scenario::named("ppc", 60)];
        assert_eq!(select(&all, None).unwrap(), all);
        assert_eq!(select(&all, Some(&["ppc".to_string()])).unwrap(), all);
        let error = select(&all, Some(&["pcc".to_string()])).unwrap_err();
        assert_eq!(error, "no scenario named `pcc`; there are: ppc");
    }

    #[test]
    fn the_plan_file_has_a_line_per_scenario() {
        let all = vec![Scenario::named("ppc", 60)];
        assert_eq!(plan_file(&all), "ppc scenarios/ppc.sh 60\n");
    }
}
