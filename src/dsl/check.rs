//! `tcp()`, `http(path)`, `https(path)`, `udp(payload)`, `exec(program)`: health
//! checks and their methods.
//!
//! Unlike services and real servers, a check is a value: every method returns a new
//! check and leaves the one it was called on as it was, so `let c = http("/");`
//! shared by several services is never changed behind their backs
//! (`c.port(8080)` for one server is a new check).

use super::error::{Fail, fail};
use super::method::{Methods, method};
use super::state::{At, Ctx};
use super::values::{self, int_in, printable, type_name};
use crate::model::validate::{
    CheckField, MAX_EVERY_MS, MAX_RISE_FALL, MIN_EVERY_MS, name_problem, path_problem, seconds,
};
use crate::model::{Check, CheckKind, HttpCheck, StatusRange};
use rhai::{Array, Dynamic, Engine, FLOAT, INT, ImmutableString, NativeCallContext};
use std::{
    fmt,
    sync::{Arc, OnceLock},
};

/// A check as the script builds it, with the call behind each setting.
#[derive(Debug, Clone)]
pub(crate) struct CheckDraft {
    pub check: Check,
    /// The constructor call (`http("/")`).
    pub origin: At,
    pub every: At,
    pub timeout: At,
    pub rise: At,
    pub fall: At,
    pub port: At,
    pub via_vip: At,
    /// The last method only its kind takes (`.expect()`, `.insecure()`, ..).
    pub kind: At,
}

impl CheckDraft {
    pub fn new(kind: CheckKind, origin: At) -> Self {
        CheckDraft {
            check: Check::new(kind),
            origin,
            every: At::default(),
            timeout: At::default(),
            rise: At::default(),
            fall: At::default(),
            port: At::default(),
            via_vip: At::default(),
            kind: At::default(),
        }
    }

    pub fn from_model(c: &Check) -> Self {
        let mut d = CheckDraft::new(c.kind.clone(), At::default());
        d.check = c.clone();
        d
    }

    /// Where `field` was set, else the constructor.
    pub fn at(&self, field: CheckField) -> &At {
        let at = match field {
            CheckField::Object => &self.origin,
            CheckField::Every => &self.every,
            CheckField::Timeout => &self.timeout,
            CheckField::Rise => &self.rise,
            CheckField::Fall => &self.fall,
            CheckField::Port => &self.port,
            CheckField::ViaVip => &self.via_vip,
            CheckField::Kind => &self.kind,
        };
        if at.is_none() { &self.origin } else { at }
    }

    fn http(&mut self, method: &str) -> Result<&mut HttpCheck, Fail> {
        match &mut self.check.kind {
            CheckKind::Http(h) => Ok(h),
            other => Err(fail(
                format!(
                    "`.{method}()` is for http and https checks, not {}",
                    other.name()
                ),
                match other {
                    CheckKind::Udp { .. } if method == "expect" => {
                        Some("a udp check takes `.expect_reply(text)`".to_string())
                    }
                    _ => None,
                },
            )),
        }
    }

    fn https(&mut self, method: &str) -> Result<&mut HttpCheck, Fail> {
        let h = self.http(method)?;
        if !h.tls {
            return Err(fail(
                format!("`.{method}()` on a plain http check: it has no TLS"),
                Some(format!(
                    "use `https(\"{}\")`, or drop `.{method}()`",
                    h.path
                )),
            ));
        }
        Ok(h)
    }
}

impl fmt::Display for CheckDraft {
    /// `http check /healthz expect 200-299, every 2 s, timeout 1 s, rise 2, fall 3`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.check;
        write!(f, "{} check", c.kind.name())?;
        match &c.kind {
            CheckKind::Tcp => {}
            CheckKind::Http(h) => {
                let codes: Vec<String> = h.expect.iter().map(ToString::to_string).collect();
                write!(f, " {} expect {}", h.path, codes.join(","))?;
                if let Some(host) = &h.host {
                    write!(f, " host {host}")?;
                }
            }
            CheckKind::Udp { payload, expect } => {
                write!(f, " {}-byte payload", payload.len())?;
                if expect.is_some() {
                    f.write_str(" expect reply")?;
                }
            }
            CheckKind::Exec { program, .. } => write!(f, " {program}")?,
        }
        if let Some(p) = c.port {
            write!(f, " port {p}")?;
        }
        if c.via_vip {
            f.write_str(" via vip")?;
        }
        write!(
            f,
            ", every {}, timeout {}, rise {}, fall {}",
            seconds(c.every_ms),
            seconds(c.timeout_ms),
            c.rise,
            c.fall
        )
    }
}

