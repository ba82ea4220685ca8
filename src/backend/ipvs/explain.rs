//! lvsh's own words for a refused request. IPVS answers with bare errnos (no
//! extended-ack text), whose meaning depends on the command and on what was asked:
//! ENOENT is a missing scheduler module on NEW_SERVICE but a missing destination on
//! SET_DEST. Kernel text, if a kernel ever sends some, is appended.

use super::constants::IpvsCmd;
use super::request::op_cmd;
use crate::backend::{IpvsOp, KernelError};
use crate::model::{Dest, Family, Forward, Netmask, Service, ServiceKey, TunnelKind};
use std::net::IpAddr;

pub const NOT_ROOT: &str = "lvsh needs root (CAP_NET_ADMIN) to talk to IPVS";

/// The error for `op`, refused with `errno`.
pub fn op_error(op: &IpvsOp, errno: i32, text: Option<&str>) -> KernelError {
    with_text(errno, explain_op(op, errno), text)
}

/// The error for a request that is not an [`IpvsOp`] (dumps, ZERO, FLUSH, GET_*).
pub fn command_error(cmd: IpvsCmd, errno: i32, text: Option<&str>) -> KernelError {
    let message = common(errno).unwrap_or_else(|| match (cmd, errno) {
        (IpvsCmd::Zero | IpvsCmd::GetService, libc::ESRCH) => "service does not exist".into(),
        (cmd, e) => format!("{} failed: {}", cmd.name(), os_text(e)),
    });
    with_text(errno, message, text)
}

fn with_text(errno: i32, message: String, text: Option<&str>) -> KernelError {
    let message = match text {
        Some(t) => format!("{message}: {t}"),
        None => message,
    };
    KernelError { errno, message }
}

/// The operating system's text for `errno`, in lvsh's style (lower case, no suffix).
pub fn os_text(errno: i32) -> String {
    let s = std::io::Error::from_raw_os_error(errno).to_string();
    let s = s.split(" (os error").next().unwrap_or(&s).to_string();
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => format!("errno {errno}"),
    }
}

fn common(errno: i32) -> Option<String> {
    Some(match errno {
        libc::EPERM => NOT_ROOT.into(),
        libc::EAFNOSUPPORT => "address family not supported by this kernel (IPv6 disabled?)".into(),
        libc::ENOPROTOOPT => "IPVS is being unloaded from the kernel".into(),
        libc::ENOMEM => "the kernel is out of memory".into(),
        _ => return None,
    })
}

fn explain_op(op: &IpvsOp, errno: i32) -> String {
    use IpvsOp::*;
    if let Some(m) = common(errno) {
        return m;
    }
    match (op, errno) {
        (AddService(_), libc::EEXIST) => "service already exists".into(),
        (AddService(s) | EditService(s), libc::ENOENT) => missing_module(s),
        (AddService(s) | EditService(s), libc::EINVAL) => invalid_service(s),
        (
            EditService(_) | DelService(_) | AddDest(..) | EditDest(..) | DelDest(..),
            libc::ESRCH,
        ) => "service does not exist".into(),
        (AddDest(..), libc::EEXIST) => "destination already exists in this service".into(),
        (EditDest(..) | DelDest(..), libc::ENOENT) => {
            "destination does not exist in this service".into()
        }
        (AddDest(_, d) | EditDest(_, d), libc::ERANGE) => out_of_range(d),
        (AddDest(k, d), libc::EINVAL) => invalid_dest(k, d, true),
        (EditDest(k, d), libc::EINVAL) => invalid_dest(k, d, false),
        (SetTimeouts(_), libc::EINVAL) => "timeout out of range for this kernel".into(),
        (AddDaemon(d), libc::EEXIST) => format!("a {} sync daemon is already running", d.state),
        (AddDaemon(d), libc::ENODEV) => format!("interface `{}` does not exist", d.interface),
        (AddDaemon(d), libc::EINVAL) => {
            if d.interface.len() > 15 {
                format!(
                    "interface name `{}` is longer than 15 characters",
                    d.interface
                )
            } else if d.group.is_some_and(|g| !g.is_multicast()) {
                format!("sync group {} is not a multicast address", d.group.unwrap())
            } else {
                "the kernel refused the sync daemon (are there destinations of another \
                 address family than their service? the sync protocol cannot carry them)"
                    .into()
            }
        }
        (DelDaemon(s), libc::ESRCH) => format!("no {s} sync daemon is running"),
        (op, e) => format!("{} failed: {}", op_cmd(op).name(), os_text(e)),
    }
}

