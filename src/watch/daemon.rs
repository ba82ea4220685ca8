//! `lvsh watch`: loads the script, runs the probes, and writes every change of an
//! effective weight through `apply`'s transaction (lock, journal, verify or roll
//! back). Starting and stopping write nothing when the kernel already holds what
//! the script and the persisted run-time state say.

use super::{Engine, Event, Metrics, ProbeId, ProbeKey, Store, Unprobed};
use crate::{
    apply::{self, ApplyError, ApplyLock, Journal, Kernel, LockError, Record, journal_now},
    model::{Balancer, ProbeResult},
    plan::Mode,
};
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::{
    collections::{BTreeMap, BTreeSet},
    future::Future,
    path::PathBuf,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};
use tokio::sync::mpsc;

/// Runs one probe; the daemon's only way to reach a real server.
pub type Prober =
    Arc<dyn Fn(Arc<ProbeKey>) -> Pin<Box<dyn Future<Output = ProbeResult> + Send>> + Send + Sync>;

/// Tells systemd (`READY=1`, `STATUS=`, `RELOADING=1`, `STOPPING=1`).
pub type Notify<'k> = Box<dyn FnMut(&[sd_notify::NotifyState]) + 'k>;

/// What the daemon asks of its surroundings.
pub struct Io<'k> {
    pub kernel: Kernel<'k>,
    pub journal: Journal,
    pub store: Store,
    /// Where the apply lock lives (tests use their own).
    pub lock_dir: PathBuf,
    pub netns: Option<String>,
    /// The script, as a file name for the journal and logs.
    pub script: String,
    /// Evaluates the script; the error is the rendered report.
    pub evaluate: Box<dyn FnMut() -> Result<Balancer, String> + 'k>,
    /// A fingerprint of the script and what it may import; a change reloads.
    pub inputs: Box<dyn FnMut() -> u64 + 'k>,
    pub prober: Prober,
    /// One line per event (transitions, applies, reloads, errors).
    pub log: Box<dyn FnMut(&str) + 'k>,
    pub notify: Notify<'k>,
    pub allow_mass_delete: bool,
}