/// Seconds (an int or a float) as milliseconds in `lo..=hi`.
fn millis(secs: f64, lo: u32, hi: u32, what: &str) -> Result<u32, Fail> {
    let range = format!("{}..{}", seconds(lo).trim_end_matches(" s"), seconds(hi));
    let ms = (secs * 1000.0).round();
    if !ms.is_finite() || ms < lo as f64 || ms > hi as f64 {
        return Err(fail(
            format!("{what} {secs} s is out of range {range}"),
            Some("seconds, an int or a float: `.every(2)`, `.timeout(0.5)`".to_string()),
        ));
    }
    Ok(ms as u32)
}

fn every(d: &mut CheckDraft, at: At, secs: f64) -> Result<(), Fail> {
    d.check.every_ms = millis(secs, MIN_EVERY_MS, MAX_EVERY_MS, "check interval")?;
    d.every = at;
    Ok(())
}

/// Whether it is shorter than the interval is known only when the check is used.
fn timeout(d: &mut CheckDraft, at: At, secs: f64) -> Result<(), Fail> {
    d.check.timeout_ms = millis(secs, 1, MAX_EVERY_MS, "check timeout")?;
    d.timeout = at;
    Ok(())
}

fn count(n: INT, what: &str) -> Result<u32, Fail> {
    int_in(n, 1, MAX_RISE_FALL as INT, what)
        .map(|n| n as u32)
        .map_err(|_| {
            fail(
                format!("{what} {n} is out of range 1..{MAX_RISE_FALL}"),
                Some(
                "rise counts the passed probes in a row that bring a server up, fall the failed ones that take it down"
                    .to_string(),
            ),
            )
        })
}

/// One HTTP status code or `"low-high"` range.
fn status(v: &Dynamic) -> Result<StatusRange, Fail> {
    const HELP: &str = "a status code (200), a range (\"200-399\") or an array of them";
    let (lo, hi) = if let Ok(i) = v.as_int() {
        (i, i)
    } else if let Ok(s) = v.clone().into_immutable_string() {
        let parse = |t: &str| t.trim().parse::<INT>().ok();
        match s.split_once('-') {
            Some((a, b)) => parse(a).zip(parse(b)),
            None => parse(&s).map(|c| (c, c)),
        }
        .ok_or_else(|| {
            fail(
                format!("`{}` is not a status code or range", printable(&s)),
                Some(HELP.to_string()),
            )
        })?
    } else {
        return Err(fail(
            format!(
                "a status code is an int or a \"low-high\" string, not {}",
                type_name(v)
            ),
            Some(HELP.to_string()),
        ));
    };
    if let Some(c) = [lo, hi].into_iter().find(|c| !(100..=599).contains(c)) {
        return Err(fail(
            format!("status code {c} is out of range 100..599"),
            Some(HELP.to_string()),
        ));
    }
    if lo > hi {
        return Err(fail(
            format!("status range {lo}-{hi} is reversed"),
            Some(format!("write the low code first: \"{hi}-{lo}\"")),
        ));
    }
    Ok(StatusRange(lo as u16, hi as u16))
}

fn expect(d: &mut CheckDraft, at: At, codes: Vec<Dynamic>) -> Result<(), Fail> {
    let mut list = Vec::new();
    for c in &codes {
        list.push(status(c)?);
    }
    if list.is_empty() {
        return Err(fail(
            "`.expect([])` accepts no status code",
            Some("`.expect(200)`, `.expect([200, 204])` or `.expect(\"200-399\")`".to_string()),
        ));
    }
    d.http("expect")?.expect = list;
    d.kind = at;
    Ok(())
}

