//! What one evaluation (or one REPL session) shares between the bindings: the
//! registered objects, script texts, captured output and `--set` parameters.

use super::{
    address::AddressDraft, daemon::DaemonDraft, engine::MAX_RUN_TIME, real_server::RealServerDraft,
    service::ServiceDraft, sources::Sources, sysctl::SysctlDraft, timeouts::TimeoutsDraft,
};
use crate::model::{Origin, Scope};
use rhai::NativeCallContext;
use std::{
    collections::HashSet,
    sync::{Arc, Mutex, MutexGuard},
    time::Instant,
};

/// A script object: every copy of a handle refers to the same object, so
/// `let web = service(..); web.rs(..)` changes the registered service.
#[derive(Debug, Default)]
///
/// The value sits behind its own `Arc` so that a REPL snapshot shares it instead of
/// copying it: an entry copies only the drafts it changes (on their first change),
/// which keeps a long piped session linear rather than quadratic.
pub(crate) struct Handle<T>(Arc<Mutex<Arc<T>>>);

impl<T> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Handle(self.0.clone())
    }
}

impl<T: Clone> Handle<T> {
    pub fn new(value: T) -> Self {
        Handle(Arc::new(Mutex::new(Arc::new(value))))
    }

    pub fn lock(&self) -> Guard<'_, T> {
        Guard(lock(&self.0))
    }

    pub fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The current value, shared until the next change.
    fn share(&self) -> Arc<T> {
        lock(&self.0).clone()
    }

    fn put(&self, value: &Arc<T>) {
        *lock(&self.0) = value.clone();
    }
}

/// A locked draft; writing through it copies the draft first when a snapshot
/// still shares it.
pub(crate) struct Guard<'a, T>(MutexGuard<'a, Arc<T>>);

impl<T> std::ops::Deref for Guard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Clone> std::ops::DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        Arc::make_mut(&mut self.0)
    }
}

/// Locks, ignoring poisoning: a panicking binding leaves plain data behind.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) type ServiceHandle = Handle<ServiceDraft>;
pub(crate) type RealServerHandle = Handle<RealServerDraft>;
pub(crate) type DaemonHandle = Handle<DaemonDraft>;

/// Where a call happened. `here` is the call itself; `via` is the call in the
/// top-level script that led to it when `here` is inside an imported module, so a
/// problem can point at the user's own line and show the module line as a note.
///
/// One pointer, shared by every call made at the same place (see `Sources::at`):
/// every setting of every object holds an `At` (10,000 services hold about 400,000).
#[derive(Debug, Clone, Default)]
pub(crate) struct At(Option<Arc<Calls>>);

#[derive(Debug)]
pub(crate) struct Calls {
    pub here: Origin,
    pub via: Option<Origin>,
}

/// The `At` of a default or of the start model.
static NOWHERE: Origin = Origin::NONE;

impl At {
    pub fn of(here: Origin) -> Self {
        At::via(here, None)
    }

    pub fn via(here: Origin, via: Option<Origin>) -> Self {
        if here.is_none() && via.is_none() {
            return At::default();
        }
        At(Some(Arc::new(Calls { here, via })))
    }

    /// The call itself.
    pub fn here(&self) -> &Origin {
        self.0.as_ref().map_or(&NOWHERE, |c| &c.here)
    }

    /// The call in the top-level script that led here, when `here` is in a module.
    pub fn module_call(&self) -> Option<&Origin> {
        self.0.as_ref().and_then(|c| c.via.as_ref())
    }

    /// The place in the top-level script: the call that led here, else the call itself.
    pub fn primary(&self) -> &Origin {
        self.module_call().unwrap_or(self.here())
    }

    pub fn is_none(&self) -> bool {
        self.here().is_none()
    }
}

/// A setting and the call that set it (none = a default or the start model).
#[derive(Debug, Clone, Default)]
pub(crate) struct Traced<T> {
    pub value: T,
    pub at: At,
}

impl<T> Traced<T> {
    pub fn new(value: T) -> Self {
        Traced {
            value,
            at: At::default(),
        }
    }

    pub fn set(&mut self, value: T, at: At) {
        self.value = value;
        self.at = at;
    }

    /// Where it was set, else `fallback` (the object's creating call).
    pub fn origin<'a>(&'a self, fallback: &'a At) -> &'a At {
        if self.at.is_none() {
            fallback
        } else {
            &self.at
        }
    }
}

/// Scripts treat a second declaration of a key as an error; the REPL re-opens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Script,
    Repl,
}

/// Every object created so far, in creation order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Registry {
    pub services: Vec<ServiceHandle>,
    /// Only kept in the REPL, where an entry that fails must be undone.
    pub servers: Vec<RealServerHandle>,
    pub daemons: Vec<DaemonHandle>,
    pub timeouts: TimeoutsDraft,
    /// `sysctl()` calls in order, duplicates included (the build reports them).
    pub sysctls: Vec<SysctlDraft>,
    /// `address()` calls in order, duplicates included (the build reports them).
    pub addresses: Vec<AddressDraft>,
    /// What a scoped script owns (`owns`, `owns_marks`, `--scope`); scripts only.
    pub scope: Option<Scope>,
}

/// The values of every object at one moment: a REPL entry restores it on failure.
#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    services: Vec<(ServiceHandle, Arc<ServiceDraft>)>,
    servers: Vec<(RealServerHandle, Arc<RealServerDraft>)>,
    daemons: Vec<(DaemonHandle, Arc<DaemonDraft>)>,
    timeouts: TimeoutsDraft,
    sysctls: Vec<SysctlDraft>,
    addresses: Vec<AddressDraft>,
}

