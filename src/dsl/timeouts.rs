//! `timeouts(tcp, tcpfin, udp)` and `timeouts(#{..})`: the global connection timeouts.

use super::error::{Fail, fail};
use super::state::{At, Ctx, Mode, Traced};
use super::values::type_name;
use crate::model::Timeouts;
use crate::model::validate::MAX_TIMEOUT;
use crate::suggest::did_you_mean;
use rhai::{Engine, INT, Map, NativeCallContext};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub(crate) struct TimeoutsDraft {
    pub tcp: Traced<Option<u32>>,
    pub tcp_fin: Traced<Option<u32>>,
    pub udp: Traced<Option<u32>>,
}

impl TimeoutsDraft {
    pub fn from_model(t: &Timeouts) -> Self {
        TimeoutsDraft {
            tcp: Traced::new(t.tcp),
            tcp_fin: Traced::new(t.tcp_fin),
            udp: Traced::new(t.udp),
        }
    }

    pub fn to_model(&self) -> Timeouts {
        Timeouts {
            tcp: self.tcp.value,
            tcp_fin: self.tcp_fin.value,
            udp: self.udp.value,
        }
    }
}

const KEYS: [&str; 3] = ["tcp", "tcpfin", "udp"];

fn seconds(name: &str, v: INT) -> Result<u32, Fail> {
    if (1..=MAX_TIMEOUT as INT).contains(&v) {
        Ok(v as u32)
    } else {
        Err(fail(
            format!("{name} timeout {v} is out of range 1..{MAX_TIMEOUT}"),
            Some(
                "seconds, at most 31 days; leave a timeout out to keep the kernel's value"
                    .to_string(),
            ),
        ))
    }
}

/// Sets one timeout; a script may set each one once.
fn set(ctx: &Ctx, name: &str, value: u32, at: &At) -> Result<(), Fail> {
    let mut reg = ctx.registry();
    let slot = match name {
        "tcp" => &mut reg.timeouts.tcp,
        "tcpfin" => &mut reg.timeouts.tcp_fin,
        _ => &mut reg.timeouts.udp,
    };
    if ctx.mode == Mode::Script && slot.value.is_some() {
        let first = slot
            .at
            .primary()
            .pos()
            .map(|p| format!(" at {}:{}:{}", p.source, p.line, p.column))
            .unwrap_or_default();
        return Err(fail(
            format!("the {name} timeout is set twice (first{first})"),
            Some("set each timeout once".to_string()),
        ));
    }
    slot.set(Some(value), at.clone());
    Ok(())
}

/// `timeouts(tcp, tcpfin, udp)`.
pub(crate) fn timeouts(ctx: &Ctx, values: [INT; 3], at: At) -> Result<(), Fail> {
    // As with `ipvsadm --set`, 0 leaves a timeout unchanged.
    for (name, v) in KEYS.into_iter().zip(values) {
        if v != 0 {
            set(ctx, name, seconds(name, v)?, &at)?;
        }
    }
    Ok(())
}

pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    let c = ctx.clone();
    engine.register_fn(
        "timeouts",
        move |nc: NativeCallContext, tcp: INT, tcpfin: INT, udp: INT| -> Result<(), Fail> {
            timeouts(&c, [tcp, tcpfin, udp], c.origin(&nc))
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "timeouts",
        move |nc: NativeCallContext, map: Map| -> Result<(), Fail> {
            let at = c.origin(&nc);
            for (k, v) in &map {
                let key = match k.as_str() {
                    "tcp_fin" => "tcpfin",
                    k => k,
                };
                if !KEYS.contains(&key) {
                    return Err(fail(
                        format!("unknown timeout `{k}`{}", did_you_mean(k, KEYS)),
                        Some("keys: tcp, tcpfin, udp".to_string()),
                    ));
                }
                let n = v.as_int().map_err(|_| {
                    fail(
                        format!(
                            "the {key} timeout must be an int (seconds), not {}",
                            type_name(v)
                        ),
                        None,
                    )
                })?;
                set(&c, key, seconds(key, n)?, &at)?;
            }
            Ok(())
        },
    );
}