/// A payload or expected reply: a string's bytes, or an array of ints 0..255.
fn bytes(v: &Dynamic, what: &str) -> Result<Vec<u8>, Fail> {
    let out = if v.is_string() {
        values::string(v, what)?.into_bytes()
    } else if v.is_array() {
        let mut out = Vec::new();
        for b in v.clone().cast::<Array>() {
            let n = b.as_int().map_err(|_| {
                fail(
                    format!("a byte of the {what} must be an int, not {}", type_name(&b)),
                    None,
                )
            })?;
            out.push(int_in(n, 0, 255, "byte")? as u8);
        }
        out
    } else {
        return Err(fail(
            format!(
                "the {what} is a string or an array of bytes, not {}",
                type_name(v)
            ),
            None,
        ));
    };
    if out.is_empty() {
        return Err(fail(
            format!("the {what} is empty"),
            Some(
                match what {
                    "udp payload" => {
                        "a service answers a request, not an empty datagram: `udp(\"ping\")`"
                    }
                    _ => "drop `.expect_reply()` to accept any reply",
                }
                .to_string(),
            ),
        ));
    }
    Ok(out)
}

pub(crate) fn http(path: &str, tls: bool, at: At) -> Result<CheckDraft, Fail> {
    if let Some(why) = path_problem(path) {
        return Err(fail(
            format!("http path `{}` {why}", printable(path)),
            Some("write the path of the URL, from its `/`: `http(\"/healthz\")`".to_string()),
        ));
    }
    Ok(CheckDraft::new(
        CheckKind::Http(HttpCheck::new(path, tls)),
        at,
    ))
}

pub(crate) fn exec(program: &str, args: &Array, at: At) -> Result<CheckDraft, Fail> {
    if !program.starts_with('/') {
        return Err(fail(
            format!("exec program `{}` is not an absolute path", printable(program)),
            Some("`lvsh watch` runs it without a shell and without searching PATH: write `/usr/local/bin/check-db`".to_string()),
        ));
    }
    let mut list = Vec::new();
    for a in args {
        list.push(values::string(a, "an exec argument")?);
    }
    Ok(CheckDraft::new(
        CheckKind::Exec {
            program: program.to_string(),
            args: list,
        },
        at,
    ))
}

fn host_name(name: &str, what: &str) -> Result<String, Fail> {
    match name_problem(name) {
        Some(why) => Err(fail(
            format!("{what} `{}` {why}", printable(name)),
            Some("a host name, like `www.example.com`".to_string()),
        )),
        None => Ok(name.to_string()),
    }
}

