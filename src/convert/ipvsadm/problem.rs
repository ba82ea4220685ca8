//! What is wrong with a rule ([`Problem`]), and where in the line ([`Fault`]).

use std::ops::Range;

/// What is wrong with a rule. Messages follow ipvsadm's own checks, in lvsh's style.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("`{0}` is not a command")]
    NotACommand(String),
    #[error("a rule needs a command such as `-A` or `-a`")]
    NoCommand,
    #[error("`{option}` is a second command after `{first}`")]
    SecondCommand { option: String, first: String },
    #[error("`{0}` has no place in a rules file")]
    NotARule(String),
    #[error("unknown option `{0}`")]
    UnknownOption(String),
    #[error("`{0}` needs a value")]
    MissingValue(String),
    #[error("`{0}` takes no value")]
    UnexpectedValue(String),
    #[error("unexpected argument `{0}`")]
    UnexpectedArgument(String),
    #[error("`{option}` gives a second {what} after `{first}`")]
    Repeated {
        what: &'static str,
        option: String,
        first: String,
    },
    #[error("`{option}` cannot be used with `{command}`")]
    Illegal { option: String, command: String },
    #[error("`{command}` needs {what}")]
    Missing { command: String, what: &'static str },
    #[error("`{option}` conflicts with `{other}`")]
    Conflict { option: String, other: String },
    #[error("invalid {what} `{value}`")]
    Invalid { what: &'static str, value: String },
    #[error("{what} `{value}` is out of range {range}")]
    OutOfRange {
        what: &'static str,
        value: String,
        range: &'static str,
    },
    #[error("`{0}` is a host name; lvsh never resolves names")]
    HostName(String),
    #[error("`{value}` is an abbreviated IPv4 {what}")]
    Abbreviated { what: &'static str, value: String },
    #[error("unknown {protocol} service name `{name}`")]
    UnknownPortName { name: String, protocol: String },
    #[error("unknown scheduler `{0}`")]
    UnknownScheduler(String),
    #[error("unknown persistence engine `{0}`")]
    UnknownPe(String),
    #[error("unknown scheduler flag `{0}`")]
    UnknownFlag(String),
    #[error("scheduler flag `{flag}` needs scheduler `{needs}`, not `{scheduler}`")]
    FlagScheduler {
        flag: String,
        needs: &'static str,
        scheduler: &'static str,
    },
    #[error("unknown tunnel type `{0}`")]
    UnknownTunnel(String),
    #[error("`{0}` is only for tunnel (`-i`) servers")]
    TunnelOnly(String),
    #[error("`{option}` cannot be used with tunnel type `{kind}`")]
    TunnelIllegal { option: String, kind: &'static str },
    #[error("tunnel type `gue` needs `--tun-port`")]
    GueNeedsPort,
    #[error("port 0 (every port) needs persistence (`-p`)")]
    ZeroPortNotPersistent,
    #[error("one-packet scheduling (`-o`) is only for UDP services")]
    OpsNotUdp,
    #[error("`-6` needs a fwmark service (`-f`) before it")]
    Ipv6WithoutFwmark,
    #[error("real server `{dest}` is {dest_family} but the service is {service_family}")]
    FamilyMismatch {
        dest: String,
        dest_family: &'static str,
        service_family: &'static str,
    },
    #[error("lower threshold {lower} is above upper threshold {upper}")]
    ThresholdOrder { lower: u32, upper: u32 },
    #[error("`--set` needs three timeouts: tcp tcpfin udp")]
    ThreeTimeouts,
    #[error("`-M` comes before the service is known to be IPv6")]
    NetmaskBeforeFamily,
    #[error("`-r` without a port comes before the service")]
    ServerBeforeService,
    #[error("service `{service}` already exists")]
    ServiceExists { service: String },
    #[error("no service `{service}`")]
    NoSuchService { service: String },
    #[error("real server `{dest}` already exists in service `{service}`")]
    DestExists { dest: String, service: String },
    #[error("no real server `{dest}` in service `{service}`")]
    NoSuchDest { dest: String, service: String },
    #[error("the {state} sync daemon is already running")]
    DaemonRunning { state: &'static str },
    #[error("no {state} sync daemon is running")]
    NoDaemon { state: &'static str },
}

/// A problem with the bytes it is about and an optional hint; lines add the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fault {
    pub problem: Problem,
    pub span: Range<usize>,
    pub help: Option<String>,
}

impl Fault {
    pub fn new(problem: Problem, span: Range<usize>) -> Self {
        Fault {
            problem,
            span,
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}
