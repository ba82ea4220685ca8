//! One `ipvsadm` rule: the options of a line checked and turned into model objects,
//! with the checks ipvsadm (and the kernel, for what ipvsadm passes through) makes.
//!
//! Order matters where it matters to ipvsadm: `-6` needs `-f` before it, and a `-r`
//! without a port takes the service port known at that point. Where ipvsadm would
//! silently do something surprising (an IPv4-style `-M` before an IPv6 service, a
//! masquerading `-r` without port before the service), lvsh stops and says so.

use super::ipvsadm_addr::{endpoint, netmask_v4};
use super::ipvsadm_args::{Given, Opt, Parsed, Tok};
use super::ipvsadm_error::{Fault, Problem};
use crate::model::{
    DEFAULT_PERSIST_TIMEOUT, DaemonState, Dest, DestKey, Family, Forward, Netmask,
    PersistenceEngine, Protocol, SchedFlag, SchedFlags, Scheduler, Service, ServiceKey, SyncDaemon,
    Timeouts, TunnelChecksum, TunnelKind,
};
use crate::suggest::closest;
use std::net::{IpAddr, Ipv4Addr};
use std::ops::Range;

/// ipvsadm's limit for timeouts: 31 days.
const MAX_TIMEOUT: u32 = 86400 * 31;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    AddService,
    EditService,
    DeleteService,
    Flush,
    List,
    Zero,
    AddServer,
    EditServer,
    DeleteServer,
    SetTimeouts,
    StartDaemon(DaemonState),
    StopDaemon(DaemonState),
    Save,
}

/// A checked rule: what to do, and the objects it names.
#[derive(Debug)]
pub(crate) struct Rule {
    pub command: Command,
    pub command_span: Range<usize>,
    /// The service named by the rule, with its settings as the rule gives them.
    pub service: Option<Service>,
    pub service_span: Range<usize>,
    pub dest: Option<Dest>,
    pub dest_span: Range<usize>,
    pub timeouts: Timeouts,
    pub daemon: Option<SyncDaemon>,
}

/// ipvsadm's option groups (`OPTC_*`): each may appear once per rule, and each
/// command allows some of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Numeric,
    Connection,
    Service,
    Scheduler,
    Persistent,
    Netmask,
    Server,
    Forward,
    Weight,
    UThreshold,
    LThreshold,
    McastInterface,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Syncid,
    Exact,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
}

impl Class {
    fn of(opt: Opt) -> Option<Class> {
        Some(match opt {
            Opt::TcpService | Opt::UdpService | Opt::SctpService | Opt::FwmarkService => {
                Class::Service
            }
            Opt::Scheduler => Class::Scheduler,
            Opt::Persistent => Class::Persistent,
            Opt::Netmask => Class::Netmask,
            Opt::RealServer => Class::Server,
            Opt::Masquerading | Opt::Ipip | Opt::Gatewaying => Class::Forward,
            Opt::Weight => Class::Weight,
            Opt::UThreshold => Class::UThreshold,
            Opt::LThreshold => Class::LThreshold,
            Opt::Numeric => Class::Numeric,
            Opt::Connection => Class::Connection,
            Opt::McastInterface => Class::McastInterface,
            Opt::Syncid => Class::Syncid,
            Opt::Timeout => Class::Timeout,
            Opt::Daemon => Class::Daemon,
            Opt::Stats => Class::Stats,
            Opt::Rate => Class::Rate,
            Opt::Thresholds => Class::Thresholds,
            Opt::PersistentConn => Class::PersistentConn,
            Opt::NoSort => Class::NoSort,
            Opt::Exact => Class::Exact,
            Opt::Ops => Class::Ops,
            Opt::Pe => Class::Pe,
            Opt::SchedFlags => Class::SchedFlags,
            Opt::McastGroup => Class::McastGroup,
            Opt::McastPort => Class::McastPort,
            Opt::McastTtl => Class::McastTtl,
            Opt::SyncMaxlen => Class::SyncMaxlen,
            Opt::TunInfo => Class::TunInfo,
            Opt::TunType => Class::TunType,
            Opt::TunPort => Class::TunPort,
            Opt::TunNocsum => Class::TunNocsum,
            Opt::TunCsum => Class::TunCsum,
            Opt::TunRemcsum => Class::TunRemcsum,
            _ => return None,
        })
    }