/// The methods of checks (see `method.rs`), made once.
pub(crate) fn methods() -> &'static Methods<CheckDraft> {
    static METHODS: OnceLock<Methods<CheckDraft>> = OnceLock::new();
    METHODS.get_or_init(|| {
        let mut m = Methods::<CheckDraft>::new();
        method!(m, "every", |d, at, s: INT| every(d, at, s as f64));
        method!(m, "every", |d, at, s: FLOAT| every(d, at, s));
        method!(m, "timeout", |d, at, s: INT| timeout(d, at, s as f64));
        method!(m, "timeout", |d, at, s: FLOAT| timeout(d, at, s));
        method!(m, "rise", |d, at, n: INT| {
            d.check.rise = count(n, "check rise")?;
            d.rise = at;
            Ok(())
        });
        method!(m, "fall", |d, at, n: INT| {
            d.check.fall = count(n, "check fall")?;
            d.fall = at;
            Ok(())
        });
        method!(m, "port", |d, at, p: INT| {
            if matches!(d.check.kind, CheckKind::Exec { .. }) {
                return Err(fail(
                    "`.port()` on an exec check: it probes nothing itself",
                    Some("pass the port to the program in its arguments".to_string()),
                ));
            }
            d.check.port = Some(int_in(p, 1, 65535, "check port")? as u16);
            d.port = at;
            Ok(())
        });
        method!(m, "via_vip", |d, at| {
            if matches!(d.check.kind, CheckKind::Exec { .. }) {
                return Err(fail(
                    "`.via_vip()` on an exec check: a program's packets cannot be steered",
                    Some("via_vip sends a tcp, http or udp probe to the VIP, marked for one real server; an exec check runs a program that sends its own".to_string()),
                ));
            }
            d.check.via_vip = true;
            d.via_vip = at;
            Ok(())
        });
        method!(m, "expect", |d, at, code: INT| expect(
            d,
            at,
            vec![Dynamic::from(code)]
        ));
        method!(m, "expect", |d, at, range: &str| expect(
            d,
            at,
            vec![Dynamic::from(ImmutableString::from(range))]
        ));
        method!(m, "expect", |d, at, codes: Array| expect(d, at, codes));
        method!(m, "host", |d, at, name: &str| {
            d.http("host")?.host = Some(host_name(name, "host")?);
            d.kind = at;
            Ok(())
        });
        method!(m, "contains", |d, at, text: &str| {
            if text.is_empty() {
                return Err(fail(
                    "`.contains(\"\")` matches every body",
                    Some("drop `.contains()` to accept any body".to_string()),
                ));
            }
            d.http("contains")?.contains = Some(text.to_string());
            d.kind = at;
            Ok(())
        });
        method!(m, "insecure", |d, at| {
            d.https("insecure")?.insecure = true;
            d.kind = at;
            Ok(())
        });
        method!(m, "sni", |d, at, name: &str| {
            let name = host_name(name, "sni")?;
            d.https("sni")?.sni = Some(name);
            d.kind = at;
            Ok(())
        });
        method!(m, "expect_reply", |d, at, reply: Dynamic| {
            let CheckKind::Udp { expect, .. } = &mut d.check.kind else {
                return Err(fail(
                    format!(
                        "`.expect_reply()` is for udp checks, not {}",
                        d.check.kind.name()
                    ),
                    None,
                ));
            };
            *expect = Some(bytes(&reply, "expected reply")?);
            d.kind = at;
            Ok(())
        });
        m
    })
}

/// `udp(payload)`.
pub(crate) fn udp(payload: &Dynamic, at: At) -> Result<CheckDraft, Fail> {
    let payload = bytes(payload, "udp payload")?;
    Ok(CheckDraft::new(
        CheckKind::Udp {
            payload,
            expect: None,
        },
        at,
    ))
}

pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    engine.register_type_with_name::<CheckDraft>("Check");
    engine.register_fn("to_string", |d: &mut CheckDraft| d.to_string());
    engine.register_fn("to_debug", |d: &mut CheckDraft| d.to_string());

    let c = ctx.clone();
    engine.register_fn("tcp", move |nc: NativeCallContext| {
        CheckDraft::new(CheckKind::Tcp, c.origin(&nc))
    });
    let c = ctx.clone();
    engine.register_fn(
        "http",
        move |nc: NativeCallContext, path: &str| -> Result<CheckDraft, Fail> {
            http(path, false, c.origin(&nc))
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "https",
        move |nc: NativeCallContext, path: &str| -> Result<CheckDraft, Fail> {
            http(path, true, c.origin(&nc))
        },
    );
    // `udp(payload)` with a string or an array of bytes; `service(..).udp()` is the
    // protocol method of services, told apart by its receiver.
    let c = ctx.clone();
    engine.register_fn(
        "udp",
        move |nc: NativeCallContext, payload: Dynamic| -> Result<CheckDraft, Fail> {
            udp(&payload, c.origin(&nc))
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "exec",
        move |nc: NativeCallContext, program: &str| -> Result<CheckDraft, Fail> {
            exec(program, &Array::new(), c.origin(&nc))
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "exec",
        move |nc: NativeCallContext, program: &str, args: Array| -> Result<CheckDraft, Fail> {
            exec(program, &args, c.origin(&nc))
        },
    );
    methods().register_values(engine, ctx);
}
