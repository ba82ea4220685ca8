//! The types a recipe parameter (or a site's `PARAMS` entry) can declare: lvsh's own
//! vocabulary, each checked by the validator the DSL uses for the same thing, so a
//! bad argument gets the same message and hint as the same value given to a binding.

use super::error::{BindingError, Fail};
use super::values::{self, printable, type_name};
use crate::model::validate::{MAX_THRESHOLD, MAX_TIMEOUT, MAX_WEIGHT};
use crate::model::{Protocol, SchedFlag, Scheduler};
use crate::suggest::did_you_mean;
use rhai::{Array, Dynamic, FLOAT, INT, Map};
use std::net::IpAddr;

/// Longest interface name the kernel takes (IFNAMSIZ less the NUL).
const IFNAMSIZ_CHARS: usize = 15;

/// Forwarding methods as recipes name them.
const FORWARDS: &[&str] = &["dr", "nat", "tun", "gre", "gue"];

/// Keys of a `server` given as a map.
const SERVER_KEYS: &[&str] = &["addr", "port", "weight", "u_threshold", "l_threshold"];

/// Every type name, for "did you mean" and the schema's hint.
pub(crate) const TYPE_NAMES: &[&str] = &[
    "bool",
    "int",
    "float",
    "string",
    "ip",
    "ipv4",
    "ipv6",
    "cidr",
    "port",
    "port_range",
    "fwmark",
    "seconds",
    "weight",
    "threshold",
    "scheduler",
    "flag",
    "protocol",
    "forward",
    "iface",
    "server",
    "enum",
    "list<T>",
    "map<T>",
    "any",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParamType {
    Bool,
    Int,
    Float,
    String,
    Ip,
    Ipv4,
    Ipv6,
    Cidr,
    Port,
    PortRange,
    Fwmark,
    Seconds,
    Weight,
    Threshold,
    Scheduler,
    Flag,
    Protocol,
    Forward,
    Iface,
    Server,
    /// One of the schema's `values`.
    Enum,
    List(Box<ParamType>),
    Map(Box<ParamType>),
    /// Anything: the recipe checks it itself.
    Any,
}

/// Why a value does not fit its type: what is wrong and, when it helps, what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bad {
    pub message: String,
    pub help: Option<String>,
}

impl Bad {
    pub fn new(message: impl Into<String>, help: Option<String>) -> Self {
        Bad {
            message: message.into(),
            help,
        }
    }
}

/// The message and hint of an error a DSL validator returned.
#[allow(clippy::boxed_local)] // validators return a `Fail`, a box
pub(crate) fn from_fail(f: Fail) -> Bad {
    match *f {
        rhai::EvalAltResult::ErrorRuntime(d, _) if d.is::<BindingError>() => {
            let b = d.cast::<BindingError>();
            Bad::new(b.message, b.help)
        }
        other => Bad::new(other.to_string(), None),
    }
}

fn wrong(v: &Dynamic, want: &str) -> Bad {
    Bad::new(format!("expected {want}, got {}", shown(v)), None)
}

/// A value as an error shows it: `string "x"`, `int 3`.
pub(crate) fn shown(v: &Dynamic) -> String {
    if v.is_string() {
        format!("string \"{}\"", printable(&v.to_string()))
    } else if v.is_array() || v.is_map() {
        type_name(v).to_string()
    } else {
        format!("{} {}", type_name(v), printable(&v.to_string()))
    }
}

fn text(v: &Dynamic, want: &str) -> Result<rhai::ImmutableString, Bad> {
    v.clone()
        .into_immutable_string()
        .map_err(|_| wrong(v, want))
}

fn int(v: &Dynamic, want: &str) -> Result<INT, Bad> {
    v.as_int().map_err(|_| wrong(v, want))
}

fn ranged(v: &Dynamic, lo: INT, hi: INT, what: &str) -> Result<Dynamic, Bad> {
    let n = int(v, what)?;
    values::int_in(n, lo, hi, what).map_err(from_fail)?;
    Ok(Dynamic::from(n))
}

