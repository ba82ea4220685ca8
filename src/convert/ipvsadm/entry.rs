//! Everything the options of a rule set, read one option at a time in line order.
//!
//! Order matters where it matters to ipvsadm: `-6` needs `-f` before it, `-M` is
//! read for the family known at that point, and a `-r` without a port takes the
//! service port known at that point.

use super::addr::endpoint;
use super::opt::Opt;
use super::parsed::Given;
use super::problem::{Fault, Problem};
use super::tok::Tok;
use super::value::{MAX_TIMEOUT, fwmark, interface, mcast_group, number, scheduler, value};
use crate::model::{
    DEFAULT_PERSIST_TIMEOUT, Family, PersistenceEngine, Protocol, Scheduler, TunnelChecksum,
    TunnelKind,
};
use std::net::IpAddr;
use std::ops::Range;

/// Everything a rule can set, with ipvsadm's defaults (`process_options`).
#[derive(Debug)]
pub(crate) struct Entry<'a> {
    pub family: Family,
    pub protocol: Option<Protocol>,
    pub address: Option<IpAddr>,
    pub port: u16,
    pub fwmark: u32,
    /// From the service option (and `-6`) to the end of its value.
    pub service_span: Range<usize>,
    pub scheduler: Option<Scheduler>,
    pub persistence: Option<u32>,
    /// `-M` and the family the service had when it was read.
    pub netmask: Option<(Tok<'a>, Family)>,
    pub pe: Option<PersistenceEngine>,
    pub one_packet: bool,
    /// `-b`, read once the scheduler is known.
    pub flags: Option<Tok<'a>>,
    pub dest: Option<(IpAddr, u16)>,
    /// A `-r` without port seen before any service option.
    pub dest_port_guessed: bool,
    pub dest_span: Range<usize>,
    pub forward: Option<Opt>,
    pub weight: u32,
    pub upper: u32,
    pub lower: u32,
    pub tun_kind: TunnelKind,
    pub tun_port: u16,
    pub tun_checksum: TunnelChecksum,
    pub interface: Option<String>,
    pub syncid: u8,
    pub group: Option<IpAddr>,
    pub mcast_port: Option<u16>,
    pub ttl: Option<u8>,
    pub maxlen: Option<u16>,
}