    fn what(self) -> &'static str {
        match self {
            Class::Service => "virtual service",
            Class::Scheduler => "scheduler",
            Class::Persistent => "persistence",
            Class::Netmask => "netmask",
            Class::Server => "real server",
            Class::Forward => "forwarding method",
            Class::Weight => "weight",
            Class::UThreshold => "upper threshold",
            Class::LThreshold => "lower threshold",
            Class::McastInterface => "multicast interface",
            Class::Syncid => "sync id",
            Class::Pe => "persistence engine",
            Class::SchedFlags => "set of scheduler flags",
            Class::McastGroup => "multicast group",
            Class::McastPort => "multicast port",
            Class::McastTtl => "multicast ttl",
            Class::SyncMaxlen => "sync message length",
            Class::TunType => "tunnel type",
            Class::TunPort => "tunnel port",
            _ => "use of this option",
        }
    }

    fn is_tunnel(self) -> bool {
        matches!(
            self,
            Class::TunType | Class::TunPort | Class::TunNocsum | Class::TunCsum | Class::TunRemcsum
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Required,
    Optional,
    /// At most one of the exclusive options of a command.
    Exclusive,
    Illegal,
}

/// ipvsadm's `commands_v_options` table, per command.
fn need(cmd: Command, c: Class) -> Need {
    use Class as C;
    use Need::*;
    match cmd {
        Command::AddService | Command::EditService => match c {
            C::Service => Required,
            C::Scheduler | C::Persistent | C::Netmask | C::Ops | C::Pe | C::SchedFlags => Optional,
            _ => Illegal,
        },
        Command::DeleteService => match c {
            C::Service => Required,
            _ => Illegal,
        },
        Command::AddServer | Command::EditServer => match c {
            C::Service | C::Server => Required,
            C::Forward | C::Weight | C::UThreshold | C::LThreshold => Optional,
            c if c.is_tunnel() => Optional,
            _ => Illegal,
        },
        Command::DeleteServer => match c {
            C::Service | C::Server => Required,
            _ => Illegal,
        },
        Command::List => match c {
            C::Connection | C::Service | C::Timeout | C::Daemon => Exclusive,
            C::Numeric
            | C::Stats
            | C::Rate
            | C::Thresholds
            | C::PersistentConn
            | C::NoSort
            | C::Syncid
            | C::Exact
            | C::TunInfo => Optional,
            _ => Illegal,
        },
        Command::StartDaemon(_) => match c {
            C::McastInterface
            | C::Syncid
            | C::McastGroup
            | C::McastPort
            | C::McastTtl
            | C::SyncMaxlen => Optional,
            _ => Illegal,
        },
        Command::StopDaemon(_) => match c {
            C::Syncid => Optional,
            _ => Illegal,
        },
        Command::Save => match c {
            C::Numeric => Optional,
            _ => Illegal,
        },
        Command::Zero => match c {
            C::Service => Optional,
            _ => Illegal,
        },
        Command::Flush | Command::SetTimeouts => Illegal,
    }
}

/// Everything a rule can set, with ipvsadm's defaults (`process_options`).
struct Entry<'a> {
    family: Family,
    protocol: Option<Protocol>,
    address: Option<IpAddr>,
    port: u16,
    fwmark: u32,
    scheduler: Option<Scheduler>,
    persistence: Option<u32>,
    /// `-M` and the family the service had when it was read.
    netmask: Option<(Tok<'a>, Family)>,
    pe: Option<PersistenceEngine>,
    one_packet: bool,
    flags: Option<Tok<'a>>,
    dest: Option<(IpAddr, u16)>,
    /// A `-r` without port seen before any service option.
    dest_port_guessed: bool,
    forward: Option<Opt>,
    weight: u32,
    upper: u32,
    lower: u32,
    tun_kind: TunnelKind,
    tun_port: u16,
    tun_checksum: TunnelChecksum,
    interface: Option<String>,
    syncid: u8,
    group: Option<IpAddr>,
    mcast_port: Option<u16>,
    ttl: Option<u8>,
    maxlen: Option<u16>,
}

impl Default for Entry<'_> {
    fn default() -> Self {
        Entry {
            family: Family::Inet,
            protocol: None,
            address: None,
            port: 0,
            fwmark: 0,
            scheduler: None,
            persistence: None,
            netmask: None,
            pe: None,
            one_packet: false,
            flags: None,
            dest: None,
            dest_port_guessed: false,
            forward: None,
            weight: 1,
            upper: 0,
            lower: 0,
            tun_kind: TunnelKind::Ipip,
            tun_port: 0,
            tun_checksum: TunnelChecksum::None,
            interface: None,
            syncid: 0,
            group: None,
            mcast_port: None,
            ttl: None,
            maxlen: None,
        }
    }
}