impl ParamType {
    /// `"list<server>"` → `List(Server)`.
    pub fn parse(name: &str) -> Result<ParamType, Bad> {
        let t = name.trim();
        if let Some(inner) = t.strip_prefix("list<").and_then(|r| r.strip_suffix('>')) {
            return Ok(ParamType::List(Box::new(ParamType::parse(inner)?)));
        }
        if let Some(inner) = t.strip_prefix("map<").and_then(|r| r.strip_suffix('>')) {
            return Ok(ParamType::Map(Box::new(ParamType::parse(inner)?)));
        }
        Ok(match t {
            "bool" => ParamType::Bool,
            "int" => ParamType::Int,
            "float" => ParamType::Float,
            "string" => ParamType::String,
            "ip" => ParamType::Ip,
            "ipv4" => ParamType::Ipv4,
            "ipv6" => ParamType::Ipv6,
            "cidr" => ParamType::Cidr,
            "port" => ParamType::Port,
            "port_range" => ParamType::PortRange,
            "fwmark" => ParamType::Fwmark,
            "seconds" => ParamType::Seconds,
            "weight" => ParamType::Weight,
            "threshold" => ParamType::Threshold,
            "scheduler" => ParamType::Scheduler,
            "flag" => ParamType::Flag,
            "protocol" => ParamType::Protocol,
            "forward" => ParamType::Forward,
            "iface" => ParamType::Iface,
            "server" => ParamType::Server,
            "enum" => ParamType::Enum,
            "any" => ParamType::Any,
            other => {
                return Err(Bad::new(
                    format!(
                        "unknown parameter type `{}`{}",
                        printable(other),
                        did_you_mean(other, TYPE_NAMES.iter().copied())
                    ),
                    Some(format!("types: {}", TYPE_NAMES.join(", "))),
                ));
            }
        })
    }

    /// Whether the type's `min`/`max` count items (lists, maps, strings) rather than
    /// bound a number.
    pub fn is_sized(&self) -> bool {
        matches!(
            self,
            ParamType::List(_) | ParamType::Map(_) | ParamType::String
        )
    }

    /// `v` checked and normalised: addresses in their canonical form, servers as
    /// `#{ addr, port, weight, .. }` maps, ints where a float is wanted as floats.
    pub fn check(&self, v: &Dynamic, values: &[Dynamic]) -> Result<Dynamic, Bad> {
        use ParamType as T;
        match self {
            T::Any => Ok(v.clone()),
            T::Bool => v
                .as_bool()
                .map(Dynamic::from)
                .map_err(|_| wrong(v, "true or false")),
            T::Int => int(v, "an int").map(Dynamic::from),
            T::Float => v
                .as_float()
                .or_else(|_| v.as_int().map(|i| i as FLOAT))
                .map(Dynamic::from)
                .map_err(|_| wrong(v, "a number")),
            T::String => text(v, "a string").map(Dynamic::from),
            T::Ip | T::Ipv4 | T::Ipv6 => {
                let a = values::address(&text(v, "an IP address")?).map_err(from_fail)?;
                match (self, a) {
                    (T::Ipv4, IpAddr::V6(_)) => {
                        Err(Bad::new(format!("expected an IPv4 address, got {a}"), None))
                    }
                    (T::Ipv6, IpAddr::V4(_)) => {
                        Err(Bad::new(format!("expected an IPv6 address, got {a}"), None))
                    }
                    _ => Ok(Dynamic::from(a.to_string())),
                }
            }
            T::Cidr => cidr(&text(v, "an address with a prefix length")?),
            T::Port => ranged(v, 0, 65535, "port"),
            T::PortRange => {
                let r = values::port_range(v).map_err(from_fail)?;
                Ok(if v.is_int() {
                    v.clone()
                } else {
                    Dynamic::from(r.to_string())
                })
            }
            T::Fwmark => ranged(v, 1, u32::MAX as INT, "fwmark"),
            T::Seconds => ranged(v, 1, MAX_TIMEOUT as INT, "seconds"),
            T::Weight => ranged(v, 0, MAX_WEIGHT as INT, "weight"),
            T::Threshold => ranged(v, 0, MAX_THRESHOLD as INT, "threshold"),
            T::Scheduler => {
                let name = text(v, "a scheduler name")?;
                name.parse::<Scheduler>().map_err(|_| {
                    Bad::new(
                        format!(
                            "unknown scheduler `{}`{}",
                            printable(&name),
                            did_you_mean(&name, Scheduler::names())
                        ),
                        Some(format!(
                            "schedulers: {}",
                            Scheduler::names().collect::<Vec<_>>().join(", ")
                        )),
                    )
                })?;
                Ok(Dynamic::from(name))
            }
            T::Flag => {
                let name = text(v, "a scheduler flag")?;
                let all = SchedFlag::all_names();
                SchedFlag::parse(&name).ok_or_else(|| {
                    Bad::new(
                        format!(
                            "unknown scheduler flag `{}`{}",
                            printable(&name),
                            did_you_mean(&name, all.iter().copied())
                        ),
                        Some(format!("flags: {}", all.join(", "))),
                    )
                })?;
                Ok(Dynamic::from(name))
            }
            T::Protocol => {
                let name = text(v, "a protocol")?;
                name.parse::<Protocol>().map_err(|_| {
                    let all: Vec<&str> = Protocol::ALL.iter().map(|p| p.name()).collect();
                    Bad::new(
                        format!(
                            "unknown protocol `{}`{}",
                            printable(&name),
                            did_you_mean(&name, all.iter().copied())
                        ),
                        Some(format!("protocols: {}", all.join(", "))),
                    )
                })?;
                Ok(Dynamic::from(name))
            }
            T::Forward => one_of(
                &text(v, "a forwarding method")?,
                FORWARDS,
                "forwarding method",
            ),
            T::Iface => {
                let name = text(v, "an interface name")?;
                let ok = !name.is_empty()
                    && name.len() <= IFNAMSIZ_CHARS
                    && !name.contains(['/', ':'])
                    && !name.chars().any(char::is_whitespace);
                if ok {
                    Ok(Dynamic::from(name))
                } else {
                    Err(Bad::new(
                        format!("`{}` is not an interface name", printable(&name)),
                        Some(format!(
                            "1 to {IFNAMSIZ_CHARS} bytes, no `/`, `:` or spaces"
                        )),
                    ))
                }
            }
            T::Server => server(v),
            T::Enum => {
                if values.iter().any(|x| same(x, v)) {
                    Ok(v.clone())
                } else {
                    let names: Vec<String> = values.iter().map(|x| x.to_string()).collect();
                    Err(Bad::new(
                        format!(
                            "`{}` is not one of the values{}",
                            printable(&v.to_string()),
                            did_you_mean(&v.to_string(), names.iter().map(String::as_str))
                        ),
                        Some(format!("values: {}", names.join(", "))),
                    ))
                }
            }
            T::List(inner) => {
                let items = v.read_lock::<Array>().ok_or_else(|| wrong(v, "a list"))?;
                let mut out = Array::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let checked = inner
                        .check(item, values)
                        .map_err(|b| Bad::new(format!("item {}: {}", i + 1, b.message), b.help))?;
                    out.push(checked);
                }
                Ok(Dynamic::from_array(out))
            }
            T::Map(inner) => {
                let m = v.read_lock::<Map>().ok_or_else(|| wrong(v, "a map"))?;
                let mut out = Map::new();
                for (k, item) in m.iter() {
                    let checked = inner
                        .check(item, values)
                        .map_err(|b| Bad::new(format!("key `{k}`: {}", b.message), b.help))?;
                    out.insert(k.clone(), checked);
                }
                Ok(Dynamic::from_map(out))
            }
        }
    }
}

