//! ipvsadm's option groups (`OPTC_*`): each may be given once per rule, and each
//! command allows, needs or forbids each group (`commands_v_options`).

use super::command::Command;
use super::parsed::Given;
use super::problem::{Fault, Problem};

/// An option group; [`Opt::role`](super::opt::Opt::role) puts each option in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
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
    /// What a second option of the group would give a second of.
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
            Class::Numeric
            | Class::Connection
            | Class::Timeout
            | Class::Daemon
            | Class::Stats
            | Class::Rate
            | Class::Thresholds
            | Class::PersistentConn
            | Class::NoSort
            | Class::Exact
            | Class::Ops
            | Class::TunInfo
            | Class::TunNocsum
            | Class::TunCsum
            | Class::TunRemcsum => "use of this option",
        }
    }

    pub fn is_tunnel(self) -> bool {
        matches!(
            self,
            Class::TunType | Class::TunPort | Class::TunNocsum | Class::TunCsum | Class::TunRemcsum
        )
    }
}

/// The grouped options of a rule in the order given, at most one per group.
#[derive(Debug, Default)]
pub(crate) struct Seen<'g, 'a>(Vec<(Class, &'g Given<'a>)>);

impl<'g, 'a> Seen<'g, 'a> {
    /// Adds `g`; a second option of the same group is an error, as in ipvsadm.
    pub fn note(&mut self, class: Class, g: &'g Given<'a>) -> Result<(), Fault> {
        if let Some(earlier) = self.get(class) {
            return Err(Fault::new(
                Problem::Repeated {
                    what: class.what(),
                    option: g.name.clone(),
                    first: earlier.name.clone(),
                },
                g.span.clone(),
            ));
        }
        self.0.push((class, g));
        Ok(())
    }

    pub fn get(&self, class: Class) -> Option<&'g Given<'a>> {
        self.0.iter().find(|(c, _)| *c == class).map(|(_, g)| *g)
    }

    pub fn has(&self, class: Class) -> bool {
        self.get(class).is_some()
    }

    /// The option of a group the rule is known to have.
    pub fn given(&self, class: Class) -> &'g Given<'a> {
        self.get(class).expect("the option was seen")
    }

    pub fn iter(&self) -> impl Iterator<Item = (Class, &'g Given<'a>)> + '_ {
        self.0.iter().copied()
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

/// ipvsadm's `generic_opt_check`: options the command forbids or needs.
pub(crate) fn check_options(
    command: Command,
    first: &Given<'_>,
    seen: &Seen<'_, '_>,
) -> Result<(), Fault> {
    let mut exclusive: Option<&Given<'_>> = None;
    for (class, g) in seen.iter() {
        match need(command, class) {
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
            Need::Required | Need::Optional => {}
        }
    }
    for (class, what) in [
        (
            Class::Service,
            "a virtual service (`-t`, `-u`, `--sctp-service` or `-f`)",
        ),
        (Class::Server, "a real server (`-r`)"),
    ] {
        if need(command, class) == Need::Required && !seen.has(class) {
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
