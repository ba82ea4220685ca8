//! The boot lab's plan (`tests/lab/boot/plan`): the scenarios in the order
//! they run, and the reboots between them.

use super::plan::{Scenario, discover_in};
use std::fs;
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Scenario(Scenario),
    Reboot,
}

#[derive(Debug)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    /// Reads the plan and the scenario files it names (`scenarios/NAME.sh`,
    /// with their `# lab-timeout:`); every file must be in the plan once.
    pub fn load(boot_dir: &Path) -> Result<Plan, String> {
        let files = discover_in(boot_dir, &["scenarios".to_string()])?;
        let path = boot_dir.join("plan");
        let text = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let plan = Plan::parse(&text, &files).map_err(|e| format!("`{}`: {e}", path.display()))?;
        Ok(plan)
    }

    fn parse(text: &str, files: &[Scenario]) -> Result<Plan, String> {
        let mut steps = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line == "reboot" {
                steps.push(Step::Reboot);
                continue;
            }
            let scenario = files
                .iter()
                .find(|s| s.name == line)
                .ok_or_else(|| format!("no scenario file `scenarios/{line}.sh`"))?;
            if steps.contains(&Step::Scenario(scenario.clone())) {
                return Err(format!("`{line}` is in the plan twice"));
            }
            steps.push(Step::Scenario(scenario.clone()));
        }
        if let Some(left_out) = files
            .iter()
            .find(|s| !steps.contains(&Step::Scenario((*s).clone())))
        {
            return Err(format!(
                "`scenarios/{}.sh` is not in the plan",
                left_out.name
            ));
        }
        Ok(Plan { steps })
    }

    pub fn scenarios(&self) -> Vec<Scenario> {
        self.steps
            .iter()
            .filter_map(|step| match step {
                Step::Scenario(s) => Some(s.clone()),
                Step::Reboot => None,
            })
            .collect()
    }

    /// How many times the VM boots when it runs the whole plan.
    pub fn boots(&self) -> usize {
        1 + self.steps.iter().filter(|s| **s == Step::Reboot).count()
    }

    /// `/lab/plan` for the runner: `scenario NAME PATH LIMIT` or `reboot`.
    pub fn file(&self) -> String {
        self.steps
            .iter()
            .map(|step| match step {
                Step::Scenario(s) => format!("scenario {} {} {}\n", s.name, s.path, s.limit),
                Step::Reboot => "reboot\n".into(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_names_every_scenario_once_and_counts_the_boots() {
        let files = [Scenario::named("a", 10), Scenario::named("b", 20)];
        let plan = Plan::parse("# comment\na\nreboot\n\nb\n", &files).unwrap();
        assert_eq!(plan.boots(), 2);
        assert_eq!(
            plan.file(),
            "scenario a scenarios/a.sh 10\nreboot\nscenario b scenarios/b.sh 20\n"
        );
        assert!(
            Plan::parse("a\n", &files)
                .unwrap_err()
                .contains("`scenarios/b.sh` is not in the plan")
        );
        assert!(
            Plan::parse("a\nb\na\n", &files)
                .unwrap_err()
                .contains("twice")
        );
        assert!(
            Plan::parse("a\nb\nc\n", &files)
                .unwrap_err()
                .contains("no scenario file")
        );
    }
}