fn missing_module(s: &Service) -> String {
    let sched = s.scheduler.name();
    match s.pe {
        // `none` is no module: only the engine can be missing.
        Some(pe) if !s.scheduler.is_module() => format!(
            "persistence engine `{pe}` not available in this kernel (module ip_vs_pe_{pe} missing?)",
            pe = pe.name()
        ),
        Some(pe) => format!(
            "scheduler `{sched}` or persistence engine `{pe}` not available in this kernel \
             (module ip_vs_{sched} or ip_vs_pe_{pe} missing?)",
            pe = pe.name()
        ),
        None => format!(
            "scheduler `{sched}` not available in this kernel (module ip_vs_{sched} missing?)"
        ),
    }
}

fn invalid_service(s: &Service) -> String {
    match s.netmask {
        Some(Netmask::V6(p)) if p == 0 || p > 128 => {
            format!("IPv6 persistence prefix /{p} is outside 1..=128")
        }
        _ => "the kernel rejected the service settings as invalid".into(),
    }
}

fn out_of_range(d: &Dest) -> String {
    if d.lower_threshold > d.upper_threshold {
        format!(
            "lower threshold {} is above upper threshold {}",
            d.lower_threshold, d.upper_threshold
        )
    } else if d.weight > i32::MAX as u32 {
        format!("weight {} is out of range", d.weight)
    } else {
        "weight or thresholds out of range".into()
    }
}

