//! Addresses, ports and masks as ipvsadm reads them, minus its surprises.
//!
//! ipvsadm reads IPv4 text with `inet_aton`, which also takes `10.1` (= 10.0.0.1),
//! `0x0a000001` and octal `010.0.0.1`, and falls back to DNS for anything else.
//! lvsh never resolves names and does not guess: abbreviated forms and host names
//! are errors that say what ipvsadm would have made of them.

use super::port_names;
use super::problem::{Fault, Problem};
use super::tok::Tok;
use crate::model::Protocol;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `addr`, `addr:port`, `[v6]:port` or a bare IPv6 address, as `parse_service` in
/// ipvsadm.c splits them. A bare IPv6 address never has a port (`2001:db8::1:80` is
/// one address), as in ipvsadm. Service names need the protocol.
pub(crate) fn endpoint(
    tok: Tok<'_>,
    protocol: Option<Protocol>,
    what: &'static str,
) -> Result<(IpAddr, Option<u16>), Fault> {
    let text = tok.text;
    let invalid = || {
        Fault::new(
            Problem::Invalid {
                what,
                value: text.to_owned(),
            },
            tok.span(),
        )
    };
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid().help("write `address:port`; a number alone is not an address"));
    }
    if let Some(inner) = text.strip_prefix('[') {
        let Some((host, after)) = inner.split_once(']') else {
            return Err(invalid().help("a `[` needs its `]`: `[2001:db8::1]:80`"));
        };
        let Some(port) = after.strip_prefix(':') else {
            return Err(invalid().help(format!(
                "brackets need a port after them: `[{host}]:80`, or write `{host}` alone for port 0"
            )));
        };
        let Ok(addr) = host.parse::<Ipv6Addr>() else {
            return Err(invalid().help("brackets are only for IPv6 addresses"));
        };
        let port_tok = sub(tok, text.len() - port.len(), port);
        return Ok((IpAddr::V6(addr), Some(port_number(port_tok, protocol)?)));
    }
    if let Ok(v6) = text.parse::<Ipv6Addr>() {
        return Ok((IpAddr::V6(v6), None));
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (text, None),
    };
    if host.contains(':') {
        return Err(invalid().help(format!(
            "an IPv6 address with a port needs brackets: `[{host}]:{}`",
            port.unwrap_or("80")
        )));
    }
    let addr = ipv4(sub(tok, 0, host), "address")?;
    let port = match port {
        Some(p) => Some(port_number(sub(tok, host.len() + 1, p), protocol)?),
        None => None,
    };
    Ok((IpAddr::V4(addr), port))
}

/// A strict dotted-quad IPv4 address (or mask).
pub(crate) fn ipv4(tok: Tok<'_>, what: &'static str) -> Result<Ipv4Addr, Fault> {
    if let Ok(a) = tok.text.parse::<Ipv4Addr>() {
        return Ok(a);
    }
    if let Some(a) = inet_aton(tok.text) {
        return Err(Fault::new(
            Problem::Abbreviated {
                what,
                value: tok.text.to_owned(),
            },
            tok.span(),
        )
        .help(format!(
            "ipvsadm reads it as `{a}`; write the four numbers in decimal"
        )));
    }
    let name_like = !tok.text.is_empty()
        && tok
            .text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        && tok.text.chars().any(|c| c.is_ascii_alphabetic());
    if name_like && what == "address" {
        return Err(
            Fault::new(Problem::HostName(tok.text.to_owned()), tok.span())
                .help("write the IP address (`ipvsadm -S -n` prints addresses, not names)"),
        );
    }
    Err(Fault::new(
        Problem::Invalid {
            what,
            value: tok.text.to_owned(),
        },
        tok.span(),
    ))
}

/// A port number, or a service name from lvsh's table for `protocol`.
fn port_number(tok: Tok<'_>, protocol: Option<Protocol>) -> Result<u16, Fault> {
    let text = tok.text;
    if !text.is_empty()
        && text
            .trim_start_matches('+')
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return text.parse::<u16>().map_err(|_| {
            Fault::new(
                Problem::OutOfRange {
                    what: "port",
                    value: text.to_owned(),
                    range: "0..=65535",
                },
                tok.span(),
            )
        });
    }
    let Some(protocol) = protocol else {
        return Err(Fault::new(
            Problem::Invalid {
                what: "port",
                value: text.to_owned(),
            },
            tok.span(),
        )
        .help("a service name needs the protocol: put `-t`/`-u` before `-r`, or write the port number"));
    };
    if let Some(p) = port_names::port_of(text, protocol) {
        return Ok(p);
    }
    let f = Fault::new(
        Problem::UnknownPortName {
            name: text.to_owned(),
            protocol: protocol.to_string(),
        },
        tok.span(),
    );
    Err(match port_names::known_for_other(text, protocol) {
        Some(other) => f.help(format!(
            "`{text}` is a {other} service; write the port number"
        )),
        None => f.help("write the port number"),
    })
}

/// An IPv4 netmask for `-M`: a dotted quad (the kernel keeps any 32-bit value).
pub(crate) fn netmask_v4(tok: Tok<'_>) -> Result<Ipv4Addr, Fault> {
    ipv4(tok, "netmask").map_err(|f| match f.problem {
        Problem::Abbreviated { .. } => f.help(format!(
            "ipvsadm reads it as `{}`; write a mask such as `255.255.255.0`",
            inet_aton(tok.text).expect("abbreviated forms parse")
        )),
        _ => f,
    })
}

