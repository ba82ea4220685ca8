//! `service(addr, port)` and `mark(n)`: the Service handle and its methods.

use super::check::CheckDraft;
use super::error::{Fail, fail};
use super::method::{Methods, method};
use super::real_server::{self, RealServerDraft};
use super::state::{At, Ctx, Handle, Mode, RealServerHandle, ServiceHandle, Traced};
use super::values::{self, int_in, type_name};
use crate::model::validate::MAX_TIMEOUT;
use crate::model::{
    DEFAULT_PERSIST_TIMEOUT, Family, MarkRule, Netmask, OnDown, PersistenceEngine, PortRange,
    Protocol, SchedFlag, Scheduler, Service, ServiceChecks, ServiceKey,
};
use crate::suggest::did_you_mean;
use rhai::{Array, Dynamic, Engine, INT, NativeCallContext};
use std::{
    collections::BTreeSet,
    fmt,
    net::{IpAddr, Ipv4Addr},
    sync::{Arc, OnceLock},
};

/// What identifies the service apart from its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Inet { address: IpAddr, port: u16 },
    Mark(u32),
}

/// How the script spelt a netmask; the family decides what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NetmaskSpec {
    Dotted(Ipv4Addr),
    Prefix(u8),
}

/// A scheduler flag as the script named it (`sh-port` is tied to `sh`).
#[derive(Debug, Clone)]
pub(crate) struct FlagUse {
    pub flag: SchedFlag,
    pub tie: Option<Scheduler>,
    pub name: &'static str,
    pub at: At,
}

/// A real server attached with `.rs()`, and where.
#[derive(Debug, Clone)]
pub(crate) struct Attached {
    pub rs: RealServerHandle,
    pub at: At,
}

/// A service or mark as the script builds it.
#[derive(Debug, Clone)]
pub(crate) struct ServiceDraft {
    pub kind: Kind,
    pub origin: At,
    pub protocol: Traced<Protocol>,
    /// Marks only: what the nft rule matches; `None` = tcp.
    pub mark_protocols: Traced<Option<BTreeSet<Protocol>>>,
    pub scheduler: Traced<Scheduler>,
    pub flags: Vec<FlagUse>,
    pub persistence: Traced<Option<u32>>,
    pub netmask: Traced<Option<NetmaskSpec>>,
    pub pe: Traced<Option<PersistenceEngine>>,
    pub one_packet: Traced<bool>,
    pub dests: Vec<Attached>,
    pub vips: Vec<(IpAddr, At)>,
    pub ports: Vec<(PortRange, At)>,
    /// Marks only: the fwmark service's family as `.ipv4()`/`.ipv6()` named it.
    pub family: Traced<Option<Family>>,
    pub comment: Traced<Option<String>>,
    /// The health check of real servers without one of their own. Boxed: inline
    /// it is 240 bytes that most services never use (peak memory at 10,000).
    pub check: Traced<Option<Box<CheckDraft>>>,
    pub on_down: Traced<OnDown>,
    /// Stands in while every real server is down.
    pub sorry: Traced<Option<RealServerHandle>>,
    /// Dropped with `.remove()`.
    pub removed: bool,
}

impl ServiceDraft {
    pub fn new(kind: Kind, origin: At) -> Self {
        ServiceDraft {
            kind,
            origin,
            protocol: Traced::new(Protocol::Tcp),
            mark_protocols: Traced::new(None),
            scheduler: Traced::new(Scheduler::default()),
            flags: Vec::new(),
            persistence: Traced::new(None),
            netmask: Traced::new(None),
            pe: Traced::new(None),
            one_packet: Traced::new(false),
            dests: Vec::new(),
            vips: Vec::new(),
            ports: Vec::new(),
            family: Traced::new(None),
            comment: Traced::new(None),
            check: Traced::new(None),
            on_down: Traced::new(OnDown::default()),
            sorry: Traced::new(None),
            removed: false,
        }
    }

