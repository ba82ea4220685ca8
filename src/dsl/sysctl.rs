//! `sysctl(name, value)` and `sysctls(#{name: value, ..})`: the IPVS sysctls
//! (`net.ipv4.vs.NAME`, or just `NAME`) and the host sysctls a director needs (by full
//! name: `net.ipv4.ip_forward`, `net.ipv4.conf.lo.arp_ignore`) the script manages.
//! Those a script does not name are left as the kernel has them.

use super::error::{Fail, fail};
use super::state::{At, Ctx, Mode};
use super::values::type_name;
use crate::model::SysctlValue;
use crate::model::sysctl::{HOST_SPECS, Kind, SPECS, Spec, cpu_list, is_host, spec_of};
use crate::suggest::did_you_mean;
use rhai::{Array, Dynamic, Engine, INT, Map, NativeCallContext};
use std::sync::Arc;

/// One `sysctl()` call: duplicates are kept until the model is built, which reports
/// them with both places.
#[derive(Debug, Clone)]
pub(crate) struct SysctlDraft {
    /// The model's key: the short name of an IPVS sysctl, the full one of a host one.
    pub name: String,
    pub value: SysctlValue,
    pub at: At,
}

/// The spec of `name` (`expire_nodest_conn` or `net.ipv4.vs.expire_nodest_conn`, or a
/// host sysctl by its full name) and the model's key for it.
fn known(name: &str) -> Result<(&'static Spec, String), Fail> {
    let short = name.strip_prefix("net.ipv4.vs.").unwrap_or(name);
    if is_host(short) {
        return match spec_of(short) {
            Some(spec) => Ok((spec, short.to_string())),
            None => Err(host_unknown(short)),
        };
    }
    if let Some(spec) = spec_of(short) {
        return match spec.kind {
            Kind::ReadOnly(why) => Err(fail(
                format!("sysctl `{short}` is read-only"),
                Some(format!("lvsh shows it but never writes it: {why}")),
            )),
            _ => Ok((spec, spec.name.to_string())),
        };
    }
    let names = SPECS.iter().map(|s| s.name);
    let message = if short.contains('.') {
        format!(
            "`{name}` is not a sysctl lvsh manages: `sysctl()` sets `net.ipv4.vs.*` and \
             the host settings of a director"
        )
    } else {
        format!(
            "unknown IPVS sysctl `{short}`{}",
            did_you_mean(short, names.clone())
        )
    };
    let list: Vec<&str> = names.filter(|n| *n != "debug_level").collect();
    Err(fail(
        message,
        Some(format!("the IPVS sysctls: {}", list.join(", "))),
    ))
}

/// A `net.*` name that is none of [`HOST_SPECS`]: which ones there are, and why an
/// interface name may be the trouble.
fn host_unknown(name: &str) -> Fail {
    let list: Vec<String> = HOST_SPECS
        .iter()
        .map(|s| format!("`{}`", s.name.replace('*', "IF")))
        .collect();
    let fits = HOST_SPECS.iter().any(|s| {
        s.name
            .split_once('*')
            .is_some_and(|(h, t)| name.starts_with(h) && name.ends_with(t))
    });
    let message = if fits {
        format!("`{name}` does not name an interface as the kernel spells them")
    } else {
        format!(
            "`{name}` is not a sysctl lvsh manages: `sysctl()` sets `net.ipv4.vs.*` and the \
             host settings of a director"
        )
    };
    fail(
        message,
        Some(format!(
            "the host sysctls: {} (IF: `all`, `default` or an interface; up to 15 \
             characters, a vlan's `.` written `/`)",
            list.join(", ")
        )),
    )
}

