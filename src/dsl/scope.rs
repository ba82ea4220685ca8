//! `owns(addresses)` and `owns_marks(marks)`: the scope of a script (`model::Scope`).
//! Calling either makes the script scoped; every call adds to the scope.

use super::error::{Fail, fail};
use super::state::{Ctx, Mode};
use super::values::{string, type_name};
use crate::model::{MarkRange, Prefix, Scope};
use rhai::{Array, Dynamic, Engine, INT, NativeCallContext};
use std::{
    ops::{Range, RangeInclusive},
    sync::Arc,
};

const ADDRESS_HELP: &str =
    "write an address (\"192.168.10.120\") or a prefix (\"192.168.10.0/24\", \"2001:db8::/64\")";
const MARK_HELP: &str = "write a mark (10), a range (10..20 or 10..=19) or an array of them";

fn prefix(text: &str) -> Result<Prefix, Fail> {
    text.parse()
        .map_err(|e: String| fail(e, Some(ADDRESS_HELP.to_string())))
}

fn mark(n: INT) -> Result<u32, Fail> {
    if (1..=INT::from(u32::MAX)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(fail(
            format!("mark {n} is out of range 1..4294967295"),
            Some("the kernel reads 0 as \"no mark\"".to_string()),
        ))
    }
}

/// `first..=last` as a mark range; `shown` is the range as the script wrote it.
fn marks(first: INT, last: INT, shown: String) -> Result<MarkRange, Fail> {
    if first > last {
        return Err(fail(
            format!("the range {shown} holds no mark"),
            Some(MARK_HELP.to_string()),
        ));
    }
    MarkRange::new(mark(first)?, mark(last)?).map_err(|e| fail(e, Some(MARK_HELP.to_string())))
}

fn exclusive(r: &Range<INT>) -> Result<MarkRange, Fail> {
    marks(r.start, r.end.saturating_sub(1), format!("{r:?}"))
}

fn inclusive(r: &RangeInclusive<INT>) -> Result<MarkRange, Fail> {
    marks(*r.start(), *r.end(), format!("{r:?}"))
}

/// An int or a range out of an array.
fn mark_item(v: &Dynamic) -> Result<MarkRange, Fail> {
    if let Ok(n) = v.as_int() {
        let m = mark(n)?;
        return MarkRange::new(m, m).map_err(|e| fail(e, None));
    }
    if let Some(r) = v.read_lock::<Range<INT>>() {
        return exclusive(&r);
    }
    if let Some(r) = v.read_lock::<RangeInclusive<INT>>() {
        return inclusive(&r);
    }
    Err(fail(
        format!("an owned mark is an int or a range, not {}", type_name(v)),
        Some(MARK_HELP.to_string()),
    ))
}

/// Adds `scope` to the script's scope, remembering the first call that declared one.
fn declare(ctx: &Ctx, nc: &NativeCallContext, mut scope: Scope) -> Result<(), Fail> {
    if ctx.mode == Mode::Repl {
        return Err(fail(
            format!("`{}` declares the scope of a script", nc.fn_name()),
            Some(
                "the REPL works on the whole table; use a scoped script with `lvsh plan` and \
                 `lvsh apply`"
                    .to_string(),
            ),
        ));
    }
    scope.origin = ctx.origin(nc).primary().clone();
    let mut reg = ctx.registry();
    match &mut reg.scope {
        Some(s) => s.add(scope),
        None => reg.scope = Some(scope),
    }
    Ok(())
}

fn addresses(items: impl IntoIterator<Item = Prefix>) -> Scope {
    Scope {
        addresses: items.into_iter().collect(),
        ..Scope::default()
    }
}

fn mark_ranges(items: impl IntoIterator<Item = MarkRange>) -> Scope {
    Scope {
        marks: items.into_iter().collect(),
        ..Scope::default()
    }
}

pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    let c = ctx.clone();
    engine.register_fn(
        "owns",
        move |nc: NativeCallContext, a: &str| -> Result<(), Fail> {
            declare(&c, &nc, addresses([prefix(a)?]))
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "owns",
        move |nc: NativeCallContext, list: Array| -> Result<(), Fail> {
            let items = list
                .iter()
                .map(|v| prefix(&string(v, "an owned address")?))
                .collect::<Result<Vec<_>, _>>()?;
            declare(&c, &nc, addresses(items))
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "owns_marks",
        move |nc: NativeCallContext, n: INT| -> Result<(), Fail> {
            declare(&c, &nc, mark_ranges([marks(n, n, n.to_string())?]))
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "owns_marks",
        move |nc: NativeCallContext, r: Range<INT>| -> Result<(), Fail> {
            declare(&c, &nc, mark_ranges([exclusive(&r)?]))
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "owns_marks",
        move |nc: NativeCallContext, r: RangeInclusive<INT>| -> Result<(), Fail> {
            declare(&c, &nc, mark_ranges([inclusive(&r)?]))
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "owns_marks",
        move |nc: NativeCallContext, list: Array| -> Result<(), Fail> {
            let items = list.iter().map(mark_item).collect::<Result<Vec<_>, _>>()?;
            declare(&c, &nc, mark_ranges(items))
        },
    );
}

#[cfg(test)]
mod tests {
    use crate::dsl::{Options, ScriptError, Session, evaluate_source};
    use crate::model::{Balancer, Scope};

    fn eval(src: &str, opts: &Options) -> Result<Balancer, ScriptError> {
        evaluate_source("s.rhai", src, None, opts).map(|e| e.balancer)
    }

    fn scope_of(src: &str) -> Option<Scope> {
        match eval(src, &Options::default()) {
            Ok(b) => b.scope,
            Err(e) => panic!("{}", e.render_plain()),
        }
    }

    fn err(src: &str) -> ScriptError {
        eval(src, &Options::default()).expect_err("an error")
    }

    #[test]
    fn a_script_without_owns_has_no_scope() {
        assert_eq!(scope_of("service(\"10.0.0.1\", 80);"), None);
    }

    #[test]
    fn every_form_adds_to_the_scope() {
        let s = scope_of(
            r#"
owns("192.168.10.0/24");
owns(["2001:db8::/64", "10.0.0.1"]);
owns_marks(7);
owns_marks(10..20);
owns_marks(30..=31);
owns_marks([40, 50..52, 60..=60]);
service("192.168.10.120", 80);
mark(15).vip("192.168.10.120");
"#,
        )
        .unwrap();
        assert_eq!(
            s.to_string(),
            "10.0.0.1, 192.168.10.0/24, 2001:db8::/64 and marks 7, 10-19, 30-31, 40, 50-51, 60"
        );
        assert_eq!(s.origin.pos().map(|p| p.line), Some(2), "the first call");
        // An empty list still makes the script scoped, owning nothing.
        let empty = scope_of("owns([]);").expect("scoped");
        assert!(empty.addresses.is_empty() && empty.marks.is_empty());
    }

    #[test]
    fn the_command_line_scope_adds_to_the_script_s() {
        let opts = Options {
            scope: Some(Scope {
                marks: ["10-20".parse().unwrap()].into(),
                ..Scope::default()
            }),
            ..Options::default()
        };
        let b = eval("owns(\"10.0.0.1\"); mark(12).vip(\"10.0.0.1\");", &opts).unwrap();
        assert_eq!(b.scope.unwrap().to_string(), "10.0.0.1 and marks 10-20");
        // Alone, it scopes an unscoped script.
        let e = eval("service(\"10.0.0.1\", 80);", &opts).unwrap_err();
        assert_eq!(
            e.message(),
            "service tcp 10.0.0.1:80 is outside the script's scope"
        );
        assert_eq!(
            e.help_text(),
            Some(
                "this script owns only marks 10-20; add `owns(\"10.0.0.1\")` or `--scope \
                 10.0.0.1` to own it, or leave it to whoever does"
            )
        );
    }

    #[test]
    fn an_object_outside_points_at_its_call_and_at_the_scope() {
        let e = err(r#"owns("192.168.10.0/24");
owns_marks(10..=20);
service("192.168.10.120", 80).persist();
service("192.168.11.1", 443);
"#);
        assert_eq!(
            e.message(),
            "service tcp 192.168.11.1:443 is outside the script's scope"
        );
        assert_eq!(e.location().unwrap().to_string(), "s.rhai:4:1");
        let text = e.render_plain();
        assert!(text.contains("outside the scope"), "{text}");
        assert!(text.contains("scope declared here"), "{text}");
        assert!(
            e.help_text()
                .unwrap()
                .starts_with("this script owns only 192.168.10.0/24 and marks 10-20;"),
            "{text}"
        );
    }

    #[test]
    fn marks_outside_are_reported_once_per_call() {
        let e = err(r#"owns_marks(10..20);
mark(20).vip("10.0.0.1").rs(rs("10.0.1.1"));
"#);
        assert_eq!(
            e.message(),
            "fwmark service 20 is outside the script's scope"
        );
        assert_eq!(e.reports().count(), 1, "{}", e.render_plain());
        assert!(e.help_text().unwrap().contains("`owns_marks(20)`"));
    }

    #[test]
    fn bad_declarations_are_errors_at_the_call() {
        for (src, msg) in [
            (
                "owns(\"192.168.10.120/24\");",
                "did you mean `192.168.10.0/24`",
            ),
            ("owns(\"vip\");", "`vip` is not an address or prefix"),
            ("owns([\"10.0.0.0/8\", 3]);", "must be a string, not int"),
            ("owns(\"10.0.0.0/40\");", "out of range 0..32"),
            ("owns_marks(0);", "mark 0 is out of range"),
            ("owns_marks(20..10);", "the range 20..10 holds no mark"),
            ("owns_marks(10..10);", "the range 10..10 holds no mark"),
            ("owns_marks(0..=3);", "mark 0 is out of range"),
            ("owns_marks(1..=4294967296);", "out of range 1..4294967295"),
            (
                "owns_marks([1, \"2\"]);",
                "an owned mark is an int or a range, not string",
            ),
        ] {
            let e = err(src);
            assert!(e.message().contains(msg), "{src}: {}", e.message());
            assert_eq!(e.location().unwrap().to_string(), "s.rhai:1:1", "{src}");
        }
    }

    #[test]
    fn the_repl_refuses_a_scope() {
        let mut s = Session::new(Options::default(), Balancer::default());
        let e = s.eval("<1>", "owns(\"10.0.0.1\");").unwrap_err();
        assert_eq!(e.message(), "`owns` declares the scope of a script");
        assert!(s.balancer().unwrap().scope.is_none());
    }
}
