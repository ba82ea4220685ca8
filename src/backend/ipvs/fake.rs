//! An in-memory IPVS with the kernel's semantics and errnos, so plan, apply and rollback
//! are tested without root. What it stores is what a real read would report: services
//! go through the wire encoder and decoder, daemons get the kernel's defaults.

use super::Error;
use super::batch;
use super::constants::{IP_VS_VERSION_CODE, IpvsCmd};
use super::explain::{command_error, op_error};
use super::info::Info;
use super::service::decode_service;
use super::wire::Encoder;
use crate::backend::{GoOn, Ipvs, IpvsOp, KernelError};
use crate::model::{
    Balancer, Dest, DestCounters, Family, Forward, PersistenceEngine, Scheduler, Service,
    ServiceKey, StatsBox, SyncDaemon, Timeouts, TunnelKind,
};
use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Write,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

/// The largest timeout every kernel accepts: it checks `secs <= INT_MAX / HZ`, and HZ
/// is at most 1000.
const MAX_TIMEOUT: u32 = i32::MAX as u32 / 1000;

/// A fake kernel IPVS table.
#[derive(Debug, Clone)]
pub struct FakeIpvs {
    state: Balancer,
    schedulers: BTreeSet<Scheduler>,
    engines: BTreeSet<PersistenceEngine>,
    /// `None`: every interface name exists.
    interfaces: Option<BTreeSet<String>>,
    /// Op number (1-based, counted over the fake's life) → errno to fail it with.
    failures: BTreeMap<usize, i32>,
    read_failure: Option<i32>,
    executed: usize,
    log: Vec<IpvsOp>,
    /// Requests per `sendmsg` batch, as the real socket cuts them ([`batch::by_count`]).
    batch_ops: usize,
    /// Batch number (1-based, counted over the fake's life) after which the socket
    /// fails: the batch took effect, its answers are lost.
    socket_failure: Option<usize>,
    batches: usize,
    /// The process "dies" after this many batches of the next write (see
    /// [`FakeIpvs::kill_after_batches`]).
    kill_after: Option<usize>,
}

/// The panic payload of a simulated kill: it unwinds out of lvsh without running
/// anything that would follow a write, as SIGKILL would.
#[derive(Debug)]
pub struct Killed;

impl Default for FakeIpvs {
    fn default() -> Self {
        FakeIpvs::new()
    }
}

impl FakeIpvs {
    /// An empty table with the kernel's default timeouts, every scheduler and the
    /// `sip` persistence engine available.
    pub fn new() -> Self {
        FakeIpvs {
            state: Balancer {
                timeouts: Timeouts::KERNEL_DEFAULT,
                ..Balancer::default()
            },
            schedulers: Scheduler::ALL.into_iter().collect(),
            engines: [PersistenceEngine::Sip].into_iter().collect(),
            interfaces: None,
            failures: BTreeMap::new(),
            read_failure: None,
            executed: 0,
            batch_ops: usize::MAX,
            socket_failure: None,
            batches: 0,
            kill_after: None,
            log: Vec::new(),
        }
    }

    /// A table already holding `b`'s services, timeouts (unset ones at the kernel
    /// default) and daemons; `b`'s marks are ignored (they live in nft).
    pub fn with_state(b: &Balancer) -> Self {
        let mut f = FakeIpvs::new();
        for (k, s) in &b.services {
            f.state.services.insert(*k, s.clone());
        }
        let d = Timeouts::KERNEL_DEFAULT;
        f.state.timeouts = Timeouts {
            tcp: b.timeouts.tcp.or(d.tcp),
            tcp_fin: b.timeouts.tcp_fin.or(d.tcp_fin),
            udp: b.timeouts.udp.or(d.udp),
        };
        f.state.daemons = b.daemons.clone();
        f
    }

    /// Makes `sched` unavailable, like a kernel without its module (`twos` on Debian).
    pub fn without_scheduler(mut self, sched: Scheduler) -> Self {
        self.schedulers.remove(&sched);
        self
    }

    pub fn without_engine(mut self, pe: PersistenceEngine) -> Self {
        self.engines.remove(&pe);
        self
    }

