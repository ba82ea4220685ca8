//! `lvsh repl`: the interactive shell, on the live kernel or offline.

use super::{CliError, Context, input, live::Live, show};
use crate::{
    apply::{self, ApplyLock, Record},
    model::{Balancer, Runtime},
    plan::Mode,
    repl::{self, Kernel, Offline, ReplOptions},
    state,
    watch::Store,
};
use std::path::{Path, PathBuf};

pub fn run(
    ctx: &Context,
    file: &Option<PathBuf>,
    source: &super::args::StateSource,
    history: &Option<PathBuf>,
) -> Result<i32, CliError> {
    if ctx.dsl.scope.is_some() {
        return Err(CliError::ScopeInRepl);
    }
    // A site's values file starts the session from the script it names.
    let (file, dsl) = match file {
        Some(f) => {
            let (script, opts) = input::with_values(ctx, f)?;
            (Some(script), opts)
        }
        None if !ctx.values.is_empty() => {
            return Err(crate::dsl::ScriptError::new(
                "`--values` needs a script to check the values against: `lvsh repl SITE.toml`",
            )
            .into());
        }
        None => {
            let mut opts = ctx.dsl.clone();
            opts.libraries = input::site_libraries(ctx, Path::new("-"))?;
            (None, opts)
        }
    };
    let kernel: Box<dyn Kernel> = match (&source.state, source.empty) {
        (Some(path), _) => Box::new(
            Offline::new(
                input::read_state(path)?,
                format!("state file `{}`", path.display()),
            )
            .with_against(source.against())
            .with_render(|b| show::render(b, false))
            .with_store(Store::for_netns(ctx.netns.as_deref())),
        ),
        (None, true) => Box::new(
            Offline::empty()
                .with_render(|b| show::render(b, false))
                .with_store(Store::for_netns(ctx.netns.as_deref())),
        ),
        (None, false) => {
            let live = Live::open(ctx)?;
            if !ctx.quiet {
                live.warn_interrupted(false);
            }
            Box::new(LiveKernel {
                live,
                netns: ctx.netns.clone(),
            })
        }
    };
    Ok(repl::run(
        kernel,
        ReplOptions {
            dsl,
            color: ctx.color,
            history: history.clone(),
            script: file,
        },
    ))
}

/// The REPL's view of the live kernel: the same reads and transactional apply as the
/// `plan` and `apply` commands.
struct LiveKernel {
    live: Live,
    netns: Option<String>,
}

impl Kernel for LiveKernel {
    fn observe(&mut self) -> Result<Balancer, miette::Report> {
        Ok(self.live.read()?.balancer)
    }

    fn runtime(&mut self) -> Result<Runtime, miette::Report> {
        Ok(Store::for_netns(self.netns.as_deref()).load()?)
    }

    fn apply(&mut self, desired: &Balancer) -> Result<String, miette::Report> {
        let mut desired = desired.clone();
        state::canonical(&mut desired);
        let _lock =
            ApplyLock::acquire_waiting(self.netns.as_deref(), crate::apply::WRITER_PATIENCE)
                .map_err(CliError::from)?;
        // The holds as they are now, under the lock that `lvsh drain` writes under.
        let runtime = self.runtime()?;
        let desired = crate::model::effective(&desired, &runtime, apply::journal_now()).0;
        let observed = self.live.read()?;
        let Some(prepared) =
            apply::prepare(observed, &desired, Mode::Replace).map_err(CliError::from)?
        else {
            return Ok("No changes. The kernel matches the model.".to_string());
        };
        let journal = self.live.journal();
        let record = Record {
            command: "repl :apply".into(),
            ..Record::default()
        };
        let applied = apply::execute(
            &mut self.live.kernel(),
            prepared,
            &desired,
            Mode::Replace,
            Some((&journal, record)),
        )
        .map_err(CliError::from)?;
        Ok(applied.to_string())
    }

    fn show(&mut self) -> Result<String, miette::Report> {
        let observed = self.live.read()?;
        Ok(format!(
            "{}{}",
            show::render(&observed.balancer, false),
            observed.foreign_notice()
        ))
    }
}