/// Checks the options of one line and builds its rule.
pub(crate) fn rule(p: &Parsed<'_>) -> Result<Rule, Fault> {
    let Some(first) = p.given.first() else {
        let span = p.leftovers.first().map_or(p.span.clone(), Tok::span);
        return Err(Fault::new(Problem::NoCommand, span)
            .help("a rule starts with a command: `-A`, `-E`, `-D`, `-a`, `-e`, `-d`, `-C`, `--set`, `--start-daemon` or `--stop-daemon`"));
    };
    let command = command_of(first)?;
    let mut e = Entry::default();
    let mut seen: Vec<(Class, &Given<'_>)> = Vec::new();
    let mut service_span = 0..0;
    let mut dest_span = 0..0;
    for g in &p.given[1..] {
        if is_command(g.opt) {
            return Err(Fault::new(
                Problem::SecondCommand {
                    option: g.name.clone(),
                    first: first.name.clone(),
                },
                g.span.clone(),
            )
            .help("one command per line"));
        }
        if let Some(class) = Class::of(g.opt) {
            if let Some((_, earlier)) = seen.iter().find(|(c, _)| *c == class) {
                return Err(Fault::new(
                    Problem::Repeated {
                        what: class.what(),
                        option: g.name.clone(),
                        first: earlier.name.clone(),
                    },
                    g.span.clone(),
                ));
            }
            seen.push((class, g));
        }
        let v = g.value;
        match g.opt {
            Opt::TcpService | Opt::UdpService | Opt::SctpService => {
                let protocol = match g.opt {
                    Opt::TcpService => Protocol::Tcp,
                    Opt::UdpService => Protocol::Udp,
                    _ => Protocol::Sctp,
                };
                e.protocol = Some(protocol);
                let (addr, port) = endpoint(value(g)?, Some(protocol), "virtual service")?;
                e.address = Some(addr);
                e.family = Family::of(&addr);
                if let Some(port) = port {
                    e.port = port;
                }
                service_span = g.full_span();
            }
            Opt::FwmarkService => {
                e.family = Family::Inet;
                e.protocol = Some(Protocol::Tcp);
                e.fwmark = fwmark(value(g)?)?;
                service_span = g.full_span();
            }
            Opt::Ipv6 => {
                if e.fwmark == 0 {
                    return Err(Fault::new(Problem::Ipv6WithoutFwmark, g.span.clone())
                        .help("write `-f MARK -6`; IPv6 addresses need no `-6`"));
                }
                e.family = Family::Inet6;
                service_span.end = service_span.end.max(g.span.end);
            }
            Opt::Scheduler => e.scheduler = Some(scheduler(value(g)?)?),
            Opt::Persistent => {
                e.persistence = Some(match v {
                    Some(t) => number(t, 1, MAX_TIMEOUT, "persistence timeout", "1..=2678400")?,
                    None => DEFAULT_PERSIST_TIMEOUT,
                })
            }
            Opt::Netmask => e.netmask = Some((value(g)?, e.family)),
            Opt::RealServer => {
                let t = value(g)?;
                let (addr, port) = endpoint(t, e.protocol, "real server")?;
                let guessed = port.is_none() && e.address.is_none() && e.fwmark == 0;
                e.dest = Some((addr, port.unwrap_or(e.port)));
                e.dest_port_guessed = guessed;
                dest_span = g.full_span();
            }
            Opt::Masquerading | Opt::Ipip | Opt::Gatewaying => e.forward = Some(g.opt),
            Opt::Weight => {
                e.weight = number(value(g)?, 0, 65535, "weight", "0..=65535").map_err(|f| {
                    f.help("upstream ipvsadm and lvsh take weights 0..=65535 (Debian's ipvsadm allows more)")
                })?
            }
            Opt::UThreshold => {
                e.upper = number(value(g)?, 0, i32::MAX as u32, "upper threshold", "0..=2147483647")?
            }
            Opt::LThreshold => {
                e.lower = number(value(g)?, 0, i32::MAX as u32, "lower threshold", "0..=2147483647")?
            }
            Opt::McastInterface => {
                let t = value(g)?;
                if t.text.len() > 15 {
                    return Err(Fault::new(
                        Problem::Invalid {
                            what: "interface name",
                            value: t.text.to_owned(),
                        },
                        t.span(),
                    )
                    .help("interface names have at most 15 characters"));
                }
                e.interface = Some(t.text.to_owned());
            }
            Opt::Syncid => e.syncid = number(value(g)?, 0, 255, "sync id", "0..=255")? as u8,
            Opt::Ops => e.one_packet = true,
            Opt::Pe => {
                let t = value(g)?;
                e.pe = Some(PersistenceEngine::parse(t.text).ok_or_else(|| {
                    Fault::new(Problem::UnknownPe(t.text.to_owned()), t.span())
                        .help("the kernel has one persistence engine: `sip`")
                })?);
            }
            Opt::SchedFlags => e.flags = Some(value(g)?),
            Opt::McastGroup => e.group = Some(mcast_group(value(g)?)?),
            Opt::McastPort => {
                e.mcast_port =
                    Some(number(value(g)?, 1, 65535, "multicast port", "1..=65535")? as u16)
            }
            Opt::McastTtl => {
                e.ttl = Some(number(value(g)?, 1, 255, "multicast ttl", "1..=255")? as u8)
            }
            Opt::SyncMaxlen => {
                e.maxlen = Some(
                    number(value(g)?, 1, 65535 - 20 - 8, "sync message length", "1..=65507")?
                        as u16,
                )
            }
            Opt::TunType => {
                let t = value(g)?;
                e.tun_kind = TunnelKind::parse(t.text).ok_or_else(|| {
                    Fault::new(Problem::UnknownTunnel(t.text.to_owned()), t.span())
                        .help("tunnel types are `ipip`, `gue` and `gre`")
                })?;
            }
            Opt::TunPort => {
                e.tun_port = number(value(g)?, 1, 65535, "tunnel port", "1..=65535")? as u16
            }
            Opt::TunNocsum => e.tun_checksum = TunnelChecksum::None,
            Opt::TunCsum => e.tun_checksum = TunnelChecksum::Csum,
            Opt::TunRemcsum => e.tun_checksum = TunnelChecksum::Remcsum,
            _ => {}
        }
    }

    let timeouts = leftovers(p, command, first)?;
    let flags = match e.flags {
        Some(t) => sched_flags(t, e.scheduler.unwrap_or_default())?,
        None => SchedFlags::default(),
    };
    check_options(command, first, &seen)?;

    // The service as the rule names it.
    let service = if seen.iter().any(|(c, _)| *c == Class::Service) {
        let key = if e.fwmark != 0 {
            ServiceKey::fwmark(e.family, e.fwmark)
        } else {
            let protocol = e.protocol.expect("service options set the protocol");
            ServiceKey::inet(protocol, e.address.expect("service address"), e.port)
        };
        let mut s = Service::new(key);
        s.scheduler = e.scheduler.unwrap_or_default();
        s.flags = flags;
        s.persistence = e.persistence;
        s.pe = e.pe;
        s.one_packet = e.one_packet;
        if let Some((t, family)) = e.netmask {
            s.set_netmask(netmask(t, family, e.family)?);
        }
        Some(s)
    } else {
        None
    };

    if matches!(command, Command::AddService | Command::EditService) {
        let s = service.as_ref().expect("required");
        if e.fwmark == 0 && e.port == 0 && s.persistence.is_none() {
            return Err(Fault::new(Problem::ZeroPortNotPersistent, service_span)
                .help("add `-p` for persistence, or give the service a port"));
        }
        if e.one_packet && e.fwmark == 0 && e.protocol != Some(Protocol::Udp) {
            let g = given(&seen, Class::Ops);
            return Err(Fault::new(Problem::OpsNotUdp, g.span.clone()));
        }
    }

    let dest = match (&service, e.dest) {
        (Some(s), Some((address, port))) => Some(dest(&e, s, &seen, address, port, &dest_span)?),
        _ => None,
    };

    let daemon = match command {
        Command::StartDaemon(state) => {
            let mut d = SyncDaemon::new(state, e.interface.unwrap_or_else(|| "eth0".into()));
            d.syncid = e.syncid;
            d.maxlen = e.maxlen;
            d.group = e.group;
            d.port = e.mcast_port;
            d.ttl = e.ttl;
            Some(d)
        }
        _ => None,
    };

    Ok(Rule {
        command,
        command_span: first.span.clone(),
        service,
        service_span,
        dest,
        dest_span,
        timeouts,
        daemon,
    })
}

fn is_command(opt: Opt) -> bool {
    matches!(
        opt,
        Opt::AddService
            | Opt::EditService
            | Opt::DeleteService
            | Opt::Clear
            | Opt::List
            | Opt::Zero
            | Opt::AddServer
            | Opt::EditServer
            | Opt::DeleteServer
            | Opt::Set
            | Opt::Help
            | Opt::Version
            | Opt::Restore
            | Opt::Save
            | Opt::StartDaemon
            | Opt::StopDaemon
    )
}

fn command_of(g: &Given<'_>) -> Result<Command, Fault> {
    let daemon_state = |g: &Given<'_>| {
        let t = g.value.expect("daemon commands take a value");
        match t.text {
            "master" => Ok(DaemonState::Master),
            "backup" => Ok(DaemonState::Backup),
            _ => Err(Fault::new(
                Problem::Invalid {
                    what: "sync daemon state",
                    value: t.text.to_owned(),
                },
                t.span(),
            )
            .help("write `master` or `backup`")),
        }
    };
    Ok(match g.opt {
        Opt::AddService => Command::AddService,
        Opt::EditService => Command::EditService,
        Opt::DeleteService => Command::DeleteService,
        Opt::Clear => Command::Flush,
        Opt::List => Command::List,
        Opt::Zero => Command::Zero,
        Opt::AddServer => Command::AddServer,
        Opt::EditServer => Command::EditServer,
        Opt::DeleteServer => Command::DeleteServer,
        Opt::Set => Command::SetTimeouts,
        Opt::Save => Command::Save,
        Opt::StartDaemon => Command::StartDaemon(daemon_state(g)?),
        Opt::StopDaemon => Command::StopDaemon(daemon_state(g)?),
        Opt::Restore | Opt::Help | Opt::Version => {
            return Err(
                Fault::new(Problem::NotARule(g.name.clone()), g.span.clone())
                    .help("ipvsadm stops reading the rules at this line"),
            );
        }
        _ => {
            return Err(
                Fault::new(Problem::NotACommand(g.name.clone()), g.span.clone()).help(
                    "a rule starts with a command: `-A`, `-E`, `-D`, `-a`, `-e`, `-d`, `-C`, `--set`, `--start-daemon` or `--stop-daemon`",
                ),
            );
        }
    })
}