    /// Only these interfaces exist (sync daemons on others fail with ENODEV).
    pub fn with_interfaces<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.interfaces = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// The `n`-th op this fake executes (1-based, counted across `execute` calls) fails
    /// with `errno` and changes nothing; the ops after it still run, as in the kernel.
    pub fn fail_op(&mut self, n: usize, errno: i32) {
        self.failures.insert(n, errno);
    }

    /// Every later `read` fails with `errno` (`None` heals it).
    /// Cuts writes into batches of at most `n` requests (default: one batch).
    pub fn batch_ops(mut self, n: usize) -> Self {
        self.batch_ops = n;
        self
    }

    /// Batch number `n` (1-based, over the fake's life) takes effect, then the
    /// socket fails: what a lost ACK or a dead socket looks like to lvsh.
    pub fn fail_socket_after_batch(&mut self, n: usize) {
        self.socket_failure = Some(n);
    }

    /// [`Ipvs::execute`] of every request, whatever is refused.
    pub fn execute_all(&mut self, ops: &[IpvsOp]) -> Result<Vec<Result<(), KernelError>>, Error> {
        self.execute(ops, &mut |_| true)
    }

    /// The next write stops after `n` batches as if the process were killed: the
    /// batches sent took effect, then the call unwinds with [`Killed`] (without the
    /// panic hook), so nothing lvsh would do next happens. `n` may be the number of
    /// batches of the write: the kill then falls after its last one.
    pub fn kill_after_batches(&mut self, n: usize) {
        self.kill_after = Some(n);
    }

    /// Batches sent so far.
    pub fn batches(&self) -> usize {
        self.batches
    }

    pub fn fail_reads(&mut self, errno: Option<i32>) {
        self.read_failure = errno;
    }

    /// How many ops were executed so far.
    pub fn executed(&self) -> usize {
        self.executed
    }

    /// Every op received, in order, failed ones included.
    pub fn log(&self) -> &[IpvsOp] {
        &self.log
    }

    pub fn state(&self) -> &Balancer {
        &self.state
    }

    /// Direct access, for tests that need a kernel state no op produces (counters).
    pub fn state_mut(&mut self) -> &mut Balancer {
        &mut self.state
    }

    pub fn info(&self) -> Info {
        Info {
            version: IP_VS_VERSION_CODE,
            conn_tab_size: 4096,
        }
    }

    /// Deletes every service; timeouts and daemons stay.
    pub fn flush(&mut self) {
        self.state.services.clear();
    }

    /// Zeroes the counters of one service (ESRCH if missing), or of all.
    pub fn zero(&mut self, service: Option<&ServiceKey>) -> Result<(), KernelError> {
        let zero = |s: &mut Service| {
            s.stats = StatsBox::default();
            for d in s.dests.values_mut() {
                d.stats = StatsBox::default();
            }
        };
        match service {
            None => self.state.services.values_mut().for_each(zero),
            Some(k) => match self.state.services.get_mut(k) {
                Some(s) => zero(s),
                None => return Err(command_error(IpvsCmd::Zero, libc::ESRCH, None)),
            },
        }
        Ok(())
    }

    /// The table as stable text, one object per line, for golden tests.
    pub fn dump(&self) -> String {
        let mut out = String::new();
        let t = &self.state.timeouts;
        let n = |v: Option<u32>| v.map_or("-".to_string(), |v| v.to_string());
        let _ = writeln!(
            out,
            "timeouts tcp {} tcpfin {} udp {}",
            n(t.tcp),
            n(t.tcp_fin),
            n(t.udp)
        );
        for d in self.state.daemons.values() {
            let _ = write!(
                out,
                "daemon {} {} syncid {}",
                d.state, d.interface, d.syncid
            );
            if let Some(v) = d.maxlen {
                let _ = write!(out, " maxlen {v}");
            }
            if let Some(v) = d.group {
                let _ = write!(out, " group {v}");
            }
            if let Some(v) = d.port {
                let _ = write!(out, " port {v}");
            }
            if let Some(v) = d.ttl {
                let _ = write!(out, " ttl {v}");
            }
            out.push('\n');
        }
        for s in self.state.services.values() {
            let _ = write!(out, "service {} {}", s.key, s.scheduler);
            if let Some(p) = s.persistence {
                let _ = write!(out, " persistent {p}");
            }
            if let Some(m) = s.netmask {
                let _ = write!(out, " netmask {m}");
            }
            if let Some(pe) = s.pe {
                let _ = write!(out, " pe {}", pe.name());
            }
            if s.one_packet {
                out.push_str(" ops");
            }
            if !s.flags.is_empty() {
                let _ = write!(out, " flags {}", s.flags.names(s.scheduler).join(","));
            }
            out.push('\n');
            for d in s.dests.values() {
                let _ = write!(out, "  dest {} {} weight {}", d.key, d.forward, d.weight);
                if d.upper_threshold != 0 || d.lower_threshold != 0 {
                    let _ = write!(
                        out,
                        " thresholds {}..{}",
                        d.lower_threshold, d.upper_threshold
                    );
                }
                out.push('\n');
            }
        }
        out
    }