/// Signals and requests the daemon acts on between probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Reload,
    Stop,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum WatchError {
    #[error("the script does not evaluate; watch did not start")]
    Script(String),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Lock(#[from] LockError),
    #[error("cannot read the kernel's state")]
    Read(#[source] crate::state::StateError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Store(#[from] super::StoreError),
    #[error("the first apply failed; watch did not start")]
    Apply(#[source] ApplyError),
    #[error("the script deletes {deleted} of the kernel's {total} services; watch did not start")]
    #[diagnostic(help("start it with `--allow-mass-delete` if that is meant"))]
    MassDelete { deleted: usize, total: usize },
}

/// Probes start and weights are written on this tick.
const TICK: Duration = Duration::from_millis(100);
/// How long a tick that could not take the apply lock waits before it tries again,
/// and how long a failed write waits.
const LOCK_PATIENCE: Duration = Duration::from_secs(2);
const RETRY_AFTER: Duration = Duration::from_secs(5);
/// Slow start steps and drain progress are looked at this often.
const RAMP_EVERY: Duration = Duration::from_secs(1);
/// Inputs are looked at this often for a change.
const INPUTS_EVERY: Duration = Duration::from_secs(2);
/// A probe that has not answered this long after its timeout is given up.
const LOST_AFTER: Duration = Duration::from_secs(5);
/// At most this many probes under way: each holds a socket and its buffers (an
/// https probe some tens of kilobytes), so servers that answer slowly must not
/// grow the daemon with their number. At the defaults (every 2 s, timeout 1 s)
/// 2,000 servers never have more than 1,000 under way.
const MAX_IN_FLIGHT: usize = 1024;
/// How often the daemon says that probes wait for the limit.
const WAITING_SAID_EVERY: Duration = Duration::from_secs(60);
/// The kernel's counters are read this often for the metrics.
const COUNTERS_EVERY: Duration = Duration::from_secs(5);
/// Last results are written (to memory) and `lvsh drain`'s records looked for this often.
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// The daemon; returns when asked to stop.
pub async fn run(
    mut io: Io<'_>,
    mut requests: mpsc::UnboundedReceiver<Request>,
    mut metrics: Option<Metrics>,
) -> Result<(), WatchError> {
    let desired = match (io.evaluate)() {
        Ok(desired) => desired,
        Err(report) => {
            // The error names the failure; the report says where and why.
            (io.log)(&format!("the script does not evaluate:\n{report}"));
            return Err(WatchError::Script(report));
        }
    };
    let mut inputs = (io.inputs)();
    let mut engine = {
        let _lock = lock(&io)?;
        let observed = io.kernel.read().map_err(WatchError::Read)?;
        let runtime = io.store.load()?;
        let (mut engine, unprobed) =
            Engine::load(desired, runtime, &observed.balancer, journal_now());
        say_unprobed(&mut io, &unprobed);
        io.store.update(|disk| {
            engine.adopt_drains(disk);
            *disk = engine.runtime.clone();
        })?;
        match write_whole(&mut io, &engine, observed, "watch start")? {
            Some(lines) => lines.iter().for_each(|l| (io.log)(l)),
            None => (io.log)("the kernel holds what the script says; nothing written"),
        }
        engine
    };
    if let Some(m) = &mut metrics {
        m.serve();
        (io.log)(&format!("metrics at http://{}/metrics", m.addr));
    }
    let probes = engine.probes().count();
    (io.log)(&format!(
        "watching {} with {probes} probe{}",
        io.script,
        if probes == 1 { "" } else { "s" }
    ));
    (io.notify)(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::Status(&status_line(&engine)),
    ]);

    // Probes run inside this loop's future: a thousand a second at 2,000 servers,
    // where a task and a channel message each were about a fifth of its user time.
    let mut probes = FuturesUnordered::<Running>::new();
    let mut schedule = Schedule::new(&engine, Instant::now());
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // tokio wakes its own driver (a write to an eventfd) for each timer set earlier
    // than all the timers it held when it last looked; after a tick fired, that was
    // every probe's timeout: a thousand writes a second at 2,000 servers. This
    // timer, set on each tick to fire after the next tick and no later than the
    // timeouts that next tick starts, is always held and earlier: they wake nothing.
    let mut anchor = Box::pin(tokio::time::sleep(TICK));
    let mut dirty = false;
    let mut unsaved = false;
    let mut retry_at: Option<Instant> = None;
    let mut last_ramp = Instant::now();
    let mut last_inputs = Instant::now();
    let mut last_save = Instant::now();
    let mut last_read: Option<Instant> = None;
    let mut last_waiting_said: Option<Instant> = None;
    loop {
        // Probes start and weights are written on the tick only: one tick's
        // transitions are one apply, and a probe answer costs no scan of them all.
        let mut ticked = false;
        tokio::select! {
            _ = tick.tick() => ticked = true,
            () = &mut anchor => anchor.as_mut().reset(schedule.anchor(tokio::time::Instant::now())),
            Some((id, key, result)) = probes.next(), if !probes.is_empty() => {
                if let Some(m) = &metrics {
                    let took = Duration::from_millis(u64::from(result.latency_ms));
                    m.probe(&key.check.kind, result.ok, took);
                }
                // Started before a reload: its probe may have moved, or gone.
                let Some(id) = engine.resolve(id, &key) else { continue };
                schedule.done(id);
                let events = engine.observe(id, result, journal_now());
                for e in &events {
                    (io.log)(&transition_line(e));
                    if let Some(m) = &metrics {
                        m.transition(&e.service, &e.dest, e.transition.to);
                    }
                }
                // The tick's write stores health (under the store's lock) before
                // the weights it causes.
                unsaved = true;
                dirty |= !events.is_empty();
            }
            request = requests.recv() => match request {
                Some(Request::Reload) => {
                    reload(&mut io, &mut engine, &mut schedule, "SIGHUP");
                    inputs = (io.inputs)();
                }
                Some(Request::Stop) | None => break,
            },
        }
        let now = Instant::now();
        if !ticked {
            continue;
        }
        anchor.as_mut().reset(schedule.anchor(now.into()));
        let due = schedule.due(now);
        let waiting = schedule.waiting;
        if waiting > 0 && last_waiting_said.is_none_or(|t| now - t >= WAITING_SAID_EVERY) {
            last_waiting_said = Some(now);
            let (s, verb) = if waiting == 1 {
                ("", "waits")
            } else {
                ("s", "wait")
            };
            (io.log)(&format!(
                "{waiting} due probe{s} {verb}: {MAX_IN_FLIGHT} are under way \
                 (servers answering slowly?); checks run late"
            ));
        }
        for id in due {
            let key = schedule.key(id).clone();
            probes.push(Running {
                probe: (io.prober)(key.clone()),
                started: Some((id, key)),
            });
        }
        if now - last_inputs >= INPUTS_EVERY {
            last_inputs = now;
            let fresh = (io.inputs)();
            if fresh != inputs {
                inputs = fresh;
                reload(&mut io, &mut engine, &mut schedule, "a changed script");
            }
        }
        let wall = journal_now();
        // Looked at once a second whatever it finds: working out every effective
        // weight on each tick would cost more than the probes.
        let periodic = now - last_ramp >= RAMP_EVERY && {
            last_ramp = now;
            engine.ramping(wall) || engine.runtime.servers.values().any(draining)
        };
        if (dirty || periodic) && retry_at.is_none_or(|t| now >= t) {
            let started = Instant::now();
            let written = tick_write(&mut io, &mut engine);
            if let (Some(m), Ok(true) | Err(_)) = (&metrics, &written) {
                m.applied(started.elapsed(), written.is_ok());
            }
            match written {
                Ok(_) => {
                    dirty = false;
                    retry_at = None;
                }
                Err(why) => {
                    (io.log)(&format!(
                        "weights not written ({why}); trying again in {}s",
                        RETRY_AFTER.as_secs()
                    ));
                    retry_at = Some(now + RETRY_AFTER);
                }
            }
        }
        if let Some(m) = &metrics
            && last_read.is_none_or(|t| now - t >= COUNTERS_EVERY)
        {
            last_read = Some(now);
            match io.kernel.read() {
                Ok(observed) => m.servers(&engine.desired, &engine.runtime, &observed.balancer),
                Err(e) => (io.log)(&format!("error: cannot read the kernel's counters: {e}")),
            }
        }
        if now - last_save >= SAVE_EVERY {
            last_save = now;
            if unsaved {
                unsaved = false;
                save_results(&mut io, &engine);
            }
            // `lvsh drain` wrote a record: its weight is the next tick's business.
            if io.store.changed_elsewhere() {
                dirty |= save(&mut io, &mut engine);
            }
        }
    }
    (io.notify)(&[sd_notify::NotifyState::Stopping]);
    save(&mut io, &mut engine);
    save_results(&mut io, &engine);
    (io.log)("stopping; the kernel's table is left as it is");
    Ok(())
}

/// A probe under way; answers with its id and key.
struct Running {
    started: Option<(ProbeId, Arc<ProbeKey>)>,
    probe: Pin<Box<dyn Future<Output = ProbeResult> + Send>>,
}

impl Future for Running {
    type Output = (ProbeId, Arc<ProbeKey>, ProbeResult);

    /// A probe that panics is a failed probe: the daemon and the other probes go on
    /// (as they did when each probe was a task of its own).
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.probe.as_mut().poll(cx)
        }));
        let result = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(result)) => result,
            Err(panic) => ProbeResult {
                ok: false,
                at: journal_now(),
                latency_ms: 0,
                reason: format!("the probe failed inside lvsh: {}", panic_text(&panic)),
            },
        };
        let (id, key) = self.started.take().expect("a probe answers once");
        Poll::Ready((id, key, result))
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic")
}