/// The script's value in the form the sysctl takes (ranges are checked with the rest
/// of the model, so that an error points at the call).
fn value(spec: &Spec, name: &str, v: &Dynamic) -> Result<SysctlValue, Fail> {
    let wrong = |takes: &str| {
        fail(
            format!("sysctl `{name}` takes {takes}, not {}", type_name(v)),
            Some(spec.about.to_string()),
        )
    };
    match spec.kind {
        Kind::Bool if v.is_bool() => Ok(SysctlValue::Int(INT::from(v.as_bool().unwrap_or(false)))),
        Kind::Bool => v
            .as_int()
            .map(SysctlValue::Int)
            .map_err(|_| wrong("0 or 1 (or a bool)")),
        Kind::Int { .. }
        | Kind::OneOf(_)
        | Kind::Defense
        | Kind::PowerOfTwo
        | Kind::ReadOnly(_) => v
            .as_int()
            .map(SysctlValue::Int)
            .map_err(|_| wrong("an int")),
        Kind::Threshold => {
            let pair = if let Some(a) = v.clone().try_cast::<Array>() {
                match &a[..] {
                    [t, p] => t.as_int().ok().zip(p.as_int().ok()),
                    _ => None,
                }
            } else if v.is_string() {
                let text = v.to_string();
                let words: Vec<&str> = text.split_whitespace().collect();
                match &words[..] {
                    [t, p] => t.parse().ok().zip(p.parse().ok()),
                    _ => None,
                }
            } else {
                None
            };
            pair.map(|(t, p)| SysctlValue::Pair(t, p))
                .ok_or_else(|| wrong("`[threshold, period]` or \"threshold period\""))
        }
        Kind::CpuList if v.is_string() => {
            let text = v.to_string();
            cpu_list(&text).map(SysctlValue::Cpus).ok_or_else(|| {
                fail(
                    format!("sysctl `{name}`: `{text}` is not a CPU list"),
                    Some("a CPU list such as \"0-3,8\"; \"\" stops the estimators".to_string()),
                )
            })
        }
        Kind::CpuList => Err(wrong("a CPU list string such as \"0-3,8\"")),
    }
}

fn set(ctx: &Ctx, name: String, value: SysctlValue, at: At) {
    let mut reg = ctx.registry();
    let draft = SysctlDraft { name, value, at };
    // The REPL re-opens what it already holds; a script's second one is reported.
    match reg.sysctls.iter_mut().find(|d| d.name == draft.name) {
        Some(old) if ctx.mode == Mode::Repl => *old = draft,
        _ => reg.sysctls.push(draft),
    }
}

/// `sysctl(name, value)`.
pub(crate) fn sysctl(ctx: &Ctx, name: &str, v: &Dynamic, at: At) -> Result<(), Fail> {
    let (spec, key) = known(name)?;
    let v = value(spec, &key, v)?;
    set(ctx, key, v, at);
    Ok(())
}

pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    let c = ctx.clone();
    engine.register_fn(
        "sysctl",
        move |nc: NativeCallContext, name: &str, v: Dynamic| -> Result<(), Fail> {
            sysctl(&c, name, &v, c.origin(&nc))
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "sysctls",
        move |nc: NativeCallContext, map: Map| -> Result<(), Fail> {
            let at = c.origin(&nc);
            for (name, v) in &map {
                let (spec, key) = known(name)?;
                let v = value(spec, &key, v)?;
                set(&c, key, v, at.clone());
            }
            Ok(())
        },
    );
}

#[cfg(test)]
mod tests {
    use crate::dsl::{Evaluated, Options, ScriptError, Session, evaluate_source};
    use crate::model::{Balancer, SysctlValue};

    fn eval(src: &str) -> Result<Evaluated, ScriptError> {
        evaluate_source("test.rhai", src, None, &Options::default())
    }

    fn ok(src: &str) -> Balancer {
        eval(src)
            .unwrap_or_else(|e| panic!("{}", e.render_plain()))
            .balancer
    }

    fn err(src: &str) -> ScriptError {
        match eval(src) {
            Ok(e) => panic!("expected an error, got {:?}", e.balancer),
            Err(e) => e,
        }
    }

