//! One result per scenario, from what the VM reported and how the boot ended.

use super::plan::Scenario;
use super::transcript::Transcript;

/// Kernel messages every topology set-up and tear-down logs.
const ROUTINE_KERNEL_MESSAGES: [&str; 5] = [
    "entered blocking state",
    "entered disabled state",
    "entered forwarding state",
    "promiscuous mode",
    "link becomes ready",
];

#[derive(Debug, Clone)]
pub struct Outcome {
    pub name: String,
    pub verdict: Verdict,
    pub output: String,
    /// Kernel messages logged while the scenario ran.
    pub klog: String,
    /// Seconds the scenario took in the VM.
    pub seconds: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Passed,
    /// It exited with this status.
    Failed(i32),
    /// The VM killed it after its limit, in seconds.
    TimedOut(u32),
    /// It began, and the VM stopped (or was stopped) before it ended.
    Interrupted(String),
    /// The VM never began it.
    NotRun(String),
}

/// The outcome of each scenario; `problem` is why the boot ended early, if it did.
pub fn outcomes(
    scenarios: &[Scenario],
    transcript: &Transcript,
    problem: Option<&str>,
) -> Vec<Outcome> {
    let problem = problem.unwrap_or("the VM ended without running it");
    scenarios
        .iter()
        .map(|scenario| {
            let Some(run) = transcript.run(&scenario.name) else {
                return Outcome {
                    name: scenario.name.clone(),
                    verdict: Verdict::NotRun(problem.to_string()),
                    output: String::new(),
                    klog: String::new(),
                    seconds: None,
                };
            };
            let verdict = match run.end {
                Some(end) if end.timed_out => Verdict::TimedOut(scenario.limit),
                Some(end) if end.status == 0 => Verdict::Passed,
                Some(end) => Verdict::Failed(end.status),
                None => Verdict::Interrupted(problem.to_string()),
            };
            Outcome {
                name: scenario.name.clone(),
                verdict,
                output: run.output.clone(),
                klog: run.klog.clone(),
                seconds: run.end.map(|end| end.uptime - run.began),
            }
        })
        .collect()
}

impl Outcome {
    /// Short, for the summary table.
    pub fn label(&self) -> String {
        match &self.verdict {
            Verdict::Passed => "passed".into(),
            Verdict::Failed(status) => format!("FAILED (exit {status})"),
            Verdict::TimedOut(limit) => format!("TIMED OUT ({limit} s)"),
            Verdict::Interrupted(_) => "INTERRUPTED".into(),
            Verdict::NotRun(_) => "NOT RUN".into(),
        }
    }

    /// What the scenario printed, and the kernel's messages if there were any
    /// beyond the routine ones about links coming and going.
    pub fn transcript(&self) -> String {
        let mut text = format!(
            "--- output of scenario `{}` ---\n{}",
            self.name, self.output
        );
        let (routine, telling): (Vec<&str>, Vec<&str>) = self
            .klog
            .lines()
            .partition(|line| ROUTINE_KERNEL_MESSAGES.iter().any(|r| line.contains(r)));
        if !telling.is_empty() {
            text.push_str("--- kernel messages while it ran ---\n");
            for line in telling {
                text.push_str(line);
                text.push('\n');
            }
            if !routine.is_empty() {
                text.push_str(&format!(
                    "({} routine lines about links left out; the run's channel.log has them)\n",
                    routine.len()
                ));
            }
        }
        text
    }

    /// Ok when it passed; otherwise why not, with its transcript.
    pub fn check(&self) -> Result<(), String> {
        let why = match &self.verdict {
            Verdict::Passed => return Ok(()),
            Verdict::Failed(status) => format!("failed: exit status {status}"),
            Verdict::TimedOut(limit) => {
                format!(
                    "timed out: the VM killed it after its {limit} s limit (`# lab-timeout:` sets another)"
                )
            }
            Verdict::Interrupted(problem) => format!("did not finish: {problem}"),
            Verdict::NotRun(problem) => format!("did not run: {problem}"),
        };
        Err(format!(
            "lab scenario `{}` {why}\n{}",
            self.name,
            self.transcript()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scenario_gets_the_verdict_its_end_marker_says() {
        let mut transcript = Transcript::new("t");
        transcript.feed(
            "@@t ready 1 k\n\
             @@t begin good 1\nfine\n@@t klog good\n@@t end good 0 exit 2\n\
             @@t begin bad 2\noops\n@@t klog bad\n@@t end bad 3 exit 3\n\
             @@t begin slow 3\n@@t klog slow\n@@t end slow 137 timeout 5\n\
             @@t begin stuck 5\nwaiting\n",
        );
        let all = ["good", "bad", "slow", "stuck", "later"].map(|n| Scenario::named(n, 2));
        let outcomes = outcomes(&all, &transcript, Some("the host killed the VM"));
        let verdicts: Vec<&Verdict> = outcomes.iter().map(|o| &o.verdict).collect();
        assert_eq!(
            verdicts,
            [
                &Verdict::Passed,
                &Verdict::Failed(3),
                &Verdict::TimedOut(2),
                &Verdict::Interrupted("the host killed the VM".into()),
                &Verdict::NotRun("the host killed the VM".into()),
            ]
        );
        assert_eq!(outcomes[0].seconds, Some(1.0));
        assert!(outcomes[0].check().is_ok());
        let bad = outcomes[1].check().unwrap_err();
        assert!(
            bad.starts_with("lab scenario `bad` failed: exit status 3\n"),
            "{bad}"
        );
        assert!(bad.contains("oops"), "the failure shows the output: {bad}");
        let stuck = outcomes[3].check().unwrap_err();
        assert!(
            stuck.contains("did not finish: the host killed the VM"),
            "{stuck}"
        );
        assert!(stuck.contains("waiting"), "{stuck}");
    }
}
