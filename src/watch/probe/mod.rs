//! One health probe of one real server, asynchronous and bounded by the check's timeout.
//!
//! The daemon runs about a thousand of these a second on one thread, so a probe is a
//! plain future: no thread, no DNS lookup (targets are addresses), no per-probe TLS
//! configuration. Whatever the peer does (never answers, drips a body, ignores
//! SIGTERM), [`probe`] returns by the timeout: the sockets are closed and an exec's
//! whole process group is killed and reaped.
//!
//! What counts as up, per kind:
//! - `tcp`: the connection is established (then closed at once with a FIN).
//! - `http`/`https`: a `GET` of the path answers with a status in `expect` (default
//!   200–299) and, with `contains`, the first 64 KiB of the body hold that text.
//!   Redirects are not followed: a 3xx is up only if `expect` lists it. The request
//!   sends `Host` (the check's `host`, else the probed address), `User-Agent:
//!   lvsh-watch` and `Connection: close`.
//! - `https`: certificates are verified against the system's roots (`SSL_CERT_FILE`,
//!   `SSL_CERT_DIR`, else the distribution's bundle, read once) for the server name:
//!   `sni`, else `host`, else the IP address (then no SNI is sent and the certificate
//!   must name the IP). `insecure` accepts any certificate but still checks the
//!   handshake's signatures.
//! - `udp`: the payload is sent and a reply arrives; with `expect`, the reply starts
//!   with those bytes (the usual banner/magic test; a prefix is exact where a
//!   substring could match by chance). An ICMP port unreachable is a failure at once.
//! - `exec`: the program (no shell, `PATH` searched when the name has no `/`) exits
//!   with status 0. It gets the daemon's environment plus `LVSH_SERVER_ADDRESS`,
//!   `LVSH_SERVER_PORT` (the real server), `LVSH_CHECK_ADDRESS`, `LVSH_CHECK_PORT`
//!   (where the check points: the VIP and port with `via_vip`) and, with `via_vip`,
//!   `LVSH_CHECK_MARK` (decimal); stdin and stdout are `/dev/null`, the first line of
//!   stderr goes into a failure's reason. At the timeout its process group is killed.
//!
//! A probe that runs out of time says where: "timed out after 1s connecting" (also
//! "in the tls handshake", "waiting for the response", "reading the body", "waiting
//! for a reply"; an exec's is just "timed out after 1s").
//!
//! `via_vip` is the caller's: it passes the VIP and port as [`Target::connect`] and
//! the check's fwmark as [`Target::mark`]; setting `SO_MARK` needs `CAP_NET_ADMIN`
//! (or `CAP_NET_RAW`).

mod exec;
mod http;
mod local_answers;
mod socket;
mod tcp;
#[cfg(test)]
mod testing;
mod tls;
mod udp;

use crate::model::{Check, CheckKind};
use std::{fmt, io, net::SocketAddr, time::Duration};
use tokio::time::Instant;

pub use exec::{
    ENV_CHECK_ADDRESS, ENV_CHECK_MARK, ENV_CHECK_PORT, ENV_SERVER_ADDRESS, ENV_SERVER_PORT,
};

/// Where one probe goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Target {
    /// The address the probe connects to: the server's address and the check's port,
    /// or with `via_vip` the VIP and port.
    pub connect: SocketAddr,
    /// `SO_MARK` for the probe's socket, which steers a `via_vip` probe to one server.
    pub mark: Option<u32>,
    /// The real server, for an exec's environment and for logs.
    pub server: SocketAddr,
}

impl Target {
    /// A probe straight to the server.
    pub fn direct(server: SocketAddr) -> Self {
        Target {
            connect: server,
            mark: None,
            server,
        }
    }
}

/// The result of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    /// From the start of the probe to its answer (the timeout when it timed out).
    pub latency: Duration,
    /// Short and lower case, for the log line and `lvsh status`: "connected",
    /// "status 503 (expected 200-299)", "timed out after 1s waiting for the response".
    pub reason: String,
}

/// Builds the shared TLS configurations (reading the system's root certificates) and
/// returns how many roots `https` checks verify against. Call it at start: the first
/// https probe then reads no files on the probe thread, and 0 deserves a warning
/// (every verifying check would fail with "certificate: unknown issuer").
pub fn prepare_tls() -> usize {
    tls::prepare()
}

