//! SIGINT, SIGTERM and SIGHUP are deferred while an apply writes or rolls back: the
//! first one stops the writing at the next batch and the apply rolls back; later
//! ones only say that lvsh is finishing. A kernel is never left half-written
//! because someone pressed Ctrl-C, `systemctl stop` ran, or a CI job timed out.

use signal_hook::{
    consts::{SIGHUP, SIGINT, SIGTERM},
    iterator::Signals,
    low_level::emulate_default_handler,
};
use std::sync::{
    OnceLock,
    atomic::{AtomicBool, AtomicI32, Ordering},
};

/// The process's one signal watcher: a thread that records signals while an apply
/// defers them and acts as the default action (the process ends) otherwise.
#[derive(Debug, Default)]
struct Watcher {
    deferring: AtomicBool,
    /// The first signal received while deferring, 0 while none.
    first: AtomicI32,
    restoring: AtomicBool,
}

static WATCHER: OnceLock<Result<&'static Watcher, String>> = OnceLock::new();

/// Where a daemon wants its signals; set once, for the process's life.
type Route = Box<dyn Fn(i32) + Send + Sync>;
static ROUTE: OnceLock<Route> = OnceLock::new();

/// Hands SIGINT, SIGTERM and SIGHUP to `deliver` instead of their default action
/// (`lvsh watch`: reload on SIGHUP, stop on the others). During a write SIGINT and
/// SIGTERM still stop it and roll back first; SIGHUP then waits: a reload must not
/// undo the write it arrived during.
pub fn route(deliver: impl Fn(i32) + Send + Sync + 'static) -> std::io::Result<()> {
    if ROUTE.set(Box::new(deliver)).is_err() {
        return Err(std::io::Error::other("signals are already routed"));
    }
    watcher().map(|_| ())
}

fn watcher() -> std::io::Result<&'static Watcher> {
    WATCHER
        .get_or_init(|| {
            let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP]).map_err(|e| e.to_string())?;
            let w: &'static Watcher = Box::leak(Box::default());
            std::thread::spawn(move || {
                for sig in signals.forever() {
                    if let Some(deliver) = ROUTE.get() {
                        let deferring = w.deferring.load(Ordering::SeqCst);
                        if !deferring || sig == SIGHUP {
                            deliver(sig);
                            continue;
                        }
                        // Also told: the daemon stops once the write has ended.
                        deliver(sig);
                    } else if !w.deferring.load(Ordering::SeqCst) {
                        // Not inside a write: the signal does what it always does.
                        let _ = emulate_default_handler(sig);
                        continue;
                    }
                    let first = w
                        .first
                        .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
                        .is_ok();
                    eprintln!(
                        "{}",
                        message(sig, first, w.restoring.load(Ordering::SeqCst))
                    );
                }
            });
            Ok(w)
        })
        .clone()
        .map_err(std::io::Error::other)
}

/// Signals are deferred while one of these lives.
pub struct Deferred {
    watcher: &'static Watcher,
}

impl Deferred {
    pub fn install() -> std::io::Result<Deferred> {
        let watcher = watcher()?;
        watcher.first.store(0, Ordering::SeqCst);
        watcher.restoring.store(false, Ordering::SeqCst);
        watcher.deferring.store(true, Ordering::SeqCst);
        Ok(Deferred { watcher })
    }

    /// The first signal received so far.
    pub fn received(&self) -> Option<i32> {
        match self.watcher.first.load(Ordering::SeqCst) {
            0 => None,
            sig => Some(sig),
        }
    }

    /// From now on the apply restores the state before it.
    pub fn restoring(&self) {
        self.watcher.restoring.store(true, Ordering::SeqCst);
    }
}

impl Drop for Deferred {
    fn drop(&mut self) {
        self.watcher.deferring.store(false, Ordering::SeqCst);
    }
}

/// `SIGINT`, `SIGTERM`, `SIGHUP`.
pub fn name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

fn message(sig: i32, first: bool, restoring: bool) -> String {
    let name = name(sig);
    if first && !restoring {
        format!(
            "lvsh: {name} received: stopping after the current batch and rolling back; \
             lvsh exits when the kernel is as before"
        )
    } else {
        format!(
            "lvsh: {name} received: still {} (lvsh does not leave the kernel half-written); \
             it exits as soon as that is done",
            if restoring {
                "restoring the state before this apply"
            } else {
                "stopping the apply"
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_is_recorded_instead_of_ending_the_process() {
        let deferred = Deferred::install().unwrap();
        assert_eq!(deferred.received(), None);
        // While deferred, a signal is recorded instead of ending the test process.
        // SAFETY: raise sends a signal to this process; the handler installed above
        // only records it.
        unsafe { libc::raise(SIGHUP) };
        let mut waited = 0;
        while deferred.received().is_none() && waited < 200 {
            std::thread::sleep(std::time::Duration::from_millis(10));
            waited += 1;
        }
        assert_eq!(deferred.received(), Some(SIGHUP));
        unsafe { libc::raise(SIGHUP) };
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(deferred.received(), Some(SIGHUP), "the first one counts");
    }

    #[test]
    fn the_second_signal_says_lvsh_is_finishing() {
        assert!(message(SIGINT, true, false).contains("rolling back"));
        let again = message(SIGINT, false, true);
        assert!(again.contains("still restoring"), "{again}");
        assert_eq!(name(SIGTERM), "SIGTERM");
    }
}
