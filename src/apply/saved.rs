//! Plans saved to a file (`lvsh plan -o FILE`) and applied later
//! (`lvsh apply FILE`): exactly that plan, and only while the kernel still holds the
//! state it was computed against (Terraform's stale-plan rule).

use crate::{model::Balancer, plan::Mode, state::Observed};
use serde::{Deserialize, Serialize};

/// The format version a saved plan starts with.
pub const FORMAT: u32 = 1;

/// A plan file: the desired model and the plan, with the fingerprint of the state
/// they were computed against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    /// Marks the file as a plan (and its format version).
    pub lvsh_plan: u32,
    pub lvsh_version: String,
    /// Seconds since the Unix epoch.
    pub created: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netns: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_sha256: Option<String>,
    pub merge: bool,
    /// [`Observed::fingerprint`] of the state the plan was made against.
    pub fingerprint: String,
    pub desired: Balancer,
    /// The plan, as `lvsh plan --json` prints it: what apply will do.
    pub plan: serde_json::Value,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SavedPlanError {
    #[error("`{path}` is a plan of format {found}; this lvsh reads format {FORMAT}")]
    #[diagnostic(help("make the plan again with this lvsh"))]
    Format { path: String, found: u32 },
    #[error("`{path}` was made by lvsh {made_by}; this is lvsh {}", env!("CARGO_PKG_VERSION"))]
    #[diagnostic(help("make the plan again with this lvsh: another version may plan differently"))]
    Version { path: String, made_by: String },
    #[error("`{path}` is a plan for {}; this lvsh works in {}", ns(.planned), ns(.here))]
    #[diagnostic(help("apply it with the same --netns it was made with"))]
    Namespace {
        path: String,
        planned: Option<String>,
        here: Option<String>,
    },
    #[error("the kernel changed since `{path}` was made; nothing was applied")]
    #[diagnostic(help("make a new plan with `lvsh plan SCRIPT -o {path}` and review it"))]
    Stale { path: String },
    #[error(
        "`{path}` no longer describes what lvsh would do against this kernel; nothing was applied"
    )]
    #[diagnostic(help("make a new plan with `lvsh plan SCRIPT -o {path}` and review it"))]
    Differs { path: String },
}

fn ns(n: &Option<String>) -> String {
    match n {
        Some(name) => format!("network namespace `{name}`"),
        None => "the namespace lvsh runs in".to_string(),
    }
}

impl SavedPlan {
    /// A file's content as a saved plan, when it is one (a JSON object with
    /// `lvsh_plan`); `None` for anything else, a script for instance.
    pub fn detect(text: &str) -> Option<Result<SavedPlan, serde_json::Error>> {
        let t = text.trim_start();
        // The key comes first in what `lvsh plan -o` writes; a cut inside a
        // character (a script's comment, say) must not panic.
        let mut head = t.len().min(64);
        while !t.is_char_boundary(head) {
            head -= 1;
        }
        if !t.starts_with('{') || !t[..head].contains("\"lvsh_plan\"") {
            return None;
        }
        Some(serde_json::from_str(t))
    }

    pub fn mode(&self) -> Mode {
        if self.merge {
            Mode::Merge
        } else {
            Mode::Replace
        }
    }

    /// Whether this plan may be applied to `observed` in `netns`: same lvsh, same
    /// namespace, same kernel state.
    pub fn check(
        &self,
        path: &str,
        netns: Option<&str>,
        observed: &Observed,
    ) -> Result<(), SavedPlanError> {
        let path = path.to_string();
        if self.lvsh_plan != FORMAT {
            return Err(SavedPlanError::Format {
                path,
                found: self.lvsh_plan,
            });
        }
        if self.lvsh_version != env!("CARGO_PKG_VERSION") {
            return Err(SavedPlanError::Version {
                path,
                made_by: self.lvsh_version.clone(),
            });
        }
        if self.netns.as_deref() != netns {
            return Err(SavedPlanError::Namespace {
                path,
                planned: self.netns.clone(),
                here: netns.map(str::to_string),
            });
        }
        if observed.fingerprint() != self.fingerprint {
            return Err(SavedPlanError::Stale { path });
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan always serializes") + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Protocol, Service, ServiceKey};

    fn observed(port: u16) -> Observed {
        let mut b = Balancer::default();
        let key = ServiceKey::inet(Protocol::Tcp, [10, 0, 0, 1].into(), port);
        b.services.insert(key, Service::new(key));
        Observed {
            balancer: b,
            foreign: vec![],
        }
    }

    fn saved(against: &Observed) -> SavedPlan {
        SavedPlan {
            lvsh_plan: FORMAT,
            lvsh_version: env!("CARGO_PKG_VERSION").into(),
            created: 0,
            netns: None,
            script: Some("site.rhai".into()),
            script_sha256: None,
            merge: false,
            fingerprint: against.fingerprint(),
            desired: Balancer::default(),
            plan: serde_json::json!({"changes": []}),
        }
    }

    #[test]
    fn a_plan_file_is_told_from_a_script_and_round_trips() {
        let p = saved(&observed(80));
        let back = SavedPlan::detect(&p.to_json()).unwrap().unwrap();
        assert_eq!(back, p);
        assert!(SavedPlan::detect("service(\"10.0.0.1\", 80);").is_none());
        assert!(SavedPlan::detect("{ let x = 1; }").is_none());
        // Byte 64 inside a two-byte character: still a script, no panic.
        let block = format!("{{ // {}\n}}\n", "é".repeat(40));
        assert!(!block.is_char_boundary(64));
        assert!(SavedPlan::detect(&block).is_none());
        assert!(
            SavedPlan::detect("{\"lvsh_plan\": \"x\"}")
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn a_plan_applies_only_to_the_state_and_namespace_it_was_made_for() {
        let p = saved(&observed(80));
        p.check("p", None, &observed(80)).unwrap();
        assert!(matches!(
            p.check("p", None, &observed(81)),
            Err(SavedPlanError::Stale { .. })
        ));
        assert!(matches!(
            p.check("p", Some("lb"), &observed(80)),
            Err(SavedPlanError::Namespace { .. })
        ));
        let mut old = p.clone();
        old.lvsh_version = "0.0.1".into();
        assert!(matches!(
            old.check("p", None, &observed(80)),
            Err(SavedPlanError::Version { .. })
        ));
    }
}