/// Whether two literal values are equal (rhai has no `PartialEq` on `Dynamic`).
pub(crate) fn same(a: &Dynamic, b: &Dynamic) -> bool {
    type_name(a) == type_name(b) && a.to_string() == b.to_string()
}

fn one_of(name: &str, all: &[&str], what: &str) -> Result<Dynamic, Bad> {
    if all.contains(&name) {
        return Ok(Dynamic::from(name.to_string()));
    }
    Err(Bad::new(
        format!(
            "unknown {what} `{}`{}",
            printable(name),
            did_you_mean(name, all.iter().copied())
        ),
        Some(format!("{what}s: {}", all.join(", "))),
    ))
}

fn cidr(t: &str) -> Result<Dynamic, Bad> {
    let help = || Some("write an address and a prefix length: 10.0.0.0/8, 2001:db8::/32".into());
    let (a, len) = t
        .split_once('/')
        .ok_or_else(|| Bad::new(format!("`{}` has no prefix length", printable(t)), help()))?;
    let addr = values::address(a).map_err(from_fail)?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    match len.parse::<u8>() {
        Ok(n) if n <= max => Ok(Dynamic::from(format!("{addr}/{n}"))),
        _ => Err(Bad::new(
            format!("`{}`: the prefix length is 0..{max}", printable(t)),
            help(),
        )),
    }
}