/// How many objects of each kind a registry holds (see `Registry::declared`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Declared {
    services: usize,
    daemons: usize,
    sysctls: usize,
    timeouts: [Option<u32>; 3],
}

impl Registry {
    /// What has been declared so far, to tell whether a module's import declared more.
    pub fn declared(&self) -> Declared {
        let t = &self.timeouts;
        Declared {
            services: self.services.len(),
            daemons: self.daemons.len(),
            sysctls: self.sysctls.len(),
            timeouts: [t.tcp.value, t.tcp_fin.value, t.udp.value],
        }
    }

    /// What was declared since `before`: its kind and where (line, column).
    pub fn declared_since(
        &self,
        before: &Declared,
    ) -> Option<(&'static str, Option<(usize, usize)>)> {
        let now = self.declared();
        let at = |a: &At| a.here().pos().map(|p| (p.line, p.column));
        if now.services > before.services {
            let s = self.services[before.services].lock();
            let what = if matches!(s.kind, super::service::Kind::Mark(_)) {
                "a mark"
            } else {
                "a service"
            };
            return Some((what, at(&s.origin)));
        }
        if now.daemons > before.daemons {
            return Some(("a sync daemon", None));
        }
        if now.sysctls > before.sysctls {
            return Some(("a sysctl", None));
        }
        (now.timeouts != before.timeouts).then_some(("timeouts", None))
    }

    pub fn snapshot(&self) -> Snapshot {
        fn copy<T: Clone>(v: &[Handle<T>]) -> Vec<(Handle<T>, Arc<T>)> {
            v.iter().map(|h| (h.clone(), h.share())).collect()
        }
        Snapshot {
            services: copy(&self.services),
            servers: copy(&self.servers),
            daemons: copy(&self.daemons),
            timeouts: self.timeouts.clone(),
            sysctls: self.sysctls.clone(),
            addresses: self.addresses.clone(),
        }
    }

    pub fn restore(&mut self, s: &Snapshot) {
        fn put<T: Clone>(v: &[(Handle<T>, Arc<T>)]) -> Vec<Handle<T>> {
            v.iter()
                .map(|(h, value)| {
                    h.put(value);
                    h.clone()
                })
                .collect()
        }
        self.services = put(&s.services);
        self.servers = put(&s.servers);
        self.daemons = put(&s.daemons);
        self.timeouts = s.timeouts.clone();
        self.sysctls = s.sysctls.clone();
        self.addresses = s.addresses.clone();
    }
}

/// State shared by all bindings of one engine.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub mode: Mode,
    pub registry: Mutex<Registry>,
    pub sources: Mutex<Sources>,
    pub output: Mutex<Vec<String>>,
    pub params: Vec<(String, String)>,
    pub params_read: Mutex<HashSet<String>>,
    /// The `--set` values checked against the script's `const PARAMS`, when it has one.
    pub typed_params: Mutex<Option<rhai::Map>>,
    /// Name of the top-level script (or REPL entry) being evaluated.
    pub main: Mutex<Arc<str>>,
    /// When that evaluation is stopped ([`MAX_RUN_TIME`] after it started).
    pub deadline: Mutex<Instant>,
}

impl Ctx {
    pub fn new(mode: Mode, params: Vec<(String, String)>) -> Arc<Self> {
        Arc::new(Ctx {
            mode,
            registry: Mutex::new(Registry::default()),
            sources: Mutex::new(Sources::default()),
            output: Mutex::new(Vec::new()),
            params,
            params_read: Mutex::new(HashSet::new()),
            typed_params: Mutex::new(None),
            main: Mutex::new(Arc::from("")),
            deadline: Mutex::new(Instant::now() + MAX_RUN_TIME),
        })
    }

    pub fn registry(&self) -> MutexGuard<'_, Registry> {
        lock(&self.registry)
    }

    pub fn sources(&self) -> MutexGuard<'_, Sources> {
        lock(&self.sources)
    }

    /// Starts the time limit of a top-level evaluation (a script, a REPL entry).
    pub fn start_clock(&self) {
        *lock(&self.deadline) = Instant::now() + MAX_RUN_TIME;
    }

    pub fn set_main(&self, name: &str) {
        let n = self.sources().set_main(name);
        *lock(&self.main) = n;
    }

    /// The script position of the call being executed, and of the top-level call
    /// that led to it when it runs inside an imported module.
    pub fn origin(&self, nc: &NativeCallContext) -> At {
        let pos = nc.call_position();
        let Some(line) = pos.line() else {
            return At::default();
        };
        let source = nc.call_source().unwrap_or("");
        let (here, is_main) = self
            .sources()
            .at_main(source, line, pos.position().unwrap_or(1));
        if is_main {
            return here;
        }
        let main = lock(&self.main).clone();
        // The call stack is kept only when the script imports modules.
        let Some(dbg) = nc.debugger() else {
            return here;
        };
        let mut caller_is_main = true;
        let mut via = None;
        for f in dbg.call_stack() {
            if caller_is_main {
                via = Some(f.pos);
            }
            caller_is_main = f.source.as_deref().map_or(caller_is_main, |s| s == &*main);
        }
        let via = via.and_then(|p| {
            let at = self
                .sources()
                .at(&main, p.line()?, p.position().unwrap_or(1));
            Some(at.here().clone())
        });
        At::via(here.here().clone(), via)
    }

    pub fn print(&self, line: String) {
        lock(&self.output).push(line);
    }
}