fn draining(r: &crate::model::ServerRuntime) -> bool {
    r.drain
        .as_ref()
        .is_some_and(|d| d.state == crate::model::DrainState::Draining)
}

fn lock(io: &Io<'_>) -> Result<ApplyLock, LockError> {
    ApplyLock::acquire_waiting_in(&io.lock_dir, io.netns.as_deref(), LOCK_PATIENCE)
}

/// Writes health and script weights; drains are taken from the file, which
/// `lvsh drain` and `undrain` write. Whether a drain record changed there, so
/// the weights want a write.
fn save(io: &mut Io<'_>, engine: &mut Engine) -> bool {
    let saved = io.store.update(|disk| {
        let changed = engine.adopt_drains(disk);
        *disk = engine.runtime.clone();
        changed
    });
    saved.unwrap_or_else(|e| {
        (io.log)(&format!("error: {e}"));
        false
    })
}

fn save_results(io: &mut Io<'_>, engine: &Engine) {
    if let Err(e) = io.store.save_results(engine.last_results()) {
        (io.log)(&format!("error: {e}"));
    }
}

/// Applies the whole script with its holds (at start and on reload), as `lvsh
/// apply` would; the lines to log, or `None` when nothing was written.
fn write_whole(
    io: &mut Io<'_>,
    engine: &Engine,
    observed: crate::state::Observed,
    command: &str,
) -> Result<Option<Vec<String>>, WatchError> {
    let target = engine.effective(journal_now());
    let Some(prepared) =
        apply::prepare(observed, &target, Mode::Replace).map_err(WatchError::Apply)?
    else {
        return Ok(None);
    };
    if let Some((deleted, total)) = apply::mass_delete(&prepared.plan, &prepared.observed.balancer)
        && !io.allow_mass_delete
    {
        return Err(WatchError::MassDelete { deleted, total });
    }
    let changes: Vec<String> = prepared.plan.changes.iter().map(change_line).collect();
    let record = Record {
        command: command.into(),
        script: Some(io.script.clone()),
        script_sha256: None,
    };
    let applied = apply::execute(
        &mut io.kernel,
        prepared,
        &target,
        Mode::Replace,
        Some((&io.journal, record)),
    )
    .map_err(WatchError::Apply)?;
    let mut lines = vec![applied.to_string()];
    let shown = changes.len().min(MAX_LOGGED_CHANGES);
    lines.extend(changes[..shown].iter().map(|c| format!("wrote: {c}")));
    if changes.len() > shown {
        lines.push(format!(
            "... and {} more changes (`lvsh history` has the whole plan)",
            changes.len() - shown
        ));
    }
    Ok(Some(lines))
}

