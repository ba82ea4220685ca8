//! Faults injected into a real write, for the lab's tests of what a director meets:
//! `LVSH_FAULT=kill-after:N` (SIGKILL to lvsh itself after N batches),
//! `signal-after:N[:INT|TERM|HUP]` (that signal, twice, after N batches),
//! `socket-error-after:N` (the socket "fails" once batch N was answered), and
//! `batch:N` (at most N requests per batch, for many cut points), comma-separated.
//! Unset, nothing changes; lvsh reads it once per socket.

use super::Error;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Fault {
    pub batch: Option<usize>,
    pub kill_after: Option<usize>,
    pub signal_after: Option<(usize, i32)>,
    pub socket_error_after: Option<usize>,
}

impl Fault {
    pub fn from_env() -> Fault {
        std::env::var("LVSH_FAULT")
            .ok()
            .and_then(|v| Fault::parse(&v))
            .unwrap_or_default()
    }

    fn parse(text: &str) -> Option<Fault> {
        let mut f = Fault::default();
        for part in text.split(',').filter(|p| !p.is_empty()) {
            let mut it = part.split(':');
            let (what, n) = (it.next()?, it.next()?.parse().ok()?);
            match what {
                "batch" => f.batch = Some(n),
                "kill-after" => f.kill_after = Some(n),
                "socket-error-after" => f.socket_error_after = Some(n),
                "signal-after" => {
                    let sig = match it.next().unwrap_or("INT") {
                        "INT" => libc::SIGINT,
                        "TERM" => libc::SIGTERM,
                        "HUP" => libc::SIGHUP,
                        _ => return None,
                    };
                    f.signal_after = Some((n, sig));
                }
                _ => return None,
            }
        }
        Some(f)
    }

    /// Before batch `done + 1` of a write (`done` batches sent). Each fault fires
    /// once: the rollback that follows runs undisturbed.
    pub fn before_batch(&mut self, done: usize) {
        if self.kill_after == Some(done) {
            // SAFETY: raise only sends a signal to this process.
            unsafe { libc::raise(libc::SIGKILL) };
        }
        if let Some((n, sig)) = self.signal_after {
            if n == done {
                self.signal_after = None;
                for _ in 0..2 {
                    // SAFETY: as above; lvsh defers the signal while it writes.
                    unsafe { libc::raise(sig) };
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            }
        }
    }

    /// After batch `done` was answered.
    pub fn after_batch(&mut self, done: usize) -> Result<(), Error> {
        if self.socket_error_after == Some(done) {
            self.socket_error_after = None;
            return Err(Error::Io {
                context: "receive",
                source: std::io::Error::other("injected by LVSH_FAULT"),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_read_from_a_short_list() {
        assert_eq!(
            Fault::parse("batch:16,kill-after:3"),
            Some(Fault {
                batch: Some(16),
                kill_after: Some(3),
                ..Fault::default()
            })
        );
        assert_eq!(
            Fault::parse("signal-after:2:TERM").unwrap().signal_after,
            Some((2, libc::SIGTERM))
        );
        assert_eq!(Fault::parse("").unwrap(), Fault::default());
        assert_eq!(Fault::parse("explode:1"), None);
        assert_eq!(Fault::parse("batch:x"), None);
        let mut once = Fault::parse("socket-error-after:1").unwrap();
        assert!(once.after_batch(1).is_err());
        assert!(once.after_batch(1).is_ok(), "a fault fires once");
        assert!(Fault::default().after_batch(1).is_ok());
    }
}