/// The part `text` of `tok` that starts `at` bytes in.
fn sub<'a>(tok: Tok<'a>, at: usize, text: &'a str) -> Tok<'a> {
    Tok {
        text,
        start: tok.start + at,
    }
}

/// What glibc's `inet_aton` makes of `s`: 1 to 4 parts, each decimal, octal (leading
/// 0) or hex (0x), the last part filling the remaining bytes.
pub(crate) fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(4);
    for p in &parts {
        let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or(p.strip_prefix("0X")) {
            (h, 16)
        } else if p.len() > 1 && p.starts_with('0') {
            (&p[1..], 8)
        } else {
            (*p, 10)
        };
        if digits.is_empty() && radix != 8 {
            return None;
        }
        let n = if digits.is_empty() {
            0
        } else {
            u64::from_str_radix(digits, radix).ok()?
        };
        nums.push(n);
    }
    let last = *nums.last()?;
    let lead = &nums[..nums.len() - 1];
    if lead.iter().any(|n| *n > 255) || last >= 1u64 << (8 * (4 - lead.len())) {
        return None;
    }
    let mut v: u64 = 0;
    for (i, n) in lead.iter().enumerate() {
        v |= n << (24 - 8 * i);
    }
    Some(Ipv4Addr::from((v | last) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(s: &str) -> Tok<'_> {
        Tok { text: s, start: 10 }
    }

    fn ep(s: &str) -> Result<(IpAddr, Option<u16>), Fault> {
        endpoint(tok(s), Some(Protocol::Tcp), "virtual service")
    }

    #[test]
    fn endpoint_forms_ipvsadm_accepts() {
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(ep("10.0.0.1:80").unwrap(), (v4, Some(80)));
        assert_eq!(ep("10.0.0.1").unwrap(), (v4, None));
        assert_eq!(ep("10.0.0.1:http").unwrap(), (v4, Some(80)));
        assert_eq!(ep("10.0.0.1:0080").unwrap(), (v4, Some(80)));
        assert_eq!(ep("[2001:db8::1]:443").unwrap(), (v6, Some(443)));
        assert_eq!(ep("[2001:db8::1]:https").unwrap(), (v6, Some(443)));
        // Lab: `-A -t 2001:db8::8:80 -p` gives the service [2001:db8::8:80]:0.
        let whole: IpAddr = "2001:db8::8:80".parse().unwrap();
        assert_eq!(ep("2001:db8::8:80").unwrap(), (whole, None));
    }

    #[test]
    fn endpoint_errors_point_at_the_part() {
        let f = ep("myhost:80").unwrap_err();
        assert_eq!(f.problem, Problem::HostName("myhost".into()));
        assert_eq!(f.span, 10..16);
        let f = ep("10.0.0.1:65536").unwrap_err();
        assert!(matches!(f.problem, Problem::OutOfRange { .. }));
        assert_eq!(f.span, 19..24);
        let f = endpoint(tok("10.0.0.1:http"), Some(Protocol::Udp), "virtual service").unwrap_err();
        assert_eq!(
            f.problem,
            Problem::UnknownPortName {
                name: "http".into(),
                protocol: "udp".into()
            }
        );
        assert_eq!(
            f.help.as_deref(),
            Some("`http` is a tcp service; write the port number")
        );
        assert!(
            ep("[2001:db8::1]")
                .unwrap_err()
                .help
                .unwrap()
                .contains("port 0")
        );
        assert!(ep("[10.0.0.1]:80").is_err());
        assert!(ep("80").is_err());
        let f = ep("2001:db8::1:zz").unwrap_err();
        assert!(f.help.unwrap().contains("[2001:db8::1]:zz"));
        let f = endpoint(tok("10.0.0.1:http"), None, "real server").unwrap_err();
        assert!(f.help.unwrap().contains("before `-r`"));
    }

    #[test]
    fn abbreviated_ipv4_is_explained() {
        // Lab: ipvsadm took `10.1:80` and `0x0a000001:80` as 10.0.0.1:80.
        let f = ep("10.1:80").unwrap_err();
        assert!(matches!(f.problem, Problem::Abbreviated { .. }));
        assert_eq!(
            f.help.as_deref(),
            Some("ipvsadm reads it as `10.0.0.1`; write the four numbers in decimal")
        );
        assert!(ep("0x0a000001:80").is_err());
        // Lab: `-M 24` became the mask 0.0.0.24.
        let f = netmask_v4(tok("24")).unwrap_err();
        assert!(f.help.unwrap().contains("`0.0.0.24`"));
        assert_eq!(
            netmask_v4(tok("255.255.255.0")).unwrap(),
            Ipv4Addr::new(255, 255, 255, 0)
        );
    }

    #[test]
    fn inet_aton_forms() {
        let a = |s| inet_aton(s).map(|a| a.to_string());
        assert_eq!(a("10.1").as_deref(), Some("10.0.0.1"));
        assert_eq!(a("0x0a000001").as_deref(), Some("10.0.0.1"));
        assert_eq!(a("010.0.0.1").as_deref(), Some("8.0.0.1"));
        assert_eq!(a("24").as_deref(), Some("0.0.0.24"));
        assert_eq!(a("255.255.255").as_deref(), Some("255.255.0.255"));
        assert_eq!(a("1.2.3.4.5"), None);
        assert_eq!(a("256.1.1.1"), None);
        assert_eq!(a("host"), None);
        assert_eq!(a("1.2.65536"), None);
    }
}