fn invalid_dest(k: &ServiceKey, d: &Dest, adding: bool) -> String {
    if let Forward::Tunnel {
        kind: TunnelKind::Gue,
        port: 0,
        ..
    } = d.forward
    {
        return "a GUE tunnel needs a port".into();
    }
    if Family::of(&d.key.address) != k.family() {
        return if d.forward.is_tunnel() {
            "destinations of another address family than their service are refused \
             while a sync daemon runs"
                .into()
        } else {
            "a destination of another address family than its service needs tunnel forwarding"
                .into()
        };
    }
    match (adding, d.key.address) {
        (true, IpAddr::V4(a)) => format!(
            "the kernel refused {a} as a real server: not a unicast address, or this network \
             namespace has no IPv4 routing yet (no interface with an address)"
        ),
        (true, IpAddr::V6(a)) => format!(
            "the kernel refused {a} as a real server: not a unicast address (link-local \
             ones only if local)"
        ),
        (false, _) => "the kernel rejected the destination settings as invalid".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        DaemonState, DestKey, PersistenceEngine, Protocol, Scheduler, SyncDaemon, Timeouts,
        TunnelChecksum,
    };

    fn svc() -> Service {
        let mut s = Service::new(ServiceKey::inet(
            Protocol::Tcp,
            "10.0.0.1".parse().unwrap(),
            80,
        ));
        s.scheduler = Scheduler::Twos;
        s
    }

    fn dest(addr: &str) -> Dest {
        Dest::new(DestKey {
            address: addr.parse().unwrap(),
            port: 80,
        })
    }

    fn msg(op: &IpvsOp, errno: i32) -> String {
        op_error(op, errno, None).message
    }

    #[test]
    fn service_errors_depend_on_the_command() {
        let mut s = svc();
        assert_eq!(
            msg(&IpvsOp::AddService(s.clone()), libc::ENOENT),
            "scheduler `twos` not available in this kernel (module ip_vs_twos missing?)"
        );
        s.pe = Some(PersistenceEngine::Sip);
        assert_eq!(
            msg(&IpvsOp::EditService(s.clone()), libc::ENOENT),
            "scheduler `twos` or persistence engine `sip` not available in this kernel \
             (module ip_vs_twos or ip_vs_pe_sip missing?)"
        );
        let mut unscheduled = s.clone();
        unscheduled.scheduler = Scheduler::None;
        assert_eq!(
            msg(&IpvsOp::AddService(unscheduled), libc::ENOENT),
            "persistence engine `sip` not available in this kernel (module ip_vs_pe_sip missing?)"
        );
        assert_eq!(
            msg(&IpvsOp::AddService(s.clone()), libc::EEXIST),
            "service already exists"
        );
        assert_eq!(
            msg(&IpvsOp::DelService(s.key), libc::ESRCH),
            "service does not exist"
        );
        assert_eq!(
            msg(&IpvsOp::AddService(s), libc::EPERM),
            "lvsh needs root (CAP_NET_ADMIN) to talk to IPVS"
        );
        let mut v6 = Service::new(ServiceKey::fwmark(Family::Inet6, 1));
        v6.netmask = Some(Netmask::V6(0));
        assert_eq!(
            msg(&IpvsOp::AddService(v6), libc::EINVAL),
            "IPv6 persistence prefix /0 is outside 1..=128"
        );
    }

    #[test]
    fn destination_errors_name_the_likely_cause() {
        let k = svc().key;
        let d = dest("10.0.1.1");
        assert_eq!(
            msg(&IpvsOp::AddDest(k, d.clone()), libc::EEXIST),
            "destination already exists in this service"
        );
        assert_eq!(
            msg(&IpvsOp::EditDest(k, d.clone()), libc::ENOENT),
            "destination does not exist in this service"
        );
        assert_eq!(
            msg(&IpvsOp::DelDest(k, d.key), libc::ESRCH),
            "service does not exist"
        );
        let mut bad = d.clone();
        bad.upper_threshold = 10;
        bad.lower_threshold = 20;
        assert_eq!(
            msg(&IpvsOp::AddDest(k, bad), libc::ERANGE),
            "lower threshold 20 is above upper threshold 10"
        );
        let mut gue = d.clone();
        gue.forward = Forward::Tunnel {
            kind: TunnelKind::Gue,
            port: 0,
            checksum: TunnelChecksum::None,
        };
        assert_eq!(
            msg(&IpvsOp::AddDest(k, gue), libc::EINVAL),
            "a GUE tunnel needs a port"
        );
        assert_eq!(
            msg(&IpvsOp::AddDest(k, dest("2001:db8::1")), libc::EINVAL),
            "a destination of another address family than its service needs tunnel forwarding"
        );
        assert_eq!(
            msg(&IpvsOp::AddDest(k, d), libc::EINVAL),
            "the kernel refused 10.0.1.1 as a real server: not a unicast address, or this \
             network namespace has no IPv4 routing yet (no interface with an address)"
        );
    }

    #[test]
    fn daemon_timeout_and_fallback_texts() {
        let d = SyncDaemon::new(DaemonState::Master, "eth9");
        assert_eq!(
            msg(&IpvsOp::AddDaemon(d.clone()), libc::EEXIST),
            "a master sync daemon is already running"
        );
        assert_eq!(
            msg(&IpvsOp::AddDaemon(d), libc::ENODEV),
            "interface `eth9` does not exist"
        );
        assert_eq!(
            msg(&IpvsOp::DelDaemon(DaemonState::Backup), libc::ESRCH),
            "no backup sync daemon is running"
        );
        assert_eq!(
            msg(&IpvsOp::SetTimeouts(Timeouts::default()), libc::EBUSY),
            "IPVS_CMD_SET_CONFIG failed: device or resource busy"
        );
        let e = op_error(
            &IpvsOp::DelService(svc().key),
            libc::ESRCH,
            Some("extra words"),
        );
        assert_eq!(e.errno, libc::ESRCH);
        assert_eq!(e.message, "service does not exist: extra words");
        assert_eq!(
            command_error(IpvsCmd::Flush, libc::EPERM, None).message,
            NOT_ROOT
        );
        assert_eq!(
            command_error(IpvsCmd::GetDest, libc::EINVAL, None).message,
            "IPVS_CMD_GET_DEST failed: invalid argument"
        );
    }
}
