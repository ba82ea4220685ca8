//! ipvsadm's options: their names, what they take, and what they are to a rule.

use super::class::Class;

/// Every option ipvsadm 1.31 knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opt {
    AddService,
    EditService,
    DeleteService,
    Clear,
    List,
    Zero,
    AddServer,
    EditServer,
    DeleteServer,
    Set,
    Help,
    Version,
    Restore,
    Save,
    StartDaemon,
    StopDaemon,
    TcpService,
    UdpService,
    SctpService,
    FwmarkService,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    Masquerading,
    Ipip,
    Gatewaying,
    Weight,
    UThreshold,
    LThreshold,
    Numeric,
    Connection,
    McastInterface,
    Syncid,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
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

/// Whether an option takes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Takes {
    Nothing,
    Value,
    OptionalValue,
}

/// One row of the option table.
pub(crate) struct Spec {
    pub long: &'static str,
    pub short: Option<char>,
    pub opt: Opt,
    pub takes: Takes,
}

const fn spec(long: &'static str, short: Option<char>, opt: Opt, takes: Takes) -> Spec {
    Spec {
        long,
        short,
        opt,
        takes,
    }
}

use Takes::{Nothing, OptionalValue, Value};

/// ipvsadm's option table (ipvsadm.c, `parse_options`).
pub(crate) const SPECS: &[Spec] = &[
    spec("add-service", Some('A'), Opt::AddService, Nothing),
    spec("edit-service", Some('E'), Opt::EditService, Nothing),
    spec("delete-service", Some('D'), Opt::DeleteService, Nothing),
    spec("clear", Some('C'), Opt::Clear, Nothing),
    spec("list", Some('L'), Opt::List, Nothing),
    spec("list", Some('l'), Opt::List, Nothing),
    spec("zero", Some('Z'), Opt::Zero, Nothing),
    spec("add-server", Some('a'), Opt::AddServer, Nothing),
    spec("edit-server", Some('e'), Opt::EditServer, Nothing),
    spec("delete-server", Some('d'), Opt::DeleteServer, Nothing),
    spec("set", None, Opt::Set, Nothing),
    spec("help", Some('h'), Opt::Help, Nothing),
    spec("version", Some('v'), Opt::Version, Nothing),
    spec("restore", Some('R'), Opt::Restore, Nothing),
    spec("save", Some('S'), Opt::Save, Nothing),
    spec("start-daemon", None, Opt::StartDaemon, Value),
    spec("stop-daemon", None, Opt::StopDaemon, Value),
    spec("tcp-service", Some('t'), Opt::TcpService, Value),
    spec("udp-service", Some('u'), Opt::UdpService, Value),
    spec("sctp-service", None, Opt::SctpService, Value),
    spec("fwmark-service", Some('f'), Opt::FwmarkService, Value),
    spec("scheduler", Some('s'), Opt::Scheduler, Value),
    spec("persistent", Some('p'), Opt::Persistent, OptionalValue),
    spec("netmask", Some('M'), Opt::Netmask, Value),
    spec("real-server", Some('r'), Opt::RealServer, Value),
    spec("masquerading", Some('m'), Opt::Masquerading, Nothing),
    spec("ipip", Some('i'), Opt::Ipip, Nothing),
    spec("gatewaying", Some('g'), Opt::Gatewaying, Nothing),
    spec("weight", Some('w'), Opt::Weight, Value),
    spec("u-threshold", Some('x'), Opt::UThreshold, Value),
    spec("l-threshold", Some('y'), Opt::LThreshold, Value),
    spec("numeric", Some('n'), Opt::Numeric, Nothing),
    spec("connection", Some('c'), Opt::Connection, Nothing),
    spec("mcast-interface", None, Opt::McastInterface, Value),
    spec("syncid", None, Opt::Syncid, Value),
    spec("timeout", None, Opt::Timeout, Nothing),
    spec("daemon", None, Opt::Daemon, Nothing),
    spec("stats", None, Opt::Stats, Nothing),
    spec("rate", None, Opt::Rate, Nothing),
    spec("thresholds", None, Opt::Thresholds, Nothing),
    spec("persistent-conn", None, Opt::PersistentConn, Nothing),
    spec("nosort", None, Opt::NoSort, Nothing),
    spec("sort", None, Opt::Sort, Nothing),
    spec("exact", Some('X'), Opt::Exact, Nothing),
    spec("ipv6", Some('6'), Opt::Ipv6, Nothing),
    spec("ops", Some('o'), Opt::Ops, Nothing),
    spec("pe", None, Opt::Pe, Value),
    spec("sched-flags", Some('b'), Opt::SchedFlags, Value),
    spec("mcast-group", None, Opt::McastGroup, Value),
    spec("mcast-port", None, Opt::McastPort, Value),
    spec("mcast-ttl", None, Opt::McastTtl, Value),
    spec("sync-maxlen", None, Opt::SyncMaxlen, Value),
    spec("tun-info", None, Opt::TunInfo, Nothing),
    spec("tun-type", None, Opt::TunType, Value),
    spec("tun-port", None, Opt::TunPort, Value),
    spec("tun-nocsum", None, Opt::TunNocsum, Nothing),
    spec("tun-csum", None, Opt::TunCsum, Nothing),
    spec("tun-remcsum", None, Opt::TunRemcsum, Nothing),
];