    /// The draft of a service the REPL starts from, with its real servers as new
    /// handles (returned too, so the session can track them); a fwmark service with
    /// the vips it declares of its mark's rule, and with its health checks.
    pub fn from_model(
        s: &Service,
        rule: Option<(&MarkRule, &[IpAddr])>,
        checks: Option<&ServiceChecks>,
    ) -> (Self, Vec<RealServerHandle>) {
        let kind = match s.key {
            ServiceKey::Inet { address, port, .. } => Kind::Inet { address, port },
            ServiceKey::Fwmark { fwmark, .. } => Kind::Mark(fwmark),
        };
        let mut d = ServiceDraft::new(kind, At::of(s.origin.clone()));
        d.protocol.value = s.key.protocol();
        d.scheduler.value = s.scheduler;
        d.flags = s
            .flags
            .iter()
            .map(|f| FlagUse {
                flag: f,
                tie: None,
                name: f.name_for(Scheduler::Rr),
                at: At::default(),
            })
            .collect();
        d.persistence.value = s.persistence;
        d.netmask.value = s.netmask.map(|m| match m {
            Netmask::V4(a) => NetmaskSpec::Dotted(a),
            Netmask::V6(p) => NetmaskSpec::Prefix(p),
        });
        d.pe.value = s.pe;
        d.one_packet.value = s.one_packet;
        if let ServiceKey::Fwmark { family, .. } = s.key {
            d.family.value = Some(family);
        }
        if let Some((r, vips)) = rule {
            d.vips = vips
                .iter()
                .map(|a| (*a, At::of(r.origin.clone())))
                .collect();
            d.ports = r
                .ports
                .iter()
                .map(|p| (*p, At::of(r.origin.clone())))
                .collect();
            d.mark_protocols.value = Some(r.protocols.clone());
            d.comment.value = r.comment.clone();
        }
        let mut handles: Vec<RealServerHandle> = s
            .dests
            .values()
            .map(|dest| {
                let mut r = RealServerDraft::from_model(dest);
                if let Some(dc) = checks.and_then(|c| c.dests.get(&dest.key)) {
                    r.check.value = dc
                        .check
                        .as_ref()
                        .map(|c| Box::new(CheckDraft::from_model(c)));
                    r.slow_start.value = dc.slow_start;
                }
                Handle::new(r)
            })
            .collect();
        d.dests = handles
            .iter()
            .map(|h| Attached {
                rs: h.clone(),
                at: h.lock().origin.clone(),
            })
            .collect();
        if let Some(c) = checks {
            d.check.value = c
                .check
                .as_ref()
                .map(|c| Box::new(CheckDraft::from_model(c)));
            d.on_down.value = c.on_down;
            if let Some(sorry) = &c.sorry {
                let h = Handle::new(RealServerDraft::from_model(sorry));
                d.sorry.value = Some(h.clone());
                handles.push(h);
            }
        }
        (d, handles)
    }

    /// The family a mark's fwmark service gets: the one `.ipv4()`/`.ipv6()` named,
    /// else that of its first vip, else ipv4.
    pub fn family(&self) -> Family {
        match self.kind {
            Kind::Inet { address, .. } => Family::of(&address),
            Kind::Mark(_) => self
                .family
                .value
                .or_else(|| self.vips.first().map(|(a, _)| Family::of(a)))
                .unwrap_or(Family::Inet),
        }
    }

    pub fn key(&self) -> ServiceKey {
        match self.kind {
            Kind::Inet { address, port } => ServiceKey::inet(self.protocol.value, address, port),
            Kind::Mark(m) => ServiceKey::fwmark(self.family(), m),
        }
    }

    /// The port real servers without one inherit.
    pub fn dest_port(&self) -> u16 {
        match self.kind {
            Kind::Inet { port, .. } => port,
            Kind::Mark(_) => 0,
        }
    }

    fn is_mark(&self) -> bool {
        matches!(self.kind, Kind::Mark(_))
    }

    fn mark_only(&self, method: &str) -> Result<(), Fail> {
        if self.is_mark() {
            return Ok(());
        }
        Err(fail(
            format!(
                "`.{method}()` is only for marks, and {} is not one",
                self.key()
            ),
            Some(format!(
                "use `mark(n).{method}(..)` for a fwmark service fed by an nft rule"
            )),
        ))
    }

    /// Attaches a real server; the REPL replaces one with the same address and port.
    fn attach(&mut self, rs: RealServerHandle, at: At, mode: Mode) {
        if mode == Mode::Repl {
            let port = self.dest_port();
            let key = rs.lock().key(port);
            self.dests
                .retain(|a| a.rs.same(&rs) || a.rs.lock().key(port) != key);
            if self.dests.iter().any(|a| a.rs.same(&rs)) {
                return;
            }
        }
        self.dests.push(Attached { rs, at });
    }
}

