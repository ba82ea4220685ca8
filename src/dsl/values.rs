//! Turning script values into model values, with errors that say what is allowed.

use super::check::CheckDraft;
use super::error::{Fail, fail};
use super::state::{DaemonHandle, RealServerHandle, ServiceHandle};
use crate::model::PortRange;
use rhai::{Dynamic, INT};
use std::net::IpAddr;

/// The name of a value's type as the documentation spells it.
pub(crate) fn type_name(v: &Dynamic) -> &'static str {
    if v.is_int() {
        "int"
    } else if v.is_string() {
        "string"
    } else if v.is_array() {
        "array"
    } else if v.is_map() {
        "map"
    } else if v.is_bool() {
        "bool"
    } else if v.is_float() {
        "float"
    } else if v.is_unit() {
        "()"
    } else if v.is::<ServiceHandle>() {
        "Service"
    } else if v.is::<RealServerHandle>() {
        "RealServer"
    } else if v.is::<DaemonHandle>() {
        "SyncDaemon"
    } else if v.is::<CheckDraft>() {
        "Check"
    } else {
        "value"
    }
}

/// Rewrites rhai's type names in a function signature into the documented ones.
pub(crate) fn friendly_signature(sig: &str) -> String {
    sig.replace("&str | ImmutableString | String", "string")
        .replace("ImmutableString", "string")
        .replace("i64", "int")
        .replace("f64", "float")
        .replace("rhai::Array", "array")
        .replace("rhai::Map", "map")
        .replace("Array", "array")
        .replace("Map", "map")
}

/// `text` with control characters escaped (`\u{1b}`): a value from a
/// script or `--set` must not move the cursor or clear the terminal of whoever
/// reads the error.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

const ADDR_HELP: &str =
    "write an IPv4 (192.0.2.1) or IPv6 (2001:db8::1) address; host names are not resolved";

/// An IP address, with or without IPv6 brackets.
pub(crate) fn address(text: &str) -> Result<IpAddr, Fail> {
    let t = text.trim();
    let inner = t
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(t);
    inner.parse().map_err(|_| {
        fail(
            format!("`{}` is not an IP address", printable(text)),
            Some(ADDR_HELP.to_string()),
        )
    })
}

/// `addr`, `v4:port`, `[v6]:port`: the address and the port if one is given.
pub(crate) fn address_port(text: &str) -> Result<(IpAddr, Option<u16>), Fail> {
    let t = text.trim();
    if let Ok(a) = t.parse::<IpAddr>() {
        return Ok((a, None));
    }
    let (host, port) = if let Some(rest) = t.strip_prefix('[') {
        let (h, p) = rest.split_once("]:").ok_or_else(|| {
            fail(
                format!("`{}` is not an address with port", printable(text)),
                Some("write `[2001:db8::1]:80`".to_string()),
            )
        })?;
        (h, p)
    } else {
        t.rsplit_once(':').ok_or_else(|| {
            fail(
                format!("`{}` is not an IP address", printable(text)),
                Some(ADDR_HELP.to_string()),
            )
        })?
    };
    let addr = address(host)?;
    if addr.is_ipv6() && !t.starts_with('[') {
        return Err(fail(
            format!("`{}` is ambiguous", printable(text)),
            Some("put IPv6 addresses with a port in brackets: `[2001:db8::1]:80`".to_string()),
        ));
    }
    let port = port.parse::<u16>().map_err(|_| {
        fail(
            format!("`{port}` in `{text}` is not a port"),
            Some("ports are 0..65535".to_string()),
        )
    })?;
    Ok((addr, Some(port)))
}

/// An integer in `lo..=hi`; `what` names it in the error ("weight 70000 is out of range 0..65535").
pub(crate) fn int_in(v: INT, lo: INT, hi: INT, what: &str) -> Result<INT, Fail> {
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(fail(format!("{what} {v} is out of range {lo}..{hi}"), None))
    }
}

pub(crate) fn port(v: INT, what: &str) -> Result<u16, Fail> {
    Ok(int_in(v, 0, 65535, what)? as u16)
}

/// A port or `"first-last"` range as a mark matches it (port 0 never matches).
pub(crate) fn port_range(v: &Dynamic) -> Result<PortRange, Fail> {
    let r = if let Ok(i) = v.as_int() {
        PortRange::single(port(i, "port")?)
    } else if let Ok(s) = v.clone().into_immutable_string() {
        s.parse::<PortRange>().map_err(|e| {
            fail(
                e,
                Some("write a port (443) or a range (\"8000-8100\")".to_string()),
            )
        })?
    } else {
        return Err(fail(
            format!(
                "a port is an int or a \"first-last\" string, not {}",
                type_name(v)
            ),
            None,
        ));
    };
    if r.first == 0 {
        return Err(fail(
            "port 0 cannot be matched by a mark",
            Some("use ports 1..65535".to_string()),
        ));
    }
    Ok(r)
}

/// A string argument out of an array element.
pub(crate) fn string(v: &Dynamic, what: &str) -> Result<String, Fail> {
    v.clone()
        .into_immutable_string()
        .map(|s| s.to_string())
        .map_err(|_| {
            fail(
                format!("{what} must be a string, not {}", type_name(v)),
                None,
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(e: Fail) -> String {
        let e: &rhai::EvalAltResult = &e;
        match e {
            rhai::EvalAltResult::ErrorRuntime(d, _) => {
                d.clone()
                    .cast::<super::super::error::BindingError>()
                    .message
            }
            other => other.to_string(),
        }
    }

    #[test]
    fn addresses_with_and_without_ports() {
        assert_eq!(address("[2001:db8::1]").unwrap().to_string(), "2001:db8::1");
        assert_eq!(
            address_port("10.0.0.1:8080").unwrap(),
            ("10.0.0.1".parse().unwrap(), Some(8080))
        );
        assert_eq!(address_port("[2001:db8::1]:80").unwrap().1, Some(80));
        assert_eq!(address_port("2001:db8::1").unwrap().1, None);
        assert!(msg(address_port("10.0.0.x").unwrap_err()).contains("not an IP address"));
        assert!(msg(address_port("10.0.0.1:99999").unwrap_err()).contains("not a port"));
    }

    #[test]
    fn ranges_name_the_value() {
        assert_eq!(
            msg(int_in(70000, 0, 65535, "weight").unwrap_err()),
            "weight 70000 is out of range 0..65535"
        );
        assert_eq!(
            port_range(&Dynamic::from("8000-8100")).unwrap().to_string(),
            "8000-8100"
        );
        assert!(port_range(&Dynamic::from(0_i64)).is_err());
        assert!(port_range(&Dynamic::from(true)).is_err());
    }

    #[test]
    fn signatures_use_documented_type_names() {
        assert_eq!(
            friendly_signature("service (&str | ImmutableString | String, i64)"),
            "service (string, int)"
        );
    }

    #[test]
    fn errors_show_control_characters_escaped() {
        assert_eq!(
            printable("10.0.0.1\0\u{1b}[2J é"),
            "10.0.0.1\\u{0}\\u{1b}[2J é"
        );
        assert_eq!(
            msg(address("\u{1b}[2J").unwrap_err()),
            "`\\u{1b}[2J` is not an IP address"
        );
    }
}
