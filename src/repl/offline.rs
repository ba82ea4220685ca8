//! A [`Kernel`] that is only a model in memory: `--state FILE.json` or `--empty`.
//! `:apply` updates that model, so a session can rehearse a change end to end.

use super::Kernel;
use super::error::ReplError;
use crate::convert::script::to_script;
use crate::model::{Balancer, Runtime, Timeouts};
use crate::plan::{Against, Mode, diff};
use crate::watch::Store;
use std::path::Path;

pub struct Offline {
    model: Balancer,
    /// What the model stands for: "an empty balancer", "state file `x.json`".
    label: String,
    /// What the prompt says the session is in sync with.
    against: Against,
    /// `:show`; `None` = the model as a script.
    render: Option<fn(&Balancer) -> String>,
    /// The run-time state whose holds `:plan` and `:apply` keep; `None` = no holds.
    store: Option<Store>,
}

impl Offline {
    /// A kernel holding `model`; `label` names it in `:show` and `:apply`.
    pub fn new(model: Balancer, label: impl Into<String>) -> Self {
        let label = label.into();
        Offline {
            model,
            against: Against::Named(label.clone()),
            label,
            render: None,
            store: None,
        }
    }

    /// `--empty`.
    pub fn empty() -> Self {
        Offline::new(Balancer::default(), "an empty balancer").with_against(Against::Empty)
    }

    /// Names what the model stands for in "in sync with .." and in empty plans.
    pub fn with_against(mut self, against: Against) -> Self {
        self.against = against;
        self
    }