/// What an option is to a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Starts a rule (`-A`, `--set`, …); only the first option of a line may be one.
    Command,
    /// A member of one of ipvsadm's option groups, which say how often it may be
    /// given and with which commands.
    Grouped(Class),
    /// In no group, so never refused as repeated or illegal: `-6`, which ipvsadm
    /// checks by hand (it needs `-f` before it), and `--sort`, a no-op there.
    Ungrouped,
}

impl Opt {
    /// Written out for every option, without a catch-all: a new option does not
    /// compile until it is given its place (ipvsadm.c, `set_option` calls).
    pub fn role(self) -> Role {
        use Role::{Command, Grouped, Ungrouped};
        match self {
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
            | Opt::StopDaemon => Command,
            Opt::TcpService | Opt::UdpService | Opt::SctpService | Opt::FwmarkService => {
                Grouped(Class::Service)
            }
            Opt::Scheduler => Grouped(Class::Scheduler),
            Opt::Persistent => Grouped(Class::Persistent),
            Opt::Netmask => Grouped(Class::Netmask),
            Opt::RealServer => Grouped(Class::Server),
            Opt::Masquerading | Opt::Ipip | Opt::Gatewaying => Grouped(Class::Forward),
            Opt::Weight => Grouped(Class::Weight),
            Opt::UThreshold => Grouped(Class::UThreshold),
            Opt::LThreshold => Grouped(Class::LThreshold),
            Opt::Numeric => Grouped(Class::Numeric),
            Opt::Connection => Grouped(Class::Connection),
            Opt::McastInterface => Grouped(Class::McastInterface),
            Opt::Syncid => Grouped(Class::Syncid),
            Opt::Timeout => Grouped(Class::Timeout),
            Opt::Daemon => Grouped(Class::Daemon),
            Opt::Stats => Grouped(Class::Stats),
            Opt::Rate => Grouped(Class::Rate),
            Opt::Thresholds => Grouped(Class::Thresholds),
            Opt::PersistentConn => Grouped(Class::PersistentConn),
            Opt::NoSort => Grouped(Class::NoSort),
            Opt::Sort => Ungrouped,
            Opt::Exact => Grouped(Class::Exact),
            Opt::Ipv6 => Ungrouped,
            Opt::Ops => Grouped(Class::Ops),
            Opt::Pe => Grouped(Class::Pe),
            Opt::SchedFlags => Grouped(Class::SchedFlags),
            Opt::McastGroup => Grouped(Class::McastGroup),
            Opt::McastPort => Grouped(Class::McastPort),
            Opt::McastTtl => Grouped(Class::McastTtl),
            Opt::SyncMaxlen => Grouped(Class::SyncMaxlen),
            Opt::TunInfo => Grouped(Class::TunInfo),
            Opt::TunType => Grouped(Class::TunType),
            Opt::TunPort => Grouped(Class::TunPort),
            Opt::TunNocsum => Grouped(Class::TunNocsum),
            Opt::TunCsum => Grouped(Class::TunCsum),
            Opt::TunRemcsum => Grouped(Class::TunRemcsum),
        }
    }
}
