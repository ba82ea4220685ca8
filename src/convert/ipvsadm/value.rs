//! Option values as ipvsadm reads them: numbers, marks, names, masks.

use super::addr::netmask_v4;
use super::parsed::Given;
use super::problem::{Fault, Problem};
use super::tok::Tok;
use crate::model::{Family, Netmask, SchedFlag, SchedFlags, Scheduler};
use crate::suggest::closest;
use std::net::{IpAddr, Ipv4Addr};

/// ipvsadm's limit for timeouts: 31 days.
pub(crate) const MAX_TIMEOUT: u32 = 86400 * 31;

/// The value of an option that takes one.
pub(crate) fn value<'a>(g: &Given<'a>) -> Result<Tok<'a>, Fault> {
    g.value
        .ok_or_else(|| Fault::new(Problem::MissingValue(g.name.clone()), g.span.clone()))
}

/// A decimal number in `min..=max`, as ipvsadm's `string_to_number` reads it.
pub(crate) fn number(
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
pub(crate) fn fwmark(t: Tok<'_>) -> Result<u32, Fault> {
    if let Some(neg) = t.text.strip_prefix('-')
        && let Ok(n) = neg.parse::<u32>()
        && (1..=1u32 << 31).contains(&n)
    {
        return Ok((-i64::from(n)) as i32 as u32);
    }
    number(t, 1, u32::MAX, "fwmark", "1..=4294967295")
}

pub(crate) fn scheduler(t: Tok<'_>) -> Result<Scheduler, Fault> {
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
pub(crate) fn sched_flags(t: Tok<'_>, sched: Scheduler) -> Result<SchedFlags, Fault> {
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
pub(crate) fn netmask(t: Tok<'_>, family_then: Family, family: Family) -> Result<Netmask, Fault> {
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

pub(crate) fn mcast_group(t: Tok<'_>) -> Result<IpAddr, Fault> {
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

/// `--mcast-interface`: a name the kernel can hold (`IFNAMSIZ` less the NUL).
pub(crate) fn interface(t: Tok<'_>) -> Result<String, Fault> {
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
    Ok(t.text.to_owned())
}