    /// `--state FILE.json`: the JSON of `lvsh emit --to json`.
    pub fn from_file(path: &Path) -> Result<Self, ReplError> {
        let text = std::fs::read_to_string(path).map_err(|source| ReplError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let model = Balancer::from_json(&text).map_err(|source| ReplError::State {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(
            Offline::new(model, format!("state file `{}`", path.display()))
                .with_against(Against::StateFile(path.to_path_buf())),
        )
    }

    /// Renders `:show` with `render` instead of as a script.
    pub fn with_render(mut self, render: fn(&Balancer) -> String) -> Self {
        self.render = Some(render);
        self
    }

    /// Keeps the holds of `store` (a namespace's drains and health), as the live
    /// kernel does.
    pub fn with_store(mut self, store: Store) -> Self {
        self.store = Some(store);
        self
    }

    /// The model as `:apply` left it.
    pub fn model(&self) -> &Balancer {
        &self.model
    }
}

impl Kernel for Offline {
    fn observe(&mut self) -> Result<Balancer, miette::Report> {
        Ok(self.model.clone())
    }

    /// Does what the kernel would: the desired model replaces the held one, except
    /// that timeouts and sysctls the script leaves unset keep their values.
    fn apply(&mut self, desired: &Balancer) -> Result<String, miette::Report> {
        let runtime = self.runtime()?;
        let held = crate::model::effective(desired, &runtime, crate::apply::journal_now()).0;
        let desired = &held;
        let plan = diff(desired, &self.model, Mode::Replace);
        let (add, change, delete) = plan.counts();
        let kept = self.model.timeouts;
        let mut sysctls = std::mem::take(&mut self.model.sysctls);
        for (name, v) in desired.sysctls.iter() {
            sysctls.set(name, v.clone());
        }
        self.model = desired.clone();
        self.model.sysctls = sysctls;
        self.model.timeouts = Timeouts {
            tcp: desired.timeouts.tcp.or(kept.tcp),
            tcp_fin: desired.timeouts.tcp_fin.or(kept.tcp_fin),
            udp: desired.timeouts.udp.or(kept.udp),
        };
        Ok(format!(
            "Simulated on {}: {add} added, {change} changed, {delete} deleted. \
             The kernel was not touched.\n",
            self.label
        ))
    }

    fn against(&self) -> Against {
        self.against.clone()
    }

    fn runtime(&mut self) -> Result<Runtime, miette::Report> {
        match &self.store {
            Some(store) => Ok(store.load()?),
            None => Ok(Runtime::default()),
        }
    }

    fn show(&mut self) -> Result<String, miette::Report> {
        Ok(match self.render {
            Some(render) => render(&self.model),
            None if self.model.is_empty() => format!("// {}: nothing configured\n", self.label),
            None => to_script(&self.model, &self.label),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsl::{Options, evaluate_source};

    fn model(src: &str) -> Balancer {
        evaluate_source("t.rhai", src, None, &Options::default())
            .unwrap()
            .balancer
    }

    #[test]
    fn apply_replaces_the_model_and_keeps_unset_timeouts() {
        let mut k = Offline::new(
            model("timeouts(900, 120, 300); service(\"10.0.0.1\", 80);"),
            "test",
        );
        let want = model("service(\"10.0.0.2\", 80).rs(rs(\"10.1.0.1\"));");
        let summary = k.apply(&want).unwrap();
        assert_eq!(
            summary,
            "Simulated on test: 2 added, 0 changed, 1 deleted. The kernel was not touched.\n"
        );
        let now = k.observe().unwrap();
        assert!(diff(&want, &now, Mode::Replace).is_empty());
        assert_eq!(now.timeouts.tcp, Some(900));
    }

    #[test]
    fn apply_keeps_what_the_run_time_side_holds() {
        use crate::model::{DestKey, Drain, DrainState, Protocol, ServiceKey};
        let dir = tempfile::tempdir().unwrap();
        let store = Store::at(dir.path().join("runtime.json"));
        let mut rt = Runtime::default();
        let svc = ServiceKey::inet(Protocol::Tcp, "10.0.0.1".parse().unwrap(), 80);
        let rs = DestKey {
            address: "10.1.0.2".parse().unwrap(),
            port: 80,
        };
        rt.entry(svc, rs).drain = Some(Drain {
            state: DrainState::Draining,
            started: 1,
            deadline: None,
            prior_weight: 3,
            remove: false,
            ended: None,
            outcome: None,
        });
        store.save(&rt).unwrap();
        let mut k = Offline::new(Balancer::default(), "test").with_store(store);
        assert_eq!(k.runtime().unwrap(), rt);
        let want = model(
            "service(\"10.0.0.1\", 80).rs(rs(\"10.1.0.1\").weight(3)).rs(rs(\"10.1.0.2\").weight(3));",
        );
        k.apply(&want).unwrap();
        let weights: Vec<u32> = k.model().services[&svc]
            .dests
            .values()
            .map(|d| d.weight)
            .collect();
        assert_eq!(weights, [3, 0]);
    }

    #[test]
    fn show_is_a_script_by_default() {
        let mut k = Offline::new(model("service(\"10.0.0.1\", 80);"), "state file `s.json`");
        let text = k.show().unwrap();
        assert!(text.starts_with("// state file `s.json`\n"), "{text}");
        assert!(text.contains("service(\"10.0.0.1\", 80)"), "{text}");
        assert_eq!(
            Offline::empty().show().unwrap(),
            "// an empty balancer: nothing configured\n"
        );
        let mut k = Offline::empty().with_render(|b| format!("{} services\n", b.services.len()));
        assert_eq!(k.show().unwrap(), "0 services\n");
    }

    #[test]
    fn state_files_are_read_or_explained() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        std::fs::write(&p, model("service(\"10.0.0.1\", 80);").to_json()).unwrap();
        assert_eq!(Offline::from_file(&p).unwrap().model().services.len(), 1);
        std::fs::write(&p, "{ nope").unwrap();
        assert!(matches!(
            Offline::from_file(&p),
            Err(ReplError::State { .. })
        ));
        assert!(matches!(
            Offline::from_file(&dir.path().join("missing.json")),
            Err(ReplError::Read { .. })
        ));
    }
}