/// Probes `target` once as `check` says, and returns within the check's timeout.
pub async fn probe(check: &Check, target: &Target) -> Outcome {
    let timeout = Duration::from_millis(check.timeout_ms.into());
    let start = Instant::now();
    let deadline = start + timeout;
    let result = match &check.kind {
        // An exec handles its own deadline: it must kill and reap, not just stop waiting.
        CheckKind::Exec { program, args } => {
            Box::pin(exec::run(program, args, target, deadline, timeout)).await
        }
        kind => {
            let mut phase = Phase::Connecting;
            match tokio::time::timeout_at(deadline, by_kind(kind, target, &mut phase)).await {
                Ok(result) => result,
                Err(_) => Err(format!(
                    "timed out after {} {phase}",
                    humantime::format_duration(timeout)
                )),
            }
        }
    };
    let (ok, reason) = match result {
        Ok(reason) => (true, reason),
        Err(mut reason) => {
            if target.mark.is_some() && !matches!(check.kind, CheckKind::Exec { .. }) {
                reason.extend(local_answers::hint(target.server.ip()));
            }
            (false, reason)
        }
    };
    Outcome {
        ok,
        latency: start.elapsed(),
        reason,
    }
}

/// `Ok(reason)` when the server is up, `Err(reason)` when not.
type Verdict = Result<String, String>;

/// The other kinds' futures are boxed: an HTTP exchange's state is kilobytes, and
/// a `tcp()` probe (the common one, a thousand a second) would carry and move it.
async fn by_kind(kind: &CheckKind, target: &Target, phase: &mut Phase) -> Verdict {
    match kind {
        CheckKind::Tcp => tcp::probe(target).await,
        CheckKind::Http(http) => Box::pin(http::probe(http, target, phase)).await,
        CheckKind::Udp { payload, expect } => {
            Box::pin(udp::probe(payload, expect.as_deref(), target, phase)).await
        }
        CheckKind::Exec { .. } => unreachable!("exec runs with its own deadline"),
    }
}

/// How far a probe got, so that a timeout says where it stuck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Handshake,
    Response,
    Body,
    Reply,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connecting => "connecting",
            Phase::Handshake => "in the tls handshake",
            Phase::Response => "waiting for the response",
            Phase::Body => "reading the body",
            Phase::Reply => "waiting for a reply",
        })
    }
}

/// A socket error as a short reason; the common ones in the words operators know.
fn io_reason(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::ECONNREFUSED) => "connection refused".into(),
        Some(libc::ECONNRESET) => "connection reset".into(),
        Some(libc::EHOSTUNREACH) => "host unreachable".into(),
        Some(libc::ENETUNREACH) => "network unreachable".into(),
        Some(libc::EADDRNOTAVAIL) => "address not available".into(),
        Some(libc::EPIPE) => "connection closed".into(),
        Some(libc::ETIMEDOUT) => "timed out".into(),
        Some(libc::EACCES | libc::EPERM) => "not permitted (a local firewall?)".into(),
        Some(libc::EMFILE | libc::ENFILE) => "too many open files".into(),
        _ => {
            // "Broken pipe (os error 32)" -> "broken pipe"
            let text = e.to_string();
            let text = text.split(" (os error").next().unwrap_or(&text);
            text.to_lowercase()
        }
    }
}

/// Text from a peer, quoted and cut short for a reason.
fn quoted(bytes: &[u8]) -> String {
    const MAX: usize = 32;
    let cut = &bytes[..bytes.len().min(MAX)];
    let more = if bytes.len() > MAX { "..." } else { "" };
    format!("\"{}{more}\"", cut.escape_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_errors_read_as_operators_say_them() {
        let reason = |n| io_reason(&io::Error::from_raw_os_error(n));
        assert_eq!(reason(libc::ECONNREFUSED), "connection refused");
        assert_eq!(reason(libc::EHOSTUNREACH), "host unreachable");
        assert_eq!(reason(libc::EINVAL), "invalid argument");
    }

    #[test]
    fn a_probe_future_carries_no_other_kinds_state() {
        // Unboxed, every `tcp()` probe was 7 KB (the HTTP exchange's state), moved
        // and allocated a thousand times a second at 2,000 servers.
        let check = testing::check(CheckKind::Tcp, 1000);
        let target = Target::direct("127.0.0.1:9".parse().unwrap());
        let size = std::mem::size_of_val(&probe(&check, &target));
        assert!(size <= 512, "{size} bytes");
    }

    #[test]
    fn peer_text_is_escaped_and_bounded() {
        assert_eq!(quoted(b"ok\n"), "\"ok\\n\"");
        assert_eq!(quoted(&[b'a'; 40]), format!("\"{}...\"", "a".repeat(32)));
    }
}
