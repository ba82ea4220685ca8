//! The health of one probe target: consecutive successes bring it up (`rise`),
//! consecutive failures take it down (`fall`). A server flapping faster than `rise`
//! probes never comes up; one that is merely slow once never goes down.

use crate::model::HealthState;

/// Where a target stands between probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracker {
    /// `None` while undecided: a server watch found serving (adopted, its weight
    /// kept) or a new one (held at 0), until `rise` or `fall` decides.
    state: Option<HealthState>,
    /// Successes in a row.
    ups: u32,
    /// Failures in a row.
    downs: u32,
}

/// A decided change of health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: HealthState,
    pub to: HealthState,
}

impl Tracker {
    /// Resumes from a persisted state (`Up`/`Down`), or starts undecided.
    pub fn resume(state: Option<HealthState>) -> Self {
        Tracker {
            state: state.filter(|s| *s != HealthState::Unknown),
            ups: 0,
            downs: 0,
        }
    }

    pub fn state(&self) -> HealthState {
        self.state.unwrap_or(HealthState::Unknown)
    }

    pub fn is_decided(&self) -> bool {
        self.state.is_some()
    }

    /// Counts one probe's answer; the transition it completes, if any.
    pub fn observe(&mut self, ok: bool, rise: u32, fall: u32) -> Option<Transition> {
        let (run, needed, to) = if ok {
            self.downs = 0;
            self.ups = self.ups.saturating_add(1);
            (self.ups, rise, HealthState::Up)
        } else {
            self.ups = 0;
            self.downs = self.downs.saturating_add(1);
            (self.downs, fall, HealthState::Down)
        };
        if self.state == Some(to) || run < needed.max(1) {
            return None;
        }
        let from = self.state();
        self.state = Some(to);
        Some(Transition { from, to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use HealthState::*;

    fn run(t: &mut Tracker, answers: &str) -> Vec<HealthState> {
        answers
            .chars()
            .filter_map(|c| t.observe(c == '+', 2, 3).map(|tr| tr.to))
            .collect()
    }

    #[test]
    fn rise_and_fall_count_answers_in_a_row() {
        let mut t = Tracker::resume(None);
        assert_eq!(t.state(), Unknown);
        assert_eq!(run(&mut t, "+"), vec![]);
        assert_eq!(run(&mut t, "+"), vec![Up]);
        assert_eq!(
            run(&mut t, "--+--+"),
            vec![],
            "never three failures in a row"
        );
        assert_eq!(run(&mut t, "---"), vec![Down]);
        assert_eq!(run(&mut t, "---+-"), vec![]);
        assert_eq!(run(&mut t, "++"), vec![Up]);
    }

    #[test]
    fn a_flapping_server_never_rises() {
        let mut t = Tracker::resume(Some(Down));
        assert_eq!(run(&mut t, "+-+-+-+-+-+-+-+-"), vec![]);
        assert_eq!(t.state(), Down);
    }

    #[test]
    fn an_undecided_server_can_fall_first() {
        let mut t = Tracker::resume(Some(Unknown));
        assert!(!t.is_decided());
        let tr = (0..3).find_map(|_| t.observe(false, 2, 3)).unwrap();
        assert_eq!((tr.from, tr.to), (Unknown, Down));
    }

    #[test]
    fn a_resumed_state_needs_a_full_run_to_change() {
        let mut t = Tracker::resume(Some(Up));
        assert_eq!(run(&mut t, "--"), vec![]);
        assert_eq!(run(&mut t, "-"), vec![Down]);
    }
}