impl fmt::Display for ServiceDraft {
    /// `service tcp 192.168.10.120:80 rr persist 120, 2 real servers`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Inet { .. } => write!(f, "service {}", self.key())?,
            Kind::Mark(m) => {
                write!(f, "mark {m}")?;
                if !self.vips.is_empty() {
                    let vips: Vec<String> = self.vips.iter().map(|(a, _)| a.to_string()).collect();
                    write!(f, " vip {}", vips.join(","))?;
                }
                if !self.ports.is_empty() {
                    let ports: Vec<String> =
                        self.ports.iter().map(|(p, _)| p.to_string()).collect();
                    write!(f, " ports {}", ports.join(","))?;
                }
                let implied = self.vips.first().map(|(a, _)| Family::of(a));
                if implied.unwrap_or(Family::Inet) != self.family()
                    || self
                        .vips
                        .iter()
                        .any(|(a, _)| Some(Family::of(a)) != implied)
                {
                    write!(f, " {}", self.family())?;
                }
            }
        }
        write!(f, " {}", self.scheduler.value)?;
        if let Some(p) = self.persistence.value {
            write!(f, " persist {p}")?;
        }
        if let Some(c) = &self.check.value {
            write!(f, " check {}", c.check.kind.name())?;
        }
        if self.on_down.value != OnDown::default() {
            write!(f, " on_down {}", self.on_down.value.name())?;
        }
        if let Some(r) = &self.sorry.value {
            write!(f, " sorry {}", r.lock().address)?;
        }
        if self.removed {
            f.write_str(" (removed)")?;
        }
        let n = self.dests.len();
        write!(f, ", {n} real server{}", if n == 1 { "" } else { "s" })
    }
}

fn scheduler(name: &str) -> Result<Scheduler, Fail> {
    name.parse().map_err(|_| {
        fail(
            format!(
                "unknown scheduler `{name}`{}",
                did_you_mean(name, Scheduler::names())
            ),
            Some(format!(
                "schedulers: {}",
                Scheduler::names().collect::<Vec<_>>().join(", ")
            )),
        )
    })
}

fn flag(name: &str, at: At) -> Result<FlagUse, Fail> {
    let all = SchedFlag::all_names();
    let (flag, tie) = SchedFlag::parse(name).ok_or_else(|| {
        fail(
            format!(
                "unknown scheduler flag `{name}`{}",
                did_you_mean(name, all.iter().copied())
            ),
            Some(format!("flags: {}", all.join(", "))),
        )
    })?;
    let name = all.iter().find(|n| **n == name).copied().unwrap_or("flag");
    Ok(FlagUse {
        flag,
        tie,
        name,
        at,
    })
}

fn netmask_text(text: &str) -> Result<NetmaskSpec, Fail> {
    if let Ok(n) = text.trim().trim_start_matches('/').parse::<INT>() {
        return netmask_int(n);
    }
    let m: Ipv4Addr = text.trim().parse().map_err(|_| {
        fail(
            format!("`{text}` is not a netmask"),
            Some(
                "IPv4: `.netmask(\"255.255.255.0\")` or `.netmask(24)`; IPv6: `.netmask(64)`"
                    .to_string(),
            ),
        )
    })?;
    let bits = u32::from(m);
    if bits.leading_ones() + bits.trailing_zeros() != 32 {
        return Err(fail(
            format!("netmask {m} has holes"),
            Some("a netmask is leading one bits, like 255.255.255.0".to_string()),
        ));
    }
    Ok(NetmaskSpec::Dotted(m))
}

fn netmask_int(n: INT) -> Result<NetmaskSpec, Fail> {
    Ok(NetmaskSpec::Prefix(
        int_in(n, 0, 128, "netmask prefix")? as u8
    ))
}

fn persistence_engine(name: &str) -> Result<Option<PersistenceEngine>, Fail> {
    if name == "none" || name.is_empty() {
        return Ok(None);
    }
    PersistenceEngine::parse(name).map(Some).ok_or_else(|| {
        fail(
            format!(
                "unknown persistence engine `{name}`{}",
                did_you_mean(name, ["sip"])
            ),
            Some("the kernel has one engine: `sip`".to_string()),
        )
    })
}

fn protocol(name: &str) -> Result<Protocol, Fail> {
    name.parse().map_err(|_| {
        fail(
            format!(
                "unknown protocol `{name}`{}",
                did_you_mean(name, Protocol::ALL.map(Protocol::name))
            ),
            Some("protocols: tcp, udp, sctp".to_string()),
        )
    })
}