/// A whole load logs its changes one per line, up to this many.
const MAX_LOGGED_CHANGES: usize = 50;

/// Writes the effective weights of the script's servers, touching nothing else;
/// whether anything was written.
fn tick_write(io: &mut Io<'_>, engine: &mut Engine) -> Result<bool, String> {
    let _lock = lock(io).map_err(|e| e.to_string())?;
    let observed = io.kernel.read().map_err(|e| e.to_string())?;
    let now = journal_now();
    // Under the apply lock: a drain recorded by `lvsh drain` is in the file by now,
    // so this write never undoes it.
    let ended = {
        let update = io.store.update_own().map_err(|e| e.to_string())?;
        match &update.elsewhere {
            Some(disk) => {
                engine.adopt_drains(disk);
            }
            None => engine.runtime.prune(),
        }
        let ended = engine.progress_drains(&observed.balancer, now);
        update.save(&engine.runtime).map_err(|e| e.to_string())?;
        ended
    };
    for (s, d, drain) in &ended {
        (io.log)(&format!(
            "rs {d} of {s}: draining -> drained ({}){}",
            drain.outcome.as_deref().unwrap_or("ended"),
            if drain.remove { "; removing it" } else { "" }
        ));
    }
    let target = engine.target(&observed.balancer, now);
    let Some(mut prepared) =
        apply::prepare(observed, &target, Mode::Replace).map_err(|e| e.to_string())?
    else {
        return Ok(false);
    };
    // Objects in `inet lvsh` that lvsh did not write are the next apply's business:
    // a weight change never rewrites the table.
    prepared.steps.nft_before = None;
    prepared.steps.nft_after = None;
    if prepared.steps.is_empty() {
        return Ok(false);
    }
    let changes: Vec<String> = prepared.plan.changes.iter().map(change_line).collect();
    let record = Record {
        command: apply::WATCH_COMMAND.into(),
        script: Some(io.script.clone()),
        script_sha256: None,
    };
    match apply::execute(
        &mut io.kernel,
        prepared,
        &target,
        Mode::Replace,
        Some((&io.journal, record)),
    ) {
        Ok(_) => {
            for line in &changes {
                (io.log)(&format!("wrote: {line}"));
            }
            Ok(true)
        }
        Err(e) => Err(apply_error_line(&e)),
    }
}