impl Default for Entry<'_> {
    fn default() -> Self {
        Entry {
            family: Family::Inet,
            protocol: None,
            address: None,
            port: 0,
            fwmark: 0,
            service_span: 0..0,
            scheduler: None,
            persistence: None,
            netmask: None,
            pe: None,
            one_packet: false,
            flags: None,
            dest: None,
            dest_port_guessed: false,
            dest_span: 0..0,
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

impl<'a> Entry<'a> {
    /// Reads one option. Written out for every option, so a new one does not compile
    /// until it is read or said to change nothing.
    pub fn read(&mut self, g: &Given<'a>) -> Result<(), Fault> {
        match g.opt {
            Opt::TcpService => self.inet_service(g, Protocol::Tcp)?,
            Opt::UdpService => self.inet_service(g, Protocol::Udp)?,
            Opt::SctpService => self.inet_service(g, Protocol::Sctp)?,
            Opt::FwmarkService => {
                self.family = Family::Inet;
                self.protocol = Some(Protocol::Tcp);
                self.fwmark = fwmark(value(g)?)?;
                self.service_span = g.full_span();
            }
            Opt::Ipv6 => {
                if self.fwmark == 0 {
                    return Err(Fault::new(Problem::Ipv6WithoutFwmark, g.span.clone())
                        .help("write `-f MARK -6`; IPv6 addresses need no `-6`"));
                }
                self.family = Family::Inet6;
                self.service_span.end = self.service_span.end.max(g.span.end);
            }
            Opt::Scheduler => self.scheduler = Some(scheduler(value(g)?)?),
            Opt::Persistent => {
                self.persistence = Some(match g.value {
                    Some(t) => number(t, 1, MAX_TIMEOUT, "persistence timeout", "1..=2678400")?,
                    None => DEFAULT_PERSIST_TIMEOUT,
                })
            }
            Opt::Netmask => self.netmask = Some((value(g)?, self.family)),
            Opt::Ops => self.one_packet = true,
            Opt::Pe => {
                let t = value(g)?;
                self.pe = Some(PersistenceEngine::parse(t.text).ok_or_else(|| {
                    Fault::new(Problem::UnknownPe(t.text.to_owned()), t.span())
                        .help("the kernel has one persistence engine: `sip`")
                })?);
            }
            Opt::SchedFlags => self.flags = Some(value(g)?),
            Opt::RealServer => self.real_server(g)?,
            Opt::Masquerading | Opt::Ipip | Opt::Gatewaying => self.forward = Some(g.opt),
            Opt::Weight => {
                self.weight = number(value(g)?, 0, 65535, "weight", "0..=65535").map_err(|f| {
                    f.help("upstream ipvsadm and lvsh take weights 0..=65535 (Debian's ipvsadm allows more)")
                })?
            }
            Opt::UThreshold => {
                self.upper =
                    number(value(g)?, 0, i32::MAX as u32, "upper threshold", "0..=2147483647")?
            }
            Opt::LThreshold => {
                self.lower =
                    number(value(g)?, 0, i32::MAX as u32, "lower threshold", "0..=2147483647")?
            }
            Opt::TunType => {
                let t = value(g)?;
                self.tun_kind = TunnelKind::parse(t.text).ok_or_else(|| {
                    Fault::new(Problem::UnknownTunnel(t.text.to_owned()), t.span())
                        .help("tunnel types are `ipip`, `gue` and `gre`")
                })?;
            }
            Opt::TunPort => {
                self.tun_port = number(value(g)?, 1, 65535, "tunnel port", "1..=65535")? as u16
            }
            Opt::TunNocsum => self.tun_checksum = TunnelChecksum::None,
            Opt::TunCsum => self.tun_checksum = TunnelChecksum::Csum,
            Opt::TunRemcsum => self.tun_checksum = TunnelChecksum::Remcsum,
            Opt::McastInterface => self.interface = Some(interface(value(g)?)?),
            Opt::Syncid => self.syncid = number(value(g)?, 0, 255, "sync id", "0..=255")? as u8,
            Opt::McastGroup => self.group = Some(mcast_group(value(g)?)?),
            Opt::McastPort => {
                self.mcast_port =
                    Some(number(value(g)?, 1, 65535, "multicast port", "1..=65535")? as u16)
            }
            Opt::McastTtl => {
                self.ttl = Some(number(value(g)?, 1, 255, "multicast ttl", "1..=255")? as u8)
            }
            Opt::SyncMaxlen => {
                self.maxlen = Some(
                    number(value(g)?, 1, 65535 - 20 - 8, "sync message length", "1..=65507")?
                        as u16,
                )
            }
            // The command is read by `command_of`, a second one refused before this.
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
            | Opt::StopDaemon => {}
            // Options of `-L` (and `-S -n`): they change how ipvsadm prints, not the model.
            Opt::Numeric
            | Opt::Connection
            | Opt::Timeout
            | Opt::Daemon
            | Opt::Stats
            | Opt::Rate
            | Opt::Thresholds
            | Opt::PersistentConn
            | Opt::NoSort
            | Opt::Sort
            | Opt::Exact
            | Opt::TunInfo => {}
        }
        Ok(())
    }

    /// `-t`, `-u`, `--sctp-service`: the address decides the family.
    fn inet_service(&mut self, g: &Given<'a>, protocol: Protocol) -> Result<(), Fault> {
        self.protocol = Some(protocol);
        let (addr, port) = endpoint(value(g)?, Some(protocol), "virtual service")?;
        self.address = Some(addr);
        self.family = Family::of(&addr);
        if let Some(port) = port {
            self.port = port;
        }
        self.service_span = g.full_span();
        Ok(())
    }

    /// `-r`: without a port, the service port known so far.
    fn real_server(&mut self, g: &Given<'a>) -> Result<(), Fault> {
        let (addr, port) = endpoint(value(g)?, self.protocol, "real server")?;
        let guessed = port.is_none() && self.address.is_none() && self.fwmark == 0;
        self.dest = Some((addr, port.unwrap_or(self.port)));
        self.dest_port_guessed = guessed;
        self.dest_span = g.full_span();
        Ok(())
    }
}
