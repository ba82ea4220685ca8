//! Errors of `ipvsadm` rules import: what is wrong, and where.

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};
use std::{fmt, ops::Range};

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

/// A rules file line lvsh cannot read, pointing at the offending token.
///
/// Boxed inside: it travels in `Result`s and carries the whole source for miette.
#[derive(Debug)]
pub struct ImportError(Box<Details>);

#[derive(Debug)]
struct Details {
    problem: Problem,
    line: usize,
    source_code: NamedSource<String>,
    span: SourceSpan,
    label: &'static str,
    help: Option<String>,
}

impl ImportError {
    pub(crate) fn new(name: &str, text: &str, line: usize, fault: Fault) -> Self {
        ImportError(Box::new(Details {
            label: label_for(&fault.problem),
            problem: fault.problem,
            line,
            source_code: NamedSource::new(name, text.to_owned()),
            span: (fault.span.start, fault.span.len()).into(),
            help: fault.help,
        }))
    }

    pub fn problem(&self) -> &Problem {
        &self.0.problem
    }

    /// 1-based line of the rule.
    pub fn line(&self) -> usize {
        self.0.line
    }

    /// Byte range of the offending token in the source.
    pub fn span(&self) -> Range<usize> {
        self.0.span.offset()..self.0.span.offset() + self.0.span.len()
    }

    pub fn help_text(&self) -> Option<&str> {
        self.0.help.as_deref()
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.problem.fmt(f)
    }
}

impl std::error::Error for ImportError {}

impl Diagnostic for ImportError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("lvsh::import"))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.0.source_code)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label = LabeledSpan::new_with_span(Some(self.0.label.to_owned()), self.0.span);
        Some(Box::new(std::iter::once(label)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0
            .help
            .as_deref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
}

fn label_for(p: &Problem) -> &'static str {
    match p {
        Problem::ServiceExists { .. } | Problem::DestExists { .. } => "defined again here",
        Problem::NoSuchService { .. } | Problem::NoSuchDest { .. } => "not defined before",
        Problem::HostName(_) => "a name, not an address",
        Problem::UnknownOption(_) | Problem::NotACommand(_) => "not understood",
        _ => "here",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_send_sync_diagnostic_with_location() {
        fn check<T: Diagnostic + Send + Sync + 'static>() {}
        check::<ImportError>();
        let text = "-A -t 10.0.0.1:80 -s rrr\n";
        let f =
            Fault::new(Problem::UnknownScheduler("rrr".into()), 21..24).help("did you mean `rr`?");
        let e = ImportError::new("rules.txt", text, 1, f);
        assert_eq!(e.to_string(), "unknown scheduler `rrr`");
        assert_eq!(&text[e.span()], "rrr");
        assert_eq!(e.help_text(), Some("did you mean `rr`?"));
        assert_eq!(e.line(), 1);
        assert_eq!(e.problem(), &Problem::UnknownScheduler("rrr".into()));
        let labels: Vec<_> = e.labels().unwrap().collect();
        assert_eq!(labels.len(), 1);
        assert_eq!(labels[0].offset(), 21);
        assert!(e.source_code().is_some());
    }
}