/// Re-evaluates the script; on an error the running configuration stays.
fn reload(io: &mut Io<'_>, engine: &mut Engine, schedule: &mut Schedule, why: &str) {
    (io.notify)(&[sd_notify::NotifyState::Reloading]);
    (io.log)(&format!("reloading after {why}"));
    let previous = engine.clone();
    let result = (|| -> Result<Option<Vec<String>>, String> {
        let desired = (io.evaluate)()?;
        let _lock = lock(io).map_err(|e| e.to_string())?;
        let observed = io.kernel.read().map_err(|e| e.to_string())?;
        let unprobed = engine.reload(desired, &observed.balancer, journal_now());
        say_unprobed(io, &unprobed);
        write_whole(io, engine, observed, "watch reload").map_err(|e| match &e {
            WatchError::Apply(a) => apply_error_line(a),
            _ => e.to_string(),
        })
    })();
    match result {
        Ok(Some(lines)) => lines.iter().for_each(|l| (io.log)(l)),
        Ok(None) => (io.log)("reloaded; the kernel already holds it"),
        Err(e) => {
            *engine = previous;
            (io.log)(&format!(
                "reload failed; the running configuration stays:\n{e}"
            ))
        }
    }
    save(io, engine);
    schedule.update(engine, Instant::now());
    (io.notify)(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::Status(&status_line(engine)),
    ]);
}

/// An apply's failure on one line, with what it did to the kernel.
fn apply_error_line(e: &ApplyError) -> String {
    use miette::Diagnostic;
    match e.help() {
        Some(help) => format!("{e}; {help}"),
        None => e.to_string(),
    }
}

/// One change of a tick, for the log: `rs 10.0.0.2:80 of tcp 192.0.2.1:80: weight 10 -> 0`.
fn change_line(c: &crate::plan::Change) -> String {
    use crate::plan::{Action, Object, Snapshot};
    let weight = |s: &Option<Snapshot>| match s {
        Some(Snapshot::Dest(d)) => Some(d.weight),
        _ => None,
    };
    match (&c.object, c.action) {
        (Object::Dest(s, d), Action::Edit) => match (weight(&c.before), weight(&c.after)) {
            (Some(a), Some(b)) if a != b => format!("rs {d} of {s}: weight {a} -> {b}"),
            _ => format!("rs {d} of {s}: changed"),
        },
        (Object::Dest(s, d), Action::Add) => format!(
            "rs {d} of {s}: added at weight {}",
            weight(&c.after).unwrap_or_default()
        ),
        (Object::Dest(s, d), Action::Delete) => format!("rs {d} of {s}: removed"),
        (Object::Service(s), Action::Add) => format!("service {s}: added"),
        (Object::Service(s), Action::Delete) => format!("service {s}: removed"),
        (Object::Service(s), Action::Edit) => format!("service {s}: changed"),
        (other, action) => format!("{action:?} {other:?}").to_lowercase(),
    }
}

fn say_unprobed(io: &mut Io<'_>, unprobed: &[Unprobed]) {
    for u in unprobed {
        (io.log)(&format!(
            "rs {} of {}: not checked: {}",
            u.dest, u.service, u.why
        ));
    }
}