    /// Runs one op, counting it and honouring injected failures.
    pub fn apply(&mut self, op: &IpvsOp) -> Result<(), KernelError> {
        self.executed += 1;
        self.log.push(op.clone());
        if let Some(errno) = self.failures.remove(&self.executed) {
            return Err(op_error(op, errno, None));
        }
        self.apply_op(op).map_err(|errno| op_error(op, errno, None))
    }

    fn apply_op(&mut self, op: &IpvsOp) -> Result<(), i32> {
        match op {
            IpvsOp::AddService(s) => {
                if self.state.services.contains_key(&s.key) {
                    return Err(libc::EEXIST);
                }
                let mut stored = self.as_kernel_stores(s)?;
                stored.dests.clear();
                self.state.services.insert(s.key, stored);
            }
            IpvsOp::EditService(s) => {
                if !self.state.services.contains_key(&s.key) {
                    return Err(libc::ESRCH);
                }
                let stored = self.as_kernel_stores(s)?;
                let old = self.state.services.get_mut(&s.key).expect("checked");
                let dests = std::mem::take(&mut old.dests);
                let stats = std::mem::take(&mut old.stats);
                *old = Service {
                    dests,
                    stats,
                    ..stored
                };
            }
            IpvsOp::DelService(k) => {
                self.state.services.remove(k).ok_or(libc::ESRCH)?;
            }
            IpvsOp::AddDest(k, d) | IpvsOp::EditDest(k, d) => {
                let adding = matches!(op, IpvsOp::AddDest(..));
                let daemons = !self.state.daemons.is_empty();
                let svc = self.state.services.get_mut(k).ok_or(libc::ESRCH)?;
                if Family::of(&d.key.address) != k.family() && (daemons || !d.forward.is_tunnel()) {
                    return Err(libc::EINVAL);
                }
                if d.weight > i32::MAX as u32 || d.lower_threshold > d.upper_threshold {
                    return Err(libc::ERANGE);
                }
                if let Forward::Tunnel {
                    kind: TunnelKind::Gue,
                    port: 0,
                    ..
                } = d.forward
                {
                    return Err(libc::EINVAL);
                }
                let existing = svc.dests.get_mut(&d.key);
                match (adding, existing) {
                    (true, Some(_)) => return Err(libc::EEXIST),
                    (false, None) => return Err(libc::ENOENT),
                    (true, None) => {
                        if !usable_real_server(&d.key.address) {
                            return Err(libc::EINVAL);
                        }
                        let mut stored = d.clone();
                        stored.counters = DestCounters::default();
                        stored.stats = StatsBox::default();
                        svc.dests.insert(d.key, stored);
                    }
                    (false, Some(old)) => {
                        *old = Dest {
                            counters: old.counters,
                            stats: old.stats.clone(),
                            ..d.clone()
                        };
                    }
                }
            }
            IpvsOp::DelDest(k, dk) => {
                let svc = self.state.services.get_mut(k).ok_or(libc::ESRCH)?;
                svc.dests.remove(dk).ok_or(libc::ENOENT)?;
            }
            IpvsOp::SetTimeouts(t) => {
                for v in [t.tcp, t.tcp_fin, t.udp].into_iter().flatten() {
                    if v > MAX_TIMEOUT {
                        return Err(libc::EINVAL);
                    }
                }
                // 0, like an absent value, leaves a timeout unchanged.
                let set = |have: &mut Option<u32>, want: Option<u32>| {
                    if let Some(v) = want.filter(|v| *v != 0) {
                        *have = Some(v);
                    }
                };
                let cur = &mut self.state.timeouts;
                set(&mut cur.tcp, t.tcp);
                set(&mut cur.tcp_fin, t.tcp_fin);
                set(&mut cur.udp, t.udp);
            }
            IpvsOp::AddDaemon(d) => {
                if d.interface.len() >= 16 || d.group.is_some_and(|g| !g.is_multicast()) {
                    return Err(libc::EINVAL);
                }
                if self.mixed_family_dests() > 0 {
                    return Err(libc::EINVAL);
                }
                if self.state.daemons.contains_key(&d.state) {
                    return Err(libc::EEXIST);
                }
                if let Some(known) = &self.interfaces
                    && !known.contains(&d.interface)
                {
                    return Err(libc::ENODEV);
                }
                self.state.daemons.insert(d.state, with_kernel_defaults(d));
            }
            IpvsOp::DelDaemon(state) => {
                self.state.daemons.remove(state).ok_or(libc::ESRCH)?;
            }
        }
        Ok(())
    }