fn on_down(name: &str) -> Result<OnDown, Fail> {
    OnDown::parse(name).ok_or_else(|| {
        fail(
            format!(
                "unknown on_down action `{name}`{}",
                did_you_mean(name, ["quiesce", "remove"])
            ),
            Some(
                "\"quiesce\" (weight 0, the default: connections go on) or \"remove\" (the real server is deleted)"
                    .to_string(),
            ),
        )
    })
}

fn fwmark(n: INT) -> Result<u32, Fail> {
    int_in(n, 1, u32::MAX as INT, "fwmark")
        .map(|m| m as u32)
        .map_err(|_| {
            fail(
                format!("fwmark {n} is out of range 1..{}", u32::MAX),
                Some("the kernel reads mark 0 as \"no mark\"".to_string()),
            )
        })
}

/// Everything `.rs()` accepts: a RealServer, an address string, or an array of them.
fn real_servers(
    ctx: &Ctx,
    v: Dynamic,
    at: &At,
    out: &mut Vec<RealServerHandle>,
) -> Result<(), Fail> {
    if v.is::<RealServerHandle>() {
        out.push(v.cast());
    } else if v.is_string() {
        let text = values::string(&v, "a real server")?;
        out.push(real_server::create(ctx, &text, None, at.clone())?);
    } else if v.is_array() {
        for item in v.cast::<Array>() {
            real_servers(ctx, item, at, out)?;
        }
    } else {
        return Err(fail(
            format!("`.rs()` takes real servers, not {}", type_name(&v)),
            Some("write `.rs(rs(\"10.0.0.1\"))`, `.rs(\"10.0.0.1\")` or `.rs([..])`".to_string()),
        ));
    }
    Ok(())
}

/// Creates or (REPL) re-opens a service, and registers it.
fn open(ctx: &Ctx, kind: Kind, protocol: Protocol, origin: At) -> ServiceHandle {
    let mut reg = ctx.registry();
    if ctx.mode == Mode::Repl {
        let found = reg.services.iter().find(|h| {
            let d = h.lock();
            !d.removed
                && d.kind == kind
                && match kind {
                    Kind::Inet { .. } => d.protocol.value == protocol,
                    Kind::Mark(_) => true,
                }
        });
        if let Some(h) = found {
            return h.clone();
        }
    }
    let mut d = ServiceDraft::new(kind, origin);
    d.protocol.value = protocol;
    let h = Handle::new(d);
    reg.services.push(h.clone());
    h
}

/// `service(addr, port)`, and with a protocol, `service(addr, port, proto)`.
pub(crate) fn service(
    ctx: &Ctx,
    addr: &str,
    port: INT,
    proto: Option<&str>,
    at: At,
) -> Result<ServiceHandle, Fail> {
    let kind = Kind::Inet {
        address: values::address(addr)?,
        port: values::port(port, "port")?,
    };
    let Some(proto) = proto else {
        return Ok(open(ctx, kind, Protocol::Tcp, at));
    };
    let h = open(ctx, kind, protocol(proto)?, at.clone());
    h.lock().protocol.at = at;
    Ok(h)
}

/// `mark(n)`.
pub(crate) fn mark(ctx: &Ctx, n: INT, at: At) -> Result<ServiceHandle, Fail> {
    Ok(open(ctx, Kind::Mark(fwmark(n)?), Protocol::Tcp, at))
}

/// `.tcp()`, `.udp()`, `.sctp()`: a service's protocol, or what a mark's rule matches.
pub(crate) fn set_protocol(h: &ServiceHandle, p: Protocol, at: At) {
    let mut d = h.lock();
    if d.is_mark() {
        d.mark_protocols.set(Some(BTreeSet::from([p])), at);
    } else {
        d.protocol.set(p, at);
    }
}

/// `.rs(rs(..))`.
pub(crate) fn attach(ctx: &Ctx, h: &ServiceHandle, rs: RealServerHandle, at: At) {
    h.lock().attach(rs, at, ctx.mode);
}

/// `.rs(..)` of anything else: an address string, or a list.
pub(crate) fn attach_any(ctx: &Ctx, h: &ServiceHandle, v: Dynamic, at: At) -> Result<(), Fail> {
    let mut list = Vec::new();
    real_servers(ctx, v, &at, &mut list)?;
    let mut d = h.lock();
    for rs in list {
        d.attach(rs, at.clone(), ctx.mode);
    }
    Ok(())
}

