//! The sandboxed engine: no `eval`, strict variables, limits, our own module
//! resolver, captured print/debug, and the lvsh bindings.

use super::resolver::Resolver;
use super::state::{Ctx, lock};
use super::{address, check, daemon, params, real_server, scope, service, sysctl, timeouts};
use rhai::{
    Dynamic, Engine, INT, ImmutableString, Module, Shared,
    packages::{
        ArithmeticPackage, BasicArrayPackage, BasicBlobPackage, BasicFnPackage,
        BasicIteratorPackage, BasicMapPackage, BasicMathPackage, BasicStringPackage,
        BitFieldPackage, DebuggingPackage, LogicPackage, MoreStringPackage, Package,
    },
};
use std::{
    path::PathBuf,
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

/// A script that runs longer than this is stopped (an endless loop, most likely).
/// Under the fuzzer a fiftieth, so that the many endless loops it writes cost it little.
pub(crate) const MAX_OPERATIONS: u64 = if cfg!(fuzzing) { 1_000_000 } else { 50_000_000 };
/// Operations count steps, not the work inside one (`pad` of a string to a megabyte is
/// one operation), so a script is also stopped when it has run this long.
pub(crate) const MAX_RUN_TIME: Duration = if cfg!(fuzzing) {
    Duration::from_secs(1)
} else {
    Duration::from_secs(60)
};
/// The clock is read every this many operations: one operation takes at most some
/// tens of milliseconds (a sort of the largest array), so the limit is kept within
/// a second or two.
const CLOCK_EVERY: u64 = 16;
/// What the engine is terminated with when [`MAX_RUN_TIME`] is up.
pub(crate) const OUT_OF_TIME: &str = "lvsh: out of time";
pub(crate) const MAX_CALL_LEVELS: usize = 64;
pub(crate) const MAX_EXPR_DEPTH: usize = 64;
pub(crate) const MAX_FN_EXPR_DEPTH: usize = 32;
pub(crate) const MAX_STRING: usize = 1 << 20;
pub(crate) const MAX_ARRAY: usize = 100_000;
pub(crate) const MAX_MAP: usize = 10_000;
pub(crate) const MAX_MODULES: usize = 64;

/// A resolver for the stdlib, `lib_dirs`, `base_dir` (the script's own directory)
/// and a site's recipe libraries (`@NAME/…`).
pub(crate) fn resolver(
    ctx: &Arc<Ctx>,
    lib_dirs: &[PathBuf],
    base_dir: Option<PathBuf>,
    libraries: Option<Arc<crate::recipes::Libraries>>,
) -> super::resolver::Shared {
    super::resolver::Shared(Arc::new(Resolver::new(
        ctx.clone(),
        lib_dirs.to_vec(),
        base_dir,
        libraries,
    )))
}

/// Keeps rhai's call stack, so a call inside an imported module can be traced back
/// to the line of the top-level script that led to it. Costs a little per call, so
/// it is only on for scripts that import.
pub(crate) fn track_calls(e: &mut Engine) {
    #[allow(deprecated)] // "volatile", not deprecated: rhai marks its debugger API so.
    e.register_debugger(
        |_, d| d,
        |_, _, _, _, _| Ok(rhai::debugger::DebuggerCommand::Continue),
    );
}

/// Functions of rhai's standard library that scripts do not get: the clock and
/// waiting (`sleep` blocks past the operation limit while lvsh holds the apply
/// lock), and `exit`, which ends a script early with half a model. rhai cannot drop
/// single functions from a package, so the packages that hold them are left out
/// whole (the time package; the language core, whose other functions, `take`,
/// `tag`, `parse_json` and `get_fn_metadata_list`, a balancer does not need).
pub(crate) const REMOVED: &[&str] = &["sleep", "timestamp", "elapsed", "exit"];

/// Rhai's standard library without the clock, waiting and `exit` (see `REMOVED`),
/// made once per process: `StandardPackage` less `LanguageCorePackage` and
/// `BasicTimePackage`, in its order. Lazy: a function is looked up in the packages'
/// static tables when a script first calls it, instead of every one (hundreds)
/// being registered at start, which dominated the start of a run.
fn standard_package() -> Shared<Module> {
    static STD: OnceLock<Shared<Module>> = OnceLock::new();
    STD.get_or_init(|| {
        let mut m = Module::new();
        // Each `init` also marks the module as rhai's standard library, which the
        // optimizer relies on to fold operators on constants.
        ArithmeticPackage::init(&mut m);
        BasicStringPackage::init(&mut m);
        BasicIteratorPackage::init(&mut m);
        BasicFnPackage::init(&mut m);
        DebuggingPackage::init(&mut m);
        BitFieldPackage::init(&mut m);
        LogicPackage::init(&mut m);
        BasicMathPackage::init(&mut m);
        BasicArrayPackage::init(&mut m);
        BasicBlobPackage::init(&mut m);
        BasicMapPackage::init(&mut m);
        MoreStringPackage::init(&mut m);
        m.build_index();
        m.into()
    })
    .clone()
}

/// `to_string` of an int, as rhai's generic one prints it but without formatting
/// through `Dynamic` and looking the text up as a type name: string interpolation
/// of ints (`` `10.0.${i}.1` ``) calls it for every value.
fn int_to_string(n: INT) -> ImmutableString {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let digits = std::str::from_utf8(&buf[i..]).unwrap_or_default();
    if n < 0 {
        format!("-{digits}").into()
    } else {
        digits.into()
    }
}

/// An engine whose bindings record into `ctx`.
pub(crate) fn build(ctx: &Arc<Ctx>, resolver: super::resolver::Shared) -> Engine {
    let mut e = Engine::new_raw();
    e.register_global_module(standard_package());
    e.register_fn("to_string", int_to_string);
    e.set_strict_variables(true);
    e.disable_symbol("eval");
    e.set_max_operations(MAX_OPERATIONS);
    let c = ctx.clone();
    e.on_progress(move |ops| {
        (ops % CLOCK_EVERY == 0 && Instant::now() > *lock(&c.deadline))
            .then(|| Dynamic::from(OUT_OF_TIME))
    });
    e.set_max_call_levels(MAX_CALL_LEVELS);
    e.set_max_expr_depths(MAX_EXPR_DEPTH, MAX_FN_EXPR_DEPTH);
    e.set_max_string_size(MAX_STRING);
    e.set_max_array_size(MAX_ARRAY);
    e.set_max_map_size(MAX_MAP);
    e.set_max_modules(MAX_MODULES);
    e.set_module_resolver(resolver);
    let c = ctx.clone();
    e.on_print(move |s| c.print(s.to_string()));
    let c = ctx.clone();
    e.on_debug(move |s, src, pos| {
        let at = match (src, pos.line()) {
            (Some(src), Some(l)) => format!("{src}:{l}:{}", pos.position().unwrap_or(1)),
            (None, Some(l)) => format!("{l}:{}", pos.position().unwrap_or(1)),
            _ => String::new(),
        };
        c.print(format!("debug [{at}]: {s}"));
    });
    service::register(&mut e, ctx);
    real_server::register(&mut e, ctx);
    check::register(&mut e, ctx);
    daemon::register(&mut e, ctx);
    timeouts::register(&mut e, ctx);
    sysctl::register(&mut e, ctx);
    address::register(&mut e, ctx);
    params::register(&mut e, ctx);
    super::args::register(&mut e, ctx);
    scope::register(&mut e, ctx);
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsl::state::Mode;

    /// Every function a script can reach: ours, and rhai's that the engine loads.
    fn signatures() -> Vec<String> {
        let ctx = Ctx::new(Mode::Script, vec![]);
        build(&ctx, resolver(&ctx, &[], None, None)).gen_fn_signatures(true)
    }

    /// The name of a signature like `get$elapsed(timestamp: Instant) -> f64`.
    fn name(sig: &str) -> &str {
        let n = sig.split('(').next().unwrap_or(sig);
        let n = n.rsplit("::").next().unwrap_or(n);
        n.strip_prefix("get$")
            .or_else(|| n.strip_prefix("set$"))
            .unwrap_or(n)
    }

    #[test]
    fn no_function_reads_the_clock_or_waits() {
        let sigs = signatures();
        // The standard library is there (lazily), so the list below means something.
        for f in ["len", "to_upper", "sort", "max"] {
            assert!(sigs.iter().any(|s| name(s) == f), "no `{f}` in {sigs:?}");
        }
        let ours: Vec<String> = crate::dsl::docs::all()
            .into_iter()
            .map(|d| d.name)
            .collect();
        let suspicious = [
            "sleep", "wait", "time", "clock", "now", "elapsed", "env", "exit",
        ];
        let reachable: Vec<&String> = sigs
            .iter()
            .filter(|s| {
                let n = name(s).to_ascii_lowercase();
                REMOVED.contains(&name(s))
                    || (suspicious.iter().any(|w| n.contains(w))
                        && !ours.iter().any(|o| o == name(s)))
                    || s.contains("Instant")
                    || s.contains("Duration")
                    || s.contains("timestamp")
            })
            .collect();
        assert!(reachable.is_empty(), "scripts can reach {reachable:?}");
        for f in ["sleep", "timestamp", "elapsed", "exit"] {
            assert!(REMOVED.contains(&f), "`{f}` is not listed as removed");
        }
    }
    use rhai::EvalAltResult;

    #[test]
    fn ints_print_as_rhai_prints_them() {
        for n in [0, 7, -7, 10, 250, -1000, INT::MAX, INT::MIN] {
            assert_eq!(
                int_to_string(n).as_str(),
                format!("{}", rhai::Dynamic::from(n))
            );
        }
    }

    /// Found with a hand-made input of the `script` fuzz target (the fuzzer itself
    /// only ever ran with its smaller limits): each `pad` to a large string is one
    /// operation, so a loop of them ran for hours within the operation limit.
    #[test]
    fn expensive_operations_are_stopped_by_the_clock() {
        let ctx = Ctx::new(Mode::Script, Vec::new());
        let engine = build(&ctx, resolver(&ctx, &[], None, None));
        *lock(&ctx.deadline) = Instant::now() + Duration::from_millis(200);
        let started = Instant::now();
        let err = engine
            .run(r#"let m = #{}; for i in 0..1000000 { m.x = "x"; m.x.pad(100000, "y"); }"#)
            .unwrap_err();
        match *err {
            EvalAltResult::ErrorTerminated(token, _) => {
                assert_eq!(token.into_string().unwrap(), OUT_OF_TIME)
            }
            other => panic!("not stopped by the clock: {other}"),
        }
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}