/// `rs 10.0.0.2:80 of tcp 192.0.2.1:80: up -> down (connection refused, 0.3 ms)`.
pub fn transition_line(e: &Event) -> String {
    format!(
        "rs {} of {}: {} -> {} ({}, {} ms)",
        e.dest,
        e.service,
        e.transition.from.name(),
        e.transition.to.name(),
        e.result.reason,
        e.result.latency_ms
    )
}

/// systemd's one-line status: `12 up, 1 down, 2 adopted, 1 draining`.
fn status_line(engine: &Engine) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for slot in engine.slots() {
        for (s, d) in &slot.users {
            let state = engine
                .runtime
                .health(s, d)
                .map_or("adopted", |h| h.state.name());
            *counts.entry(state).or_default() += 1;
        }
    }
    for d in engine
        .runtime
        .servers
        .values()
        .filter_map(|r| r.drain.as_ref())
    {
        *counts.entry(d.state.name()).or_default() += 1;
    }
    if counts.is_empty() {
        return "no checked servers".into();
    }
    counts
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// When each probe runs next. Probes start spread over their interval (no burst of
/// 2,000 connects at once) and never overlap themselves.
struct Schedule {
    /// The engine's probes by id, as of the last [`Schedule::update`].
    keys: Vec<Arc<ProbeKey>>,
    /// By time, so that a tick looks only at the probes that are due.
    queue: BTreeSet<(Instant, ProbeId)>,
    /// Probes under way, by when they started.
    running: BTreeMap<ProbeId, Instant>,
    /// At most this many under way ([`MAX_IN_FLIGHT`]).
    limit: usize,
    /// Due at the last tick but not started for the limit.
    waiting: usize,
    /// The shortest timeout of any probe.
    shortest: Duration,
}

impl Schedule {
    fn new(engine: &Engine, now: Instant) -> Self {
        let mut s = Schedule {
            keys: vec![],
            queue: BTreeSet::new(),
            running: BTreeMap::new(),
            limit: MAX_IN_FLIGHT,
            waiting: 0,
            shortest: Duration::MAX,
        };
        s.update(engine, now);
        s
    }

    /// Follows a load or reload, whose ids are new: probes that remain keep their
    /// time and their run, new ones are scheduled, gone ones dropped.
    fn update(&mut self, engine: &Engine, now: Instant) {
        let moved = |id: ProbeId| engine.find(self.key(id));
        let queue: BTreeMap<ProbeId, Instant> = self
            .queue
            .iter()
            .filter_map(|&(at, id)| Some((moved(id)?, at)))
            .collect();
        let running = self
            .running
            .iter()
            .filter_map(|(&id, &at)| Some((moved(id)?, at)))
            .collect();
        self.keys = engine.ids().map(|(_, key)| key.clone()).collect();
        self.shortest = (self.keys.iter())
            .map(|k| Duration::from_millis(k.check.timeout_ms.into()))
            .min()
            .unwrap_or(Duration::MAX);
        self.running = running;
        self.queue = engine
            .ids()
            .map(|(id, key)| (queue.get(&id).copied().unwrap_or(now + spread(key)), id))
            .collect();
    }

    /// When the daemon's anchor timer fires, set at a tick `now`: after the next
    /// tick, and no later than the timeouts of the probes the next tick starts.
    fn anchor(&self, now: tokio::time::Instant) -> tokio::time::Instant {
        let lead = self
            .shortest
            .clamp(TICK + TICK / 2, Duration::from_secs(3600));
        now + lead
    }

    fn key(&self, id: ProbeId) -> &Arc<ProbeKey> {
        &self.keys[id.index()]
    }