    #[test]
    fn each_kind_of_value() {
        let b = ok(r#"
sysctl("expire_nodest_conn", 1);
sysctl("net.ipv4.vs.conntrack", true);
sysctl("sloppy_tcp", false);
sysctl("sync_threshold", [10, 100]);
sysctl("est_cpulist", "3, 0-1");
sysctl("est_nice", -5);
"#);
        let s = &b.sysctls;
        assert_eq!(s.int("expire_nodest_conn"), Some(1));
        assert_eq!(s.int("conntrack"), Some(1));
        assert_eq!(s.int("sloppy_tcp"), Some(0));
        assert_eq!(s.get("sync_threshold"), Some(&SysctlValue::Pair(10, 100)));
        assert_eq!(
            s.get("est_cpulist"),
            Some(&SysctlValue::Cpus("0-1,3".into()))
        );
        assert_eq!(s.int("est_nice"), Some(-5));
        assert_eq!(s.len(), 6, "only what the script sets");
        let pair = ok(r#"sysctl("sync_threshold", "3 0");"#);
        assert_eq!(
            pair.sysctls.get("sync_threshold"),
            Some(&SysctlValue::Pair(3, 0))
        );
        assert!(Session::functions().iter().any(|d| d.name == "sysctl"));
        let map = ok(r#"sysctls(#{expire_nodest_conn: 1, sync_threshold: "3 0"});"#);
        assert_eq!(map.sysctls.int("expire_nodest_conn"), Some(1));
        assert_eq!(
            map.sysctls.get("sync_threshold"),
            Some(&SysctlValue::Pair(3, 0))
        );
        assert!(Session::functions().iter().any(|d| d.name == "sysctls"));
        let e = err("sysctls(#{conntrack: 1});\nsysctl(\"conntrack\", 1);");
        assert_eq!(e.message(), "sysctl `conntrack` is set twice");
    }

    #[test]
    fn unknown_names_suggest_and_list() {
        let e = err(r#"sysctl("expire_nodest_con", 1);"#);
        assert_eq!(
            e.message(),
            "unknown IPVS sysctl `expire_nodest_con`, did you mean `expire_nodest_conn`?"
        );
        assert!(
            e.help_text()
                .unwrap()
                .starts_with("the IPVS sysctls: am_droprate, amemthresh")
        );
        assert!(!e.help_text().unwrap().contains("debug_level"));
        assert_eq!(e.location().unwrap().to_string(), "test.rhai:1:1");
        let e = err(r#"sysctl("net.ipv4.tcp_syncookies", 1);"#);
        assert_eq!(
            e.message(),
            "`net.ipv4.tcp_syncookies` is not a sysctl lvsh manages: `sysctl()` sets \
             `net.ipv4.vs.*` and the host settings of a director"
        );
        assert!(
            e.help_text()
                .unwrap()
                .contains("`net.ipv4.conf.IF.arp_ignore`")
        );
        let e = err(r#"sysctl("debug_level", 0);"#);
        assert_eq!(e.message(), "sysctl `debug_level` is read-only");
        assert!(e.help_text().unwrap().contains("CONFIG_IP_VS_DEBUG"));
    }

    #[test]
    fn host_sysctls_by_full_name() {
        let b = ok(r#"
sysctl("net.ipv4.ip_forward", true);
sysctl("net.ipv6.conf.all.forwarding", 1);
sysctls(#{"net.ipv4.conf.lo.arp_ignore": 1, "net.ipv4.conf.all.arp_announce": 2});
sysctl("net.ipv4.conf.eth0/100.arp_ignore", 8);
sysctl("conntrack", 1);
"#);
        let s = &b.sysctls;
        assert_eq!(s.int("net.ipv4.ip_forward"), Some(1));
        assert_eq!(s.int("net.ipv6.conf.all.forwarding"), Some(1));
        assert_eq!(s.int("net.ipv4.conf.lo.arp_ignore"), Some(1));
        assert_eq!(s.int("net.ipv4.conf.all.arp_announce"), Some(2));
        assert_eq!(s.int("net.ipv4.conf.eth0/100.arp_ignore"), Some(8));
        assert_eq!(s.int("conntrack"), Some(1));
        let e = err(r#"sysctl("net.ipv4.conf.lo.arp_ignore", 4);"#);
        assert_eq!(
            e.message(),
            "sysctl `net.ipv4.conf.lo.arp_ignore` cannot be 4: it is one of 0, 1, 2, 3, 8"
        );
        let e = err(r#"sysctl("net.ipv4.conf.all.arp_announce", 3);"#);
        assert_eq!(
            e.message(),
            "sysctl `net.ipv4.conf.all.arp_announce` cannot be 3: it is 0..2"
        );
        let e = err(r#"sysctl("net.ipv4.conf.a-very-long-interface.arp_ignore", 1);"#);
        assert_eq!(
            e.message(),
            "`net.ipv4.conf.a-very-long-interface.arp_ignore` does not name an interface as the kernel spells them"
        );
        let e = err(r#"sysctl("net.ipv4.ip_forward", "on");"#);
        assert_eq!(
            e.message(),
            "sysctl `net.ipv4.ip_forward` takes 0 or 1 (or a bool), not string"
        );
        let e = err("sysctl(\"net.ipv4.ip_forward\", 1);\nsysctl(\"net.ipv4.ip_forward\", 1);");
        assert_eq!(e.message(), "sysctl `net.ipv4.ip_forward` is set twice");
    }

    #[test]
    fn wrong_types_say_what_the_sysctl_takes() {
        for (src, msg) in [
            (
                r#"sysctl("conn_reuse_mode", "1");"#,
                "sysctl `conn_reuse_mode` takes an int, not string",
            ),
            (
                r#"sysctl("conntrack", "yes");"#,
                "sysctl `conntrack` takes 0 or 1 (or a bool), not string",
            ),
            (
                r#"sysctl("sync_threshold", 3);"#,
                "sysctl `sync_threshold` takes `[threshold, period]` or \"threshold period\", not int",
            ),
            (
                r#"sysctl("sync_threshold", [3, 50, 7]);"#,
                "sysctl `sync_threshold` takes `[threshold, period]` or \"threshold period\", not array",
            ),
            (
                r#"sysctl("est_cpulist", "0-x");"#,
                "sysctl `est_cpulist`: `0-x` is not a CPU list",
            ),
            (
                r#"sysctl("est_cpulist", 3);"#,
                "sysctl `est_cpulist` takes a CPU list string such as \"0-3,8\", not int",
            ),
        ] {
            assert_eq!(err(src).message(), msg, "{src}");
        }
    }

    #[test]
    fn out_of_range_values_point_at_their_call() {
        let e = err("let x = 1;\n  sysctl(\"drop_entry\", 4);\n");
        assert!(
            e.message()
                .starts_with("sysctl `drop_entry` cannot be 4: it is 0 (off)")
        );
        assert_eq!(e.location().unwrap().to_string(), "test.rhai:2:3");
        assert_eq!(e.help_text(), Some("the kernel refuses any other value"));
    }

    #[test]
    fn a_second_setting_is_an_error_pointing_at_both() {
        let e = err("sysctl(\"conntrack\", 1);\nsysctl(\"net.ipv4.vs.conntrack\", 0);\n");
        assert_eq!(e.message(), "sysctl `conntrack` is set twice");
        assert_eq!(e.location().unwrap().to_string(), "test.rhai:2:1");
        let text = e.render_plain();
        assert!(
            text.contains("first set here") && text.contains("set again here"),
            "{text}"
        );
        // The REPL re-opens it instead.
        let mut s = Session::new(Options::default(), Balancer::default());
        s.eval("<1>", r#"sysctl("conntrack", 1);"#).unwrap();
        s.eval("<2>", r#"sysctl("conntrack", 0);"#).unwrap();
        assert_eq!(s.balancer().unwrap().sysctls.int("conntrack"), Some(0));
    }

    #[test]
    fn warnings_point_at_the_script() {
        let out =
            eval("service(\"10.0.0.1\", 80).rs(rs(\"10.0.0.2\"));\nsysctl(\"backup_only\", 1);\n")
                .unwrap()
                .output;
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].starts_with("warning: `backup_only` 1: this director balances none"));
        assert!(out[0].ends_with("(test.rhai:2:1)"), "{out:?}");
    }
}