/// Words that are not options: the three timeouts of `--set`, an error otherwise.
fn leftovers(p: &Parsed<'_>, command: Command, first: &Given<'_>) -> Result<Timeouts, Fault> {
    let mut rest = p.leftovers.iter();
    let mut timeouts = Timeouts::default();
    if command == Command::SetTimeouts {
        let mut value = || -> Result<Option<u32>, Fault> {
            let t = rest.next().ok_or_else(|| {
                Fault::new(Problem::ThreeTimeouts, first.span.clone())
                    .help("write `--set 900 120 300`; 0 leaves a timeout unchanged")
            })?;
            let n = number(*t, 0, MAX_TIMEOUT, "timeout", "0..=2678400")?;
            Ok((n != 0).then_some(n))
        };
        timeouts.tcp = value()?;
        timeouts.tcp_fin = value()?;
        timeouts.udp = value()?;
    }
    if let Some(extra) = rest.next() {
        return Err(Fault::new(
            Problem::UnexpectedArgument(extra.text.to_owned()),
            extra.span(),
        ));
    }
    Ok(timeouts)
}

/// ipvsadm's `generic_opt_check`: options the command forbids or needs.
fn check_options(
    command: Command,
    first: &Given<'_>,
    seen: &[(Class, &Given<'_>)],
) -> Result<(), Fault> {
    let mut exclusive: Option<&Given<'_>> = None;
    for (class, g) in seen {
        match need(command, *class) {
            Need::Illegal => {
                return Err(Fault::new(
                    Problem::Illegal {
                        option: g.name.clone(),
                        command: first.name.clone(),
                    },
                    g.span.clone(),
                ));
            }
            Need::Exclusive => {
                if let Some(other) = exclusive {
                    return Err(Fault::new(
                        Problem::Conflict {
                            option: g.name.clone(),
                            other: other.name.clone(),
                        },
                        g.span.clone(),
                    ));
                }
                exclusive = Some(g);
            }
            _ => {}
        }
    }
    for (class, what) in [
        (
            Class::Service,
            "a virtual service (`-t`, `-u`, `--sctp-service` or `-f`)",
        ),
        (Class::Server, "a real server (`-r`)"),
    ] {
        if need(command, class) == Need::Required && !seen.iter().any(|(c, _)| *c == class) {
            return Err(Fault::new(
                Problem::Missing {
                    command: first.name.clone(),
                    what,
                },
                first.span.clone(),
            ));
        }
    }
    Ok(())
}

/// The real server of an `-a`/`-e`/`-d` rule, with ipvsadm's adjustments.
fn dest(
    e: &Entry<'_>,
    service: &Service,
    seen: &[(Class, &Given<'_>)],
    address: IpAddr,
    port: u16,
    dest_span: &Range<usize>,
) -> Result<Dest, Fault> {
    let forward = match e.forward {
        Some(Opt::Masquerading) => Forward::Masq,
        Some(Opt::Ipip) => Forward::Tunnel {
            kind: e.tun_kind,
            port: e.tun_port,
            checksum: e.tun_checksum,
        },
        _ => Forward::Route,
    };
    let fwmark = e.fwmark != 0;
    // ipvsadm gives direct-routing and tunnel servers the service port.
    let port = match forward {
        Forward::Route | Forward::Tunnel { .. } if !fwmark => e.port,
        _ => port,
    };
    if e.dest_port_guessed && forward == Forward::Masq && !fwmark && e.port != 0 {
        return Err(Fault::new(Problem::ServerBeforeService, dest_span.clone()).help(format!(
            "ipvsadm gives this server port 0 because the service comes later; write `-r {}` or put the service first",
            crate::model::DestKey { address, port: e.port }
        )));
    }
    let service_family = service.key.family();
    if Family::of(&address) != service_family && !forward.is_tunnel() {
        return Err(Fault::new(
            Problem::FamilyMismatch {
                dest: address.to_string(),
                dest_family: Family::of(&address).name(),
                service_family: service_family.name(),
            },
            dest_span.clone(),
        )
        .help("only tunnel (`-i`) servers may have the other address family"));
    }
    let tunnel_opts: Vec<&(Class, &Given<'_>)> =
        seen.iter().filter(|(c, _)| c.is_tunnel()).collect();
    if let Some((_, g)) = tunnel_opts.first()
        && !forward.is_tunnel()
    {
        return Err(
            Fault::new(Problem::TunnelOnly(g.name.clone()), g.span.clone())
                .help("add `-i` for a tunnel server"),
        );
    }
    // ipvsadm's tunnel_types_v_options table.
    let mut checksum_opt: Option<&Given<'_>> = None;
    for (class, g) in &tunnel_opts {
        let legal = match (e.tun_kind, class) {
            (_, Class::TunType) => true,
            (TunnelKind::Ipip, _) => false,
            (TunnelKind::Gre, Class::TunPort | Class::TunRemcsum) => false,
            _ => true,
        };
        if !legal {
            return Err(Fault::new(
                Problem::TunnelIllegal {
                    option: g.name.clone(),
                    kind: e.tun_kind.name(),
                },
                g.span.clone(),
            ));
        }
        if matches!(class, Class::TunNocsum | Class::TunCsum | Class::TunRemcsum) {
            if let Some(other) = checksum_opt {
                return Err(Fault::new(
                    Problem::Conflict {
                        option: g.name.clone(),
                        other: other.name.clone(),
                    },
                    g.span.clone(),
                ));
            }
            checksum_opt = Some(g);
        }
    }
    if forward.is_tunnel() && e.tun_kind == TunnelKind::Gue && e.tun_port == 0 {
        let at = tunnel_opts
            .iter()
            .find(|(c, _)| *c == Class::TunType)
            .map_or(dest_span.clone(), |(_, g)| g.full_span());
        return Err(Fault::new(Problem::GueNeedsPort, at).help("write `--tun-port 6080`"));
    }
    // The kernel refuses a lower threshold above the upper one (0 = none).
    if e.lower > e.upper {
        let g = given(seen, Class::LThreshold);
        return Err(Fault::new(
            Problem::ThresholdOrder {
                lower: e.lower,
                upper: e.upper,
            },
            g.full_span(),
        )
        .help("the kernel refuses it (ERANGE); set `-x` at least as high as `-y`"));
    }
    let mut d = Dest::new(DestKey { address, port });
    d.forward = forward;
    d.weight = e.weight;
    d.upper_threshold = e.upper;
    d.lower_threshold = e.lower;
    Ok(d)
}

fn given<'g, 'a>(seen: &'g [(Class, &'g Given<'a>)], class: Class) -> &'g Given<'a> {
    seen.iter()
        .find(|(c, _)| *c == class)
        .map(|(_, g)| *g)
        .expect("the option was seen")
}

fn value<'a>(g: &Given<'a>) -> Result<Tok<'a>, Fault> {
    g.value
        .ok_or_else(|| Fault::new(Problem::MissingValue(g.name.clone()), g.span.clone()))
}

/// A decimal number in `min..=max`, as ipvsadm's `string_to_number` reads it.
fn number(
    t: Tok<'_>,
    min: u32,
    max: u32,
    what: &'static str,
    range: &'static str,
) -> Result<u32, Fault> {
    let digits = t.text.strip_prefix('+').unwrap_or(t.text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Fault::new(
            Problem::Invalid {
                what,
                value: t.text.to_owned(),
            },
            t.span(),
        ));
    }
    match digits.parse::<u64>() {
        Ok(n) if (u64::from(min)..=u64::from(max)).contains(&n) => Ok(n as u32),
        _ => Err(Fault::new(
            Problem::OutOfRange {
                what,
                value: t.text.to_owned(),
                range,
            },
            t.span(),
        )),
    }
}

/// A firewall mark 1..=4294967295. Also takes the negative numbers ipvsadm 1.31's
/// `-S` prints for marks above 2147483647 (it formats them as signed), so saved
/// tables import; ipvsadm -R itself refuses those.
fn fwmark(t: Tok<'_>) -> Result<u32, Fault> {
    if let Some(neg) = t.text.strip_prefix('-')
        && let Ok(n) = neg.parse::<u32>()
        && (1..=1u32 << 31).contains(&n)
    {
        return Ok((-i64::from(n)) as i32 as u32);
    }
    number(t, 1, u32::MAX, "fwmark", "1..=4294967295")
}

fn scheduler(t: Tok<'_>) -> Result<Scheduler, Fault> {
    t.text.parse::<Scheduler>().map_err(|()| {
        let f = Fault::new(Problem::UnknownScheduler(t.text.to_owned()), t.span());
        match closest(t.text, Scheduler::names()) {
            Some(c) => f.help(format!("did you mean `{c}`?")),
            None => f.help(format!(
                "schedulers are {}",
                Scheduler::names().collect::<Vec<_>>().join(", ")
            )),
        }
    })
}

/// `-b a,b`: names checked against the service's final scheduler, as ipvsadm does.
fn sched_flags(t: Tok<'_>, sched: Scheduler) -> Result<SchedFlags, Fault> {
    let mut flags = SchedFlags::default();
    let mut at = t.start;
    let mut any = false;
    for name in t.text.split(',') {
        let span = at..at + name.len();
        at += name.len() + 1;
        if name.is_empty() {
            continue;
        }
        any = true;
        let Some((flag, tied)) = SchedFlag::parse(name) else {
            let f = Fault::new(Problem::UnknownFlag(name.to_owned()), span);
            return Err(
                match closest(name, SchedFlag::all_names().iter().copied()) {
                    Some(c) => f.help(format!("did you mean `{c}`?")),
                    None => f.help(format!("flags are {}", SchedFlag::all_names().join(", "))),
                },
            );
        };
        if let Some(needs) = tied
            && needs != sched
        {
            return Err(Fault::new(
                Problem::FlagScheduler {
                    flag: name.to_owned(),
                    needs: needs.name(),
                    scheduler: sched.name(),
                },
                span,
            ));
        }
        flags.insert(flag);
    }
    if !any {
        return Err(Fault::new(
            Problem::Invalid {
                what: "scheduler flags",
                value: t.text.to_owned(),
            },
            t.span(),
        ));
    }
    Ok(flags)
}

/// `-M`: a dotted quad for IPv4 services, a prefix length for IPv6 ones.
fn netmask(t: Tok<'_>, family_then: Family, family: Family) -> Result<Netmask, Fault> {
    if family_then != family {
        return Err(Fault::new(Problem::NetmaskBeforeFamily, t.span()).help(
            "ipvsadm reads this `-M` as an IPv4 mask and then drops it; put `-M` after `-6` or the IPv6 service",
        ));
    }
    match family {
        Family::Inet => netmask_v4(t).map(Netmask::V4),
        Family::Inet6 => number(t, 1, 128, "IPv6 netmask", "1..=128").map(|n| Netmask::V6(n as u8)),
    }
}

fn mcast_group(t: Tok<'_>) -> Result<IpAddr, Fault> {
    let bad = || {
        Fault::new(
            Problem::Invalid {
                what: "multicast group",
                value: t.text.to_owned(),
            },
            t.span(),
        )
    };
    let addr: IpAddr = if t.text.contains(':') {
        t.text.parse().map_err(|_| bad())?
    } else {
        IpAddr::V4(t.text.parse::<Ipv4Addr>().map_err(|_| bad())?)
    };
    if !addr.is_multicast() {
        return Err(bad().help("the group must be a multicast address such as `224.0.0.81`"));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::ipvsadm_args::{parse, words};

    fn ok(line: &str) -> Rule {
        rule(&parse(&words(line, 0)).unwrap()).unwrap()
    }

    fn err(line: &str) -> Fault {
        rule(&parse(&words(line, 0)).unwrap()).unwrap_err()
    }

    fn at<'a>(line: &'a str, f: &Fault) -> &'a str {
        &line[f.span.clone()]
    }

    #[test]
    fn add_service_with_every_setting() {
        let r = ok("-A -t 10.1.1.1:80 -s sh -p 120 -M 255.255.255.0 -b sh-port");
        assert_eq!(r.command, Command::AddService);
        let s = r.service.unwrap();
        assert_eq!(
            s.key,
            ServiceKey::inet(Protocol::Tcp, "10.1.1.1".parse().unwrap(), 80)
        );
        assert_eq!(s.scheduler, Scheduler::Sh);
        assert_eq!(s.persistence, Some(120));
        assert_eq!(
            s.netmask,
            Some(Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)))
        );
        assert!(s.flags.flag2 && !s.flags.flag1);
        let s = ok("-A -u 10.1.1.3:5060 -p --pe sip").service.unwrap();
        assert_eq!(s.scheduler, Scheduler::Wlc);
        assert_eq!(s.persistence, Some(360));
        assert_eq!(s.pe, Some(PersistenceEngine::Sip));
        assert!(ok("-A -u 10.1.1.1:53 -o").service.unwrap().one_packet);
    }

    #[test]
    fn options_in_any_order_and_names_for_ports() {
        let s = ok("-A -p 60 -s rr -t 10.2.0.9:80").service.unwrap();
        assert_eq!((s.scheduler, s.persistence), (Scheduler::Rr, Some(60)));
        let r = ok("-a -t 10.3.0.1:http -r 10.3.1.2:http-alt -m");
        assert_eq!(r.service.unwrap().key.port(), 80);
        assert_eq!(r.dest.unwrap().key.port, 8080);
        let r = ok("-a -u 10.3.0.2:domain -r 10.3.1.3 -m");
        assert_eq!(r.dest.unwrap().key.port, 53);
    }

    #[test]
    fn fwmark_and_ipv6_services() {
        let s = ok("-A -f 11 -6 -p -M 64").service.unwrap();
        assert_eq!(s.key, ServiceKey::fwmark(Family::Inet6, 11));
        assert_eq!(s.netmask, Some(Netmask::V6(64)));
        let s = ok("-A -t [2001:db8::100]:80 -p 300 -M 128")
            .service
            .unwrap();
        assert_eq!(s.netmask, None, "host mask is normalised");
        // ipvsadm 1.31 -S prints mark 4294967295 as -1.
        let s = ok("-A -f -1 -s rr").service.unwrap();
        assert_eq!(s.key, ServiceKey::fwmark(Family::Inet, u32::MAX));
        let s = ok("-A -f -2147483648 -s rr").service.unwrap();
        assert_eq!(s.key, ServiceKey::fwmark(Family::Inet, 1 << 31));
    }

    #[test]
    fn real_server_ports_follow_ipvsadm() {
        // Lab: DR and tunnel servers take the service port; NAT keeps its own.
        let d = ok("-a -t 192.168.10.120:80 -r 192.168.10.12:8080 -g")
            .dest
            .unwrap();
        assert_eq!(d.key.port, 80);
        let d = ok("-a -t 192.168.10.120:80 -r 192.168.10.13:8080 -m -w 5")
            .dest
            .unwrap();
        assert_eq!((d.key.port, d.forward, d.weight), (8080, Forward::Masq, 5));
        let d = ok("-a -t 192.168.10.120:80 -r 192.168.10.11").dest.unwrap();
        assert_eq!((d.key.port, d.forward), (80, Forward::Route));
        let d = ok("-a -f 10 -r 192.168.10.13:8443 -g").dest.unwrap();
        assert_eq!(d.key.port, 8443, "fwmark servers keep their port");
        let d = ok("-a -f 10 -r 192.168.10.11").dest.unwrap();
        assert_eq!(d.key.port, 0);
        // Lab: `-a -r 10.2.1.12 -m -t 10.2.0.9:80` gives port 0: lvsh refuses to guess.
        let f = err("-a -r 10.2.1.12 -m -t 10.2.0.9:80");
        assert_eq!(f.problem, Problem::ServerBeforeService);
        // With an explicit port the order does not matter.
        let d = ok("-a -r 10.2.1.13:8080 -m -t 10.2.0.9:80").dest.unwrap();
        assert_eq!(d.key.port, 8080);
    }

    #[test]
    fn tunnels_and_thresholds() {
        let d = ok("-a -t 10.1.1.6:80 -r 10.1.2.6 -i --tun-type gue --tun-port 6080 --tun-csum -x 100 -y 50")
            .dest
            .unwrap();
        assert_eq!(
            d.forward,
            Forward::Tunnel {
                kind: TunnelKind::Gue,
                port: 6080,
                checksum: TunnelChecksum::Csum
            }
        );
        assert_eq!((d.upper_threshold, d.lower_threshold), (100, 50));
        let d = ok("-a -t 10.1.1.6:80 -r 2001:db8::31 -i").dest.unwrap();
        assert_eq!(
            d.forward,
            Forward::Tunnel {
                kind: TunnelKind::Ipip,
                port: 0,
                checksum: TunnelChecksum::None
            }
        );
        assert_eq!(d.key.port, 80);
    }

    #[test]
    fn lab_verified_refusals() {
        let cases: &[(&str, &str, &str)] = &[
            ("-A -t 10.3.0.1:0 -s rr", "-t 10.3.0.1:0", "port 0"),
            ("-A -t 10.3.0.1:53 -s rr -o", "-o", "UDP"),
            ("-A -6 -f 5", "-6", "`-f`"),
            (
                "-A -t 10.3.0.1:80 -s rr -b sh-port",
                "sh-port",
                "needs scheduler `sh`",
            ),
            (
                "-a -t 10.3.0.1:80 -r [2001:db8::5]:80 -g",
                "-r [2001:db8::5]:80",
                "ipv6",
            ),
            (
                "-a -t 10.3.0.1:80 -r 10.3.1.1 -m --tun-type gue",
                "--tun-type",
                "tunnel",
            ),
            (
                "-a -t 10.3.0.1:80 -r 10.3.1.1 -i --tun-type gue",
                "--tun-type gue",
                "--tun-port",
            ),
            (
                "-a -t 10.3.0.1:80 -r 10.3.1.1 -i --tun-type gre --tun-remcsum",
                "--tun-remcsum",
                "gre",
            ),
            (
                "-a -t 10.3.0.1:80 -r 10.3.1.1 -i -m",
                "-m",
                "forwarding method",
            ),
            ("-a -t 10.3.0.1:80 -r 10.3.1.1 -y 5", "-y 5", "above upper"),
            ("-A -t 10.3.0.1:80 -p abc", "abc", "persistence timeout"),
            ("-A -t 10.3.0.1:80 -p 0", "0", "out of range"),
            ("-A -f 0", "0", "fwmark"),
            ("-A -t 10.3.0.1:80 -s rr extra", "extra", "unexpected"),
            ("-A -t 10.3.0.1:80 -s rr -s wlc", "-s", "second scheduler"),
            ("-A -t 10.3.0.1:80 -f 3", "-f", "second virtual service"),
            ("-A -t 10.3.0.1:80 -w 3", "-w", "cannot be used"),
            ("--set 100 20", "--set", "three timeouts"),
            ("-A -t 10.3.0.1:80 -s rr -E", "-E", "second command"),
            ("-A -f 5 -p -M 64 -6", "64", "IPv6"),
            ("-A -p -M 64 -t [2001:db8::1]:80", "64", "IPv6"),
            (
                "-A -f 7 -6 -p -M 255.255.255.0",
                "255.255.255.0",
                "IPv6 netmask",
            ),
            ("-A -t 10.3.0.1:80 -s rrr", "rrr", "unknown scheduler"),
            (
                "-A -u 10.3.0.1:5060 -p --pe nosuch",
                "nosuch",
                "persistence engine",
            ),
            ("-t 10.3.0.1:80 -A", "-t", "not a command"),
            ("-R", "-R", "no place"),
            ("10.0.0.1", "10.0.0.1", "needs a command"),
            ("-a -t 10.3.0.1:80", "-a", "real server"),
            ("--start-daemon primary", "primary", "sync daemon state"),
            ("-L -c --timeout", "--timeout", "conflicts"),
            (
                "-a -t 10.3.0.1:80 -r 10.3.1.1 -w 100000",
                "100000",
                "weight",
            ),
        ];
        for (line, token, text) in cases {
            let f = err(line);
            assert_eq!(at(line, &f), *token, "{line}: {:?}", f.problem);
            let msg = f.problem.to_string();
            assert!(msg.contains(text), "{line}: `{msg}` lacks `{text}`");
        }
        assert_eq!(
            err("-A -t 10.3.0.1:80 -s rrr").help.as_deref(),
            Some("did you mean `rr`?")
        );
    }

    #[test]
    fn timeouts_and_daemons() {
        let r = ok("--set 901 0 301");
        assert_eq!(r.command, Command::SetTimeouts);
        assert_eq!(
            r.timeouts,
            Timeouts {
                tcp: Some(901),
                tcp_fin: None,
                udp: Some(301)
            }
        );
        let r = ok(
            "--start-daemon master --mcast-interface d0 --syncid 5 --mcast-group 239.1.1.1 --mcast-port 9000 --mcast-ttl 3 --sync-maxlen 1000",
        );
        let d = r.daemon.unwrap();
        assert_eq!(d.state, DaemonState::Master);
        assert_eq!(d.interface, "d0");
        assert_eq!(d.syncid, 5);
        assert_eq!(d.group, Some("239.1.1.1".parse().unwrap()));
        assert_eq!((d.port, d.ttl, d.maxlen), (Some(9000), Some(3), Some(1000)));
        // ipvsadm's default interface.
        assert_eq!(
            ok("--start-daemon backup").daemon.unwrap().interface,
            "eth0"
        );
        assert_eq!(
            ok("--stop-daemon backup").command,
            Command::StopDaemon(DaemonState::Backup)
        );
        assert!(
            err("--start-daemon master --mcast-group 10.0.0.1")
                .help
                .is_some()
        );
    }

    #[test]
    fn no_op_commands_parse() {
        assert_eq!(ok("-L -n").command, Command::List);
        assert_eq!(ok("-Z -t 10.0.0.1:80").command, Command::Zero);
        assert_eq!(ok("-S -n").command, Command::Save);
        assert_eq!(ok("-C").command, Command::Flush);
        assert_eq!(ok("--clear").command, Command::Flush);
    }
}