    /// The probes to start now.
    fn due(&mut self, now: Instant) -> Vec<ProbeId> {
        // A probe ends by its timeout; one that has not answered long after it (a
        // future that never finishes) must not stop its server from being probed again.
        let keys = &self.keys;
        self.running.retain(|id, started| {
            let timeout = keys[id.index()].check.timeout_ms;
            now.duration_since(*started) < Duration::from_millis(u64::from(timeout)) + LOST_AFTER
        });
        // A probe still running when it is due stays at the front, and starts on
        // the first tick after it answers; so does one beyond the limit, the most
        // overdue first.
        let room = self.limit.saturating_sub(self.running.len());
        let mut ready = self
            .queue
            .iter()
            .take_while(|(at, _)| *at <= now)
            .filter(|(_, id)| !self.running.contains_key(id));
        let starting: Vec<(Instant, ProbeId)> = ready.by_ref().take(room).copied().collect();
        self.waiting = ready.count();
        let mut due = Vec::with_capacity(starting.len());
        for entry in starting {
            self.queue.remove(&entry);
            let (mut at, id) = entry;
            let every = Duration::from_millis(u64::from(self.key(id).check.every_ms.max(1)));
            // Keeps the phase: a late tick does not drift the schedule.
            while at <= now {
                at += every;
            }
            self.running.insert(id, now);
            self.queue.insert((at, id));
            due.push(id);
        }
        due
    }

    fn done(&mut self, id: ProbeId) {
        self.running.remove(&id);
    }

    #[cfg(test)]
    fn next(&self, id: ProbeId) -> Option<Instant> {
        self.queue.iter().find(|(_, i)| *i == id).map(|(at, _)| *at)
    }
}

/// A stable offset within the probe's interval, from its key.
fn spread(key: &ProbeKey) -> Duration {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    let every = u64::from(key.check.every_ms.max(1));
    Duration::from_millis(h.finish() % every)
}

#[cfg(test)]
mod schedule_tests {
    use super::*;
    use crate::model::{Check, CheckKind};

    #[test]
    fn probes_keep_their_phase_never_overlap_and_a_lost_one_is_given_up() {
        let t0 = Instant::now();
        let mut s = schedule(&[0], MAX_IN_FLIGHT, t0);
        let id = id(0);
        assert_eq!(s.due(t0), vec![id]);
        // Still running two intervals later: not started again.
        assert!(s.due(t0 + Duration::from_secs(4)).is_empty());
        s.done(id);
        assert_eq!(s.due(t0 + Duration::from_secs(4)), vec![id]);
        assert_eq!(
            s.next(id),
            Some(t0 + Duration::from_secs(6)),
            "the phase is kept"
        );
        // Never answered: given up after its timeout and 5 s more.
        assert!(s.due(t0 + Duration::from_secs(8)).is_empty());
        assert_eq!(s.due(t0 + Duration::from_secs(11)), vec![id]);
    }