    /// The service as a later read would report it, or the errno NEW/SET_SERVICE gives.
    fn as_kernel_stores(&self, s: &Service) -> Result<Service, i32> {
        if !self.schedulers.contains(&s.scheduler) {
            return Err(libc::ENOENT);
        }
        if s.pe.is_some_and(|pe| !self.engines.contains(&pe)) {
            return Err(libc::ENOENT);
        }
        let mut e = Encoder::new();
        super::service::encode_service(&mut e, s);
        // An IPv6 prefix outside 1..=128 is what makes the kernel's own check fail.
        let bytes = e.finish().map_err(|_| libc::EMSGSIZE)?;
        let mut stored = decode_service(&bytes[4..]).map_err(|_| libc::EINVAL)?;
        stored.dests = s.dests.clone();
        Ok(stored)
    }

    fn mixed_family_dests(&self) -> usize {
        self.state
            .services
            .values()
            .flat_map(|s| {
                s.dests
                    .values()
                    .filter(|d| Family::of(&d.key.address) != s.key.family())
            })
            .count()
    }
}

/// What the kernel checks of a new real server's address (routing aside).
fn usable_real_server(a: &IpAddr) -> bool {
    match a {
        IpAddr::V4(v4) => !(v4.is_unspecified() || v4.is_multicast() || v4.is_broadcast()),
        IpAddr::V6(v6) => {
            !(v6.is_unspecified() || v6.is_multicast() || (v6.segments()[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// A daemon as the kernel reports it once started: unset options get its defaults
/// (maxlen from a 1500-byte MTU, group 224.0.0.81 or ff02::81, port 8848, ttl 1).
fn with_kernel_defaults(d: &SyncDaemon) -> SyncDaemon {
    let v6 = matches!(d.group, Some(IpAddr::V6(_)));
    let mut out = d.clone();
    out.maxlen = Some(
        d.maxlen
            .unwrap_or(if v6 { 1500 - 40 - 8 } else { 1500 - 20 - 8 }),
    );
    out.group = Some(d.group.unwrap_or(if v6 {
        IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x81))
    } else {
        IpAddr::V4(Ipv4Addr::new(224, 0, 0, 81))
    }));
    out.port = Some(d.port.unwrap_or(8848));
    out.ttl = Some(d.ttl.unwrap_or(1));
    out
}

impl Ipvs for FakeIpvs {
    fn read(&mut self) -> Result<Balancer, Error> {
        if let Some(errno) = self.read_failure {
            return Err(match errno {
                libc::EPERM => Error::NotRoot,
                e => Error::Kernel(command_error(IpvsCmd::GetService, e, None)),
            });
        }
        Ok(self.state.clone())
    }

    fn execute(
        &mut self,
        ops: &[IpvsOp],
        go_on: &mut GoOn<'_>,
    ) -> Result<Vec<Result<(), KernelError>>, Error> {
        let mut results = Vec::with_capacity(ops.len());
        let kill = self.kill_after.take();
        for (n, range) in batch::by_count(ops, self.batch_ops).into_iter().enumerate() {
            if kill == Some(n) {
                std::panic::resume_unwind(Box::new(Killed));
            }
            if !go_on(&results) {
                break;
            }
            self.batches += 1;
            results.extend(ops[range].iter().map(|op| self.apply(op)));
            if self.socket_failure == Some(self.batches) {
                return Err(Error::Io {
                    context: "receive",
                    source: std::io::Error::from_raw_os_error(libc::ENOBUFS),
                });
            }
        }
        if kill.is_some() {
            std::panic::resume_unwind(Box::new(Killed));
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DaemonState, DestKey, Netmask, Protocol, SchedFlag, TunnelChecksum};

    fn key() -> ServiceKey {
        ServiceKey::inet(Protocol::Tcp, "192.168.10.120".parse().unwrap(), 80)
    }

    fn svc(sched: Scheduler) -> Service {
        let mut s = Service::new(key());
        s.scheduler = sched;
        s
    }

    fn dest(addr: &str) -> Dest {
        Dest::new(DestKey {
            address: addr.parse().unwrap(),
            port: 80,
        })
    }

    fn errnos(r: &[Result<(), KernelError>]) -> Vec<i32> {
        r.iter()
            .map(|r| r.as_ref().err().map_or(0, |e| e.errno))
            .collect()
    }

    #[test]
    fn a_missing_scheduler_fails_mid_batch_and_the_rest_goes_on() {
        let mut f = FakeIpvs::new().without_scheduler(Scheduler::Twos);
        let other = ServiceKey::inet(Protocol::Udp, "192.168.10.120".parse().unwrap(), 53);
        let mut s2 = Service::new(other);
        s2.scheduler = Scheduler::Twos;
        let ops = [
            IpvsOp::AddService(svc(Scheduler::Rr)),
            IpvsOp::AddService(s2),
            IpvsOp::AddDest(key(), dest("192.168.10.11")),
            IpvsOp::AddDest(other, dest("192.168.10.12")),
            IpvsOp::AddService(svc(Scheduler::Wlc)),
        ];
        let r = f.execute_all(&ops).unwrap();
        assert_eq!(errnos(&r), [0, libc::ENOENT, 0, libc::ESRCH, libc::EEXIST]);
        assert_eq!(
            r[1].as_ref().unwrap_err().message,
            "scheduler `twos` not available in this kernel (module ip_vs_twos missing?)"
        );
        assert_eq!(
            f.dump(),
            "timeouts tcp 900 tcpfin 120 udp 300\n\
             service tcp 192.168.10.120:80 rr\n  dest 192.168.10.11:80 dr weight 1\n"
        );
        assert_eq!(f.executed(), 5);
    }

    #[test]
    fn edits_keep_destinations_and_deletes_need_existence() {
        let mut f = FakeIpvs::new();
        f.execute_all(&[
            IpvsOp::AddService(svc(Scheduler::Rr)),
            IpvsOp::AddDest(key(), dest("10.0.0.1")),
        ])
        .unwrap();
        let mut edited = svc(Scheduler::Sh);
        edited.persistence = Some(300);
        edited.flags.insert(SchedFlag::Flag2);
        edited.set_netmask(Netmask::V4("255.255.255.0".parse().unwrap()));
        let mut d = dest("10.0.0.1");
        d.weight = 5;
        d.forward = Forward::Masq;
        d.upper_threshold = 10;
        d.lower_threshold = 5;
        let r = f
            .execute_all(&[
                IpvsOp::EditService(edited),
                IpvsOp::EditDest(key(), d),
                IpvsOp::EditDest(key(), dest("10.0.0.2")),
                IpvsOp::DelDest(key(), dest("10.0.0.3").key),
                IpvsOp::DelService(ServiceKey::fwmark(Family::Inet, 1)),
            ])
            .unwrap();
        assert_eq!(errnos(&r), [0, 0, libc::ENOENT, libc::ENOENT, libc::ESRCH]);
        assert_eq!(
            f.dump(),
            "timeouts tcp 900 tcpfin 120 udp 300\n\
             service tcp 192.168.10.120:80 sh persistent 300 netmask 255.255.255.0 flags sh-port\n\
             \x20 dest 10.0.0.1:80 nat weight 5 thresholds 5..10\n"
        );
        f.execute_all(&[IpvsOp::DelService(key())]).unwrap();
        assert!(f.state().services.is_empty());
    }

    #[test]
    fn destination_checks_follow_the_kernel() {
        let mut f = FakeIpvs::new();
        f.execute_all(&[IpvsOp::AddService(svc(Scheduler::Wrr))])
            .unwrap();
        let mut heavy = dest("10.0.0.1");
        heavy.weight = u32::MAX;
        let mut inverted = dest("10.0.0.2");
        inverted.upper_threshold = 1;
        inverted.lower_threshold = 2;
        let mut gue = dest("10.0.0.3");
        gue.forward = Forward::Tunnel {
            kind: TunnelKind::Gue,
            port: 0,
            checksum: TunnelChecksum::Csum,
        };
        let mut v6_tun = dest("2001:db8::1");
        v6_tun.forward = Forward::Tunnel {
            kind: TunnelKind::Ipip,
            port: 0,
            checksum: TunnelChecksum::None,
        };
        let r = f
            .execute_all(&[
                IpvsOp::AddDest(key(), heavy),
                IpvsOp::AddDest(key(), inverted),
                IpvsOp::AddDest(key(), gue),
                IpvsOp::AddDest(key(), dest("2001:db8::1")),
                IpvsOp::AddDest(key(), dest("224.0.0.1")),
                IpvsOp::AddDest(key(), v6_tun.clone()),
                IpvsOp::AddDest(key(), v6_tun),
                // the sync protocol cannot carry mixed-family destinations
                IpvsOp::AddDaemon(SyncDaemon::new(DaemonState::Master, "eth0")),
            ])
            .unwrap();
        assert_eq!(
            errnos(&r),
            [
                libc::ERANGE,
                libc::ERANGE,
                libc::EINVAL,
                libc::EINVAL,
                libc::EINVAL,
                0,
                libc::EEXIST,
                libc::EINVAL
            ]
        );
    }

    #[test]
    fn timeouts_zero_means_unchanged() {
        let mut f = FakeIpvs::new();
        let r = f
            .execute_all(&[
                IpvsOp::SetTimeouts(Timeouts {
                    tcp: Some(0),
                    tcp_fin: Some(30),
                    udp: None,
                }),
                IpvsOp::SetTimeouts(Timeouts {
                    tcp: Some(u32::MAX),
                    tcp_fin: None,
                    udp: None,
                }),
            ])
            .unwrap();
        assert_eq!(errnos(&r), [0, libc::EINVAL]);
        assert_eq!(
            f.read().unwrap().timeouts,
            Timeouts {
                tcp: Some(900),
                tcp_fin: Some(30),
                udp: Some(300)
            }
        );
    }

    #[test]
    fn daemons_get_defaults_and_kernel_errnos() {
        let mut f = FakeIpvs::new().with_interfaces(["eth0"]);
        let mut backup = SyncDaemon::new(DaemonState::Backup, "eth0");
        backup.group = Some("ff02::81".parse().unwrap());
        backup.syncid = 9;
        let mut bad_group = SyncDaemon::new(DaemonState::Backup, "eth0");
        bad_group.group = Some("10.0.0.1".parse().unwrap());
        let r = f
            .execute_all(&[
                IpvsOp::AddDaemon(SyncDaemon::new(DaemonState::Master, "eth0")),
                IpvsOp::AddDaemon(SyncDaemon::new(DaemonState::Master, "eth0")),
                IpvsOp::AddDaemon(SyncDaemon::new(DaemonState::Backup, "eth1")),
                IpvsOp::AddDaemon(bad_group),
                IpvsOp::AddDaemon(backup),
                IpvsOp::DelDaemon(DaemonState::Master),
                IpvsOp::DelDaemon(DaemonState::Master),
            ])
            .unwrap();
        assert_eq!(
            errnos(&r),
            [
                0,
                libc::EEXIST,
                libc::ENODEV,
                libc::EINVAL,
                0,
                0,
                libc::ESRCH
            ]
        );
        assert_eq!(
            f.dump(),
            "timeouts tcp 900 tcpfin 120 udp 300\n\
             daemon backup eth0 syncid 9 maxlen 1452 group ff02::81 port 8848 ttl 1\n"
        );
        let want = SyncDaemon::new(DaemonState::Backup, "eth0");
        assert!(!want.satisfied_by(&f.state().daemons[&DaemonState::Backup]));
        let mut want = want;
        want.syncid = 9;
        assert!(want.satisfied_by(&f.state().daemons[&DaemonState::Backup]));
    }

    #[test]
    fn injected_failures_hit_the_nth_op_across_calls() {
        let mut f = FakeIpvs::new();
        f.fail_op(2, libc::ENOMEM);
        f.fail_op(3, libc::EPERM);
        let r = f
            .execute_all(&[
                IpvsOp::AddService(svc(Scheduler::Rr)),
                IpvsOp::AddDest(key(), dest("10.0.0.1")),
            ])
            .unwrap();
        assert_eq!(errnos(&r), [0, libc::ENOMEM]);
        let r = f
            .execute_all(&[
                IpvsOp::AddDest(key(), dest("10.0.0.1")),
                IpvsOp::AddDest(key(), dest("10.0.0.1")),
            ])
            .unwrap();
        assert_eq!(errnos(&r), [libc::EPERM, 0]);
        assert_eq!(
            r[0].as_ref().unwrap_err().message,
            "lvsh needs root (CAP_NET_ADMIN) to talk to IPVS"
        );
        assert_eq!(f.state().dest_count(), 1);
        assert_eq!(f.log().len(), 4);
        f.fail_reads(Some(libc::EPERM));
        assert!(matches!(f.read(), Err(Error::NotRoot)));
        f.fail_reads(None);
        assert_eq!(f.read().unwrap().dest_count(), 1);
    }

    #[test]
    fn stored_services_look_like_a_kernel_read() {
        let mut f = FakeIpvs::new().without_engine(PersistenceEngine::Sip);
        let mut s = svc(Scheduler::Rr);
        s.dests.insert(dest("10.0.0.1").key, dest("10.0.0.1"));
        s.netmask = Some(Netmask::V4(Ipv4Addr::BROADCAST)); // spelled-out host mask
        let mut v6 = Service::new(ServiceKey::fwmark(Family::Inet6, 3));
        v6.netmask = Some(Netmask::V6(0));
        let mut sip = svc(Scheduler::Rr);
        sip.key = ServiceKey::fwmark(Family::Inet, 4);
        sip.pe = Some(PersistenceEngine::Sip);
        let r = f
            .execute_all(&[
                IpvsOp::AddService(s),
                IpvsOp::AddService(v6),
                IpvsOp::AddService(sip),
            ])
            .unwrap();
        assert_eq!(errnos(&r), [0, libc::EINVAL, libc::ENOENT]);
        let stored = &f.state().services[&key()];
        assert_eq!(stored.netmask, None);
        assert!(
            stored.dests.is_empty(),
            "NEW_SERVICE carries no destinations"
        );
        assert_eq!(f.zero(None), Ok(()));
        assert_eq!(
            f.zero(Some(&ServiceKey::fwmark(Family::Inet, 9)))
                .unwrap_err()
                .errno,
            libc::ESRCH
        );
        f.flush();
        assert!(f.state().services.is_empty());
        assert_eq!(f.info().to_string(), "IPVS 1.2.1 (size=4096)");
    }

    #[test]
    fn with_state_fills_default_timeouts_and_drops_marks() {
        let mut b = Balancer::default();
        b.services.insert(key(), svc(Scheduler::Rr));
        b.timeouts.udp = Some(10);
        b.marks.insert(1, crate::model::MarkRule::new(1));
        let f = FakeIpvs::with_state(&b);
        assert_eq!(f.state().timeouts.udp, Some(10));
        assert_eq!(f.state().timeouts.tcp, Some(900));
        assert!(f.state().marks.is_empty());
    }
}