/// A real server: `"10.0.0.1"`, `"10.0.0.1:8080"`, `"[2001:db8::1]:80"` or
/// `#{ addr, port?, weight?, u_threshold?, l_threshold? }`, always returned as a map
/// with `addr`, `port` and `weight` (`()` when not given).
fn server(v: &Dynamic) -> Result<Dynamic, Bad> {
    let mut out = Map::new();
    if v.is_string() {
        let (a, port) = values::address_port(&v.to_string()).map_err(from_fail)?;
        out.insert("addr".into(), Dynamic::from(a.to_string()));
        out.insert(
            "port".into(),
            port.map_or(Dynamic::UNIT, |p| Dynamic::from(p as INT)),
        );
        out.insert("weight".into(), Dynamic::UNIT);
        return Ok(Dynamic::from_map(out));
    }
    let Some(m) = v.read_lock::<Map>() else {
        return Err(Bad::new(
            format!("a server is an address or a map, not {}", shown(v)),
            Some(
                "a server is \"10.0.0.1\", \"10.0.0.1:8080\" or #{ addr: \"10.0.0.1\", weight: 3 }"
                    .into(),
            ),
        ));
    };
    for k in m.keys() {
        if !SERVER_KEYS.contains(&k.as_str()) {
            return Err(Bad::new(
                format!(
                    "a server has no key `{k}`{}",
                    did_you_mean(k, SERVER_KEYS.iter().copied())
                ),
                Some(format!("server keys: {}", SERVER_KEYS.join(", "))),
            ));
        }
    }
    let addr = m
        .get("addr")
        .ok_or_else(|| Bad::new("a server map needs `addr`", None))?;
    let (a, port) = values::address_port(&text(addr, "an address")?).map_err(from_fail)?;
    // `()` is "not given": a server this check normalised passes it again unchanged
    // (a site's `PARAMS` server handed on to a recipe).
    let given = |k: &str| m.get(k).filter(|v| !v.is_unit());
    let port = match (given("port"), port) {
        (Some(p), None) => ranged(p, 0, 65535, "port")?,
        (Some(_), Some(_)) => {
            return Err(Bad::new("a server's port is given twice", None));
        }
        (None, p) => p.map_or(Dynamic::UNIT, |p| Dynamic::from(p as INT)),
    };
    out.insert("addr".into(), Dynamic::from(a.to_string()));
    out.insert("port".into(), port);
    out.insert(
        "weight".into(),
        match given("weight") {
            Some(w) => ranged(w, 0, MAX_WEIGHT as INT, "weight")?,
            None => Dynamic::UNIT,
        },
    );
    for k in ["u_threshold", "l_threshold"] {
        if let Some(t) = given(k) {
            out.insert(k.into(), ranged(t, 0, MAX_THRESHOLD as INT, k)?);
        }
    }
    Ok(Dynamic::from_map(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsl::recipe_schema::literal;

    fn check(t: &str, v: Dynamic) -> Result<String, String> {
        ParamType::parse(t)
            .unwrap()
            .check(&v, &[])
            .map(|d| d.to_string())
            .map_err(|b| b.message)
    }

    #[test]
    fn types_reuse_the_dsl_validators() {
        assert_eq!(check("ip", "10.0.0.1".into()).unwrap(), "10.0.0.1");
        assert!(
            check("ip", "10.0.0.x".into())
                .unwrap_err()
                .contains("not an IP address")
        );
        assert!(check("ipv4", "2001:db8::1".into()).is_err());
        assert_eq!(
            check("weight", Dynamic::from(70000_i64)).unwrap_err(),
            "weight 70000 is out of range 0..65535"
        );
        assert!(
            check("scheduler", "wrrr".into())
                .unwrap_err()
                .contains("did you mean `wrr`")
        );
        assert!(
            check("port", "80".into())
                .unwrap_err()
                .contains("expected port")
        );
        assert_eq!(check("cidr", "10.0.0.0/8".into()).unwrap(), "10.0.0.0/8");
        assert!(check("iface", "a-very-long-name0".into()).is_err());
        assert!(ParamType::parse("lsit<ip>").is_err());
        assert!(
            ParamType::parse("ipp")
                .unwrap_err()
                .message
                .contains("`ip`")
        );
    }

    #[test]
    fn servers_become_maps() {
        let s = ParamType::Server
            .check(&"10.0.0.1:8080".into(), &[])
            .unwrap()
            .cast::<Map>();
        assert_eq!(s["addr"].to_string(), "10.0.0.1");
        assert_eq!(s["port"].as_int().unwrap(), 8080);
        assert!(s["weight"].is_unit());
        let again = ParamType::Server
            .check(&Dynamic::from_map(s.clone()), &[])
            .unwrap()
            .cast::<Map>();
        assert_eq!(
            literal(&Dynamic::from_map(again)),
            literal(&Dynamic::from_map(s))
        );
        let list = check(
            "list<server>",
            Dynamic::from_array(vec!["10.0.0.1".into(), "10.0.0.x".into()]),
        )
        .unwrap_err();
        assert!(list.starts_with("item 2: "), "{list}");
    }
}