    #[test]
    fn a_probe_that_panics_is_a_failed_probe_not_a_dead_daemon() {
        let key = Arc::new(key(1));
        let running = Running {
            started: Some((id(0), key.clone())),
            probe: Box::pin(async { panic!("bad state") }),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (answered, answered_key, result) = rt.block_on(running);
        assert_eq!((answered, answered_key), (id(0), key));
        assert!(!result.ok);
        assert_eq!(result.reason, "the probe failed inside lvsh: bad state");
    }

    #[test]
    fn a_reload_keeps_the_time_and_the_run_of_the_probes_that_remain() {
        use crate::model::{Balancer, Dest, DestKey, Protocol, Runtime, Service, ServiceKey};
        let script = |servers: &[u8]| {
            let skey = ServiceKey::inet(Protocol::Tcp, "192.0.2.1".parse().unwrap(), 80);
            let mut svc = Service::new(skey);
            for &n in servers {
                let d = Dest::new(DestKey {
                    address: std::net::IpAddr::from([10, 0, 0, n]),
                    port: 80,
                });
                svc.dests.insert(d.key, d);
            }
            let mut b = Balancer::default();
            b.services.insert(skey, svc);
            b.checks.service_mut(skey).check = Some(Check::new(CheckKind::Tcp));
            b
        };
        let t0 = Instant::now();
        let (mut engine, _) = Engine::load(script(&[3, 4]), Runtime::default(), &script(&[]), 0);
        let mut s = Schedule::new(&engine, t0);
        let later = t0 + Duration::from_secs(2);
        let started = s.due(later);
        assert_eq!(started.len(), 2);
        let three = engine.find(&key(3)).unwrap();
        let three_next = s.next(three).unwrap();
        // 10.0.0.1 comes first in the new list: 10.0.0.3's id moves.
        engine.reload(script(&[1, 3]), &script(&[]), 1);
        s.update(&engine, later);
        let moved = engine.find(&key(3)).unwrap();
        assert_ne!(moved, three);
        assert_eq!(s.next(moved), Some(three_next), "its time is kept");
        assert!(s.running.contains_key(&moved), "still under way");
        assert_eq!(s.running.len(), 1, "10.0.0.4's run is dropped with it");
        let one = engine.find(&key(1)).unwrap();
        assert!(s.next(one).unwrap() < later + Duration::from_secs(2));
        assert_eq!(s.queue.len(), 2);
    }

    fn key(n: u8) -> ProbeKey {
        ProbeKey {
            check: Check::new(CheckKind::Tcp),
            connect: ([10, 0, 0, n], 80).into(),
            via: None,
        }
    }

    fn id(n: u32) -> ProbeId {
        ProbeId::at(n)
    }

    /// Probes of 10.0.0.1, 10.0.0.2, ... (ids 0, 1, ...), first due `at` after `t0`.
    fn schedule(at_ms: &[u64], limit: usize, t0: Instant) -> Schedule {
        let keys = (1..=at_ms.len()).map(|n| Arc::new(key(n as u8))).collect();
        let queue = (0..)
            .zip(at_ms)
            .map(|(n, &ms)| (t0 + Duration::from_millis(ms), id(n)))
            .collect();
        Schedule {
            keys,
            queue,
            running: BTreeMap::new(),
            limit,
            waiting: 0,
            shortest: Duration::from_secs(1),
        }
    }

    #[test]
    fn the_anchor_fires_after_the_next_tick_and_before_the_timeouts_it_starts() {
        let t0 = tokio::time::Instant::now();
        let mut s = schedule(&[0], MAX_IN_FLIGHT, t0.into_std());
        assert_eq!(s.anchor(t0), t0 + Duration::from_secs(1));
        s.shortest = Duration::from_millis(20);
        assert_eq!(s.anchor(t0), t0 + TICK + TICK / 2);
        s.shortest = Duration::MAX;
        assert_eq!(s.anchor(t0), t0 + Duration::from_secs(3600));
    }

    #[test]
    fn a_tick_starts_the_due_probes_only_in_their_order() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut s = schedule(&[300, 100, 900], MAX_IN_FLIGHT, t0);
        assert!(s.due(t0).is_empty());
        assert_eq!(s.due(t0 + ms(300)), vec![id(1), id(0)]);
        s.done(id(0));
        s.done(id(1));
        assert!(s.due(t0 + ms(800)).is_empty());
        assert_eq!(s.due(t0 + ms(2_100)), vec![id(2), id(1)]);
        assert_eq!(s.next(id(0)), Some(t0 + ms(2_300)));
        assert_eq!(s.next(id(1)), Some(t0 + ms(4_100)));
    }

    #[test]
    fn beyond_the_limit_the_most_overdue_start_first_when_room_frees() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut s = schedule(&[10, 20, 30, 40, 50], 2, t0);
        assert_eq!(s.due(t0 + ms(100)), vec![id(0), id(1)]);
        assert_eq!(s.waiting, 3);
        // Full: nothing starts, and the waiting keep their place.
        assert!(s.due(t0 + ms(200)).is_empty());
        assert_eq!(s.waiting, 3);
        s.done(id(1));
        assert_eq!(s.due(t0 + ms(300)), vec![id(2)]);
        assert_eq!(s.waiting, 2);
        s.done(id(0));
        s.done(id(2));
        assert_eq!(s.due(t0 + ms(400)), vec![id(3), id(4)]);
        assert_eq!(s.waiting, 0);
        // Each keeps its phase.
        assert_eq!(s.next(id(3)), Some(t0 + ms(2_040)));
    }
}

#[cfg(test)]
mod tests;