/// The Service's builder methods (see `method.rs`), made once.
pub(crate) fn methods() -> &'static Methods<ServiceDraft> {
    static METHODS: OnceLock<Methods<ServiceDraft>> = OnceLock::new();
    METHODS.get_or_init(|| {
        let mut m = Methods::<ServiceDraft>::new();
        method!(m, "protocols", |d, at, list: Array| {
            d.mark_only("protocols")?;
            let mut set = BTreeSet::new();
            for v in &list {
                set.insert(protocol(&values::string(v, "a protocol")?)?);
            }
            if set.is_empty() {
                return Err(fail(
                    "`.protocols()` needs at least one protocol",
                    Some("e.g. `.protocols([\"tcp\", \"udp\"])`".to_string()),
                ));
            }
            d.mark_protocols.set(Some(set), at);
            Ok(())
        });
        method!(m, "scheduler", |d, at, name: &str| {
            d.scheduler.set(scheduler(name)?, at);
            Ok(())
        });
        method!(m, "persist", |d, at| {
            d.persistence.set(Some(DEFAULT_PERSIST_TIMEOUT), at);
            Ok(())
        });
        method!(m, "persist", |d, at, secs: INT| {
            let secs =
                int_in(secs, 1, MAX_TIMEOUT as INT, "persistence timeout").map_err(|_| {
                    fail(
                        format!("persistence timeout {secs} is out of range 1..{MAX_TIMEOUT}"),
                        Some(
                            "seconds, at most 31 days; leave `.persist()` out for no persistence"
                                .to_string(),
                        ),
                    )
                })?;
            d.persistence.set(Some(secs as u32), at);
            Ok(())
        });
        method!(m, "netmask", |d, at, mask: &str| {
            d.netmask.set(Some(netmask_text(mask)?), at);
            Ok(())
        });
        method!(m, "netmask", |d, at, prefix: INT| {
            d.netmask.set(Some(netmask_int(prefix)?), at);
            Ok(())
        });
        method!(m, "pe", |d, at, name: &str| {
            d.pe.set(persistence_engine(name)?, at);
            Ok(())
        });
        method!(m, "ops", |d, at| {
            d.one_packet.set(true, at);
            Ok(())
        });
        method!(m, "flag", |d, at, name: &str| {
            let f = flag(name, at)?;
            d.flags.push(f);
            Ok(())
        });
        method!(m, "flags", |d, at, names: Array| {
            let mut flags = Vec::new();
            for n in &names {
                flags.push(flag(&values::string(n, "a scheduler flag")?, at.clone())?);
            }
            d.flags = flags;
            Ok(())
        });
        method!(m, "vip", |d, at, addr: &str| {
            d.mark_only("vip")?;
            d.vips.push((values::address(addr)?, at));
            Ok(())
        });
        method!(m, "vip", |d, at, addrs: Array| {
            d.mark_only("vip")?;
            for a in &addrs {
                let a = values::address(&values::string(a, "a vip")?)?;
                d.vips.push((a, at.clone()));
            }
            Ok(())
        });
        method!(m, "ports", |d, at, list: Array| {
            d.mark_only("ports")?;
            let mut ports = Vec::new();
            for p in &list {
                ports.push((values::port_range(p)?, at.clone()));
            }
            d.ports = ports;
            Ok(())
        });
        method!(m, "port", |d, at, p: INT| {
            d.mark_only("port")?;
            d.ports.push((values::port_range(&Dynamic::from(p))?, at));
            Ok(())
        });
        method!(m, "port", |d, at, p: &str| {
            d.mark_only("port")?;
            d.ports
                .push((values::port_range(&Dynamic::from(p.to_string()))?, at));
            Ok(())
        });
        method!(m, "ipv4", |d, at| {
            d.mark_only("ipv4")?;
            d.family.set(Some(Family::Inet), at);
            Ok(())
        });
        method!(m, "ipv6", |d, at| {
            d.mark_only("ipv6")?;
            d.family.set(Some(Family::Inet6), at);
            Ok(())
        });
        method!(m, "comment", |d, at, text: &str| {
            d.mark_only("comment")?;
            if text.len() > 128 {
                return Err(fail(
                    format!("comment is {} bytes; nft keeps at most 128", text.len()),
                    None,
                ));
            }
            d.comment.set(Some(text.to_string()), at);
            Ok(())
        });
        method!(m, "remove", |d, _| {
            d.removed = true;
            Ok(())
        });
        method!(m, "check", |d, at, c: CheckDraft| {
            d.check.set(Some(Box::new(c)), at);
            Ok(())
        });
        method!(m, "on_down", |d, at, name: &str| {
            d.on_down.set(on_down(name)?, at);
            Ok(())
        });
        method!(m, "sorry", |d, at, rs: RealServerHandle| {
            d.sorry.set(Some(rs), at);
            Ok(())
        });
        method!(m, "remove_rs", |d, _, server: &str| {
            let (addr, port) = values::address_port(server)?;
            let dp = d.dest_port();
            let before = d.dests.len();
            d.dests.retain(|a| {
                let r = a.rs.lock();
                !(r.address == addr && port.is_none_or(|q| r.key(dp).1 == q))
            });
            if d.dests.len() == before {
                return Err(fail(
                    format!("{} has no real server {server}", d.key()),
                    None,
                ));
            }
            Ok(())
        });
        m
    })
}

pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    methods().register(engine, ctx);
    engine.register_type_with_name::<ServiceHandle>("Service");
    engine.register_fn("to_string", |h: &mut ServiceHandle| h.lock().to_string());
    engine.register_fn("to_debug", |h: &mut ServiceHandle| h.lock().to_string());

    let c = ctx.clone();
    engine.register_fn(
        "service",
        move |nc: NativeCallContext, addr: &str, port: INT| -> Result<ServiceHandle, Fail> {
            service(&c, addr, port, None, c.origin(&nc))
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "service",
        move |nc: NativeCallContext,
              addr: &str,
              port: INT,
              proto: &str|
              -> Result<ServiceHandle, Fail> {
            service(&c, addr, port, Some(proto), c.origin(&nc))
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "mark",
        move |nc: NativeCallContext, n: INT| -> Result<ServiceHandle, Fail> {
            mark(&c, n, c.origin(&nc))
        },
    );
    for (name, p) in [
        ("tcp", Protocol::Tcp),
        ("udp", Protocol::Udp),
        ("sctp", Protocol::Sctp),
    ] {
        let c = ctx.clone();
        engine.register_fn(
            name,
            move |nc: NativeCallContext, h: &mut ServiceHandle| -> ServiceHandle {
                set_protocol(h, p, c.origin(&nc));
                h.clone()
            },
        );
    }
    // `.rs(rs(..))`, the common case, without going through `Dynamic`.
    let c = ctx.clone();
    engine.register_fn(
        "rs",
        move |nc: NativeCallContext, h: &mut ServiceHandle, rs: RealServerHandle| {
            attach(&c, h, rs, c.origin(&nc));
            h.clone()
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "rs",
        move |nc: NativeCallContext,
              h: &mut ServiceHandle,
              v: Dynamic|
              -> Result<ServiceHandle, Fail> {
            attach_any(&c, h, v, c.origin(&nc))?;
            Ok(h.clone())
        },
    );
    engine.register_fn(
        "server",
        |h: &mut ServiceHandle, server: &str| -> Result<RealServerHandle, Fail> {
            let (addr, port) = values::address_port(server)?;
            let d = h.lock();
            let p = d.dest_port();
            d.dests
                .iter()
                .find(|a| {
                    let r = a.rs.lock();
                    r.address == addr && port.is_none_or(|q| r.key(p).1 == q)
                })
                .map(|a| a.rs.clone())
                .ok_or_else(|| fail(format!("{} has no real server {server}", d.key()), None))
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks_parse_and_refuse_holes() {
        assert_eq!(
            netmask_text("255.255.255.0").unwrap(),
            NetmaskSpec::Dotted(Ipv4Addr::new(255, 255, 255, 0))
        );
        assert_eq!(netmask_text("24").unwrap(), NetmaskSpec::Prefix(24));
        assert!(netmask_text("255.0.255.0").is_err());
        assert!(netmask_int(129).is_err());
    }

    #[test]
    fn mark_family_follows_vips() {
        let mut d = ServiceDraft::new(Kind::Mark(10), At::default());
        assert_eq!(d.key(), ServiceKey::fwmark(Family::Inet, 10));
        d.vips.push(("2001:db8::1".parse().unwrap(), At::default()));
        assert_eq!(d.family(), Family::Inet6);
        // A named family wins over the vips'.
        d.family.value = Some(Family::Inet);
        assert_eq!(d.family(), Family::Inet);
    }

    /// 10,000 of them are alive at once beside their model at 10,000 services × 4
    /// (peak memory); its health check is boxed for that.
    #[test]
    fn a_service_draft_stays_small() {
        let size = std::mem::size_of::<ServiceDraft>();
        assert!(size <= 360, "ServiceDraft is {size} bytes");
    }
}
