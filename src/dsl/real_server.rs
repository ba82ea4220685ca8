//! `rs(addr)`: the RealServer handle and its methods.

use super::check::CheckDraft;
use super::error::{Fail, fail};
use super::method::{Methods, method};
use super::state::{At, Ctx, Handle, Mode, RealServerHandle, Traced};
use super::values::{self, int_in};
use crate::model::validate::{MAX_SLOW_START, MAX_THRESHOLD, MAX_WEIGHT};
use crate::model::{Dest, Forward, TunnelChecksum, TunnelKind};
use crate::suggest::did_you_mean;
use rhai::{Engine, INT, NativeCallContext};
use std::{
    fmt,
    net::IpAddr,
    sync::{Arc, OnceLock},
};

/// A real server as the script builds it. It becomes one destination in every
/// service it is attached to, with the values it has at the end of the script.
#[derive(Debug, Clone)]
pub(crate) struct RealServerDraft {
    pub address: IpAddr,
    /// `None`: the service's port (0 for fwmark services).
    pub port: Option<u16>,
    pub origin: At,
    pub forward: Traced<Forward>,
    /// `.csum()` / `.remcsum()`, applied to the tunnel when there is one.
    pub checksum: Traced<Option<TunnelChecksum>>,
    pub weight: Traced<u32>,
    pub upper: Traced<u32>,
    pub lower: Traced<u32>,
    /// Decides this server's health instead of the service's check. Boxed: a
    /// draft inline is 240 bytes that few servers use, of a draft of 352.
    pub check: Traced<Option<Box<CheckDraft>>>,
    pub slow_start: Traced<Option<u32>>,
}

impl RealServerDraft {
    pub fn new(address: IpAddr, port: Option<u16>, origin: At) -> Self {
        RealServerDraft {
            address,
            port,
            origin,
            forward: Traced::new(Forward::Route),
            checksum: Traced::new(None),
            weight: Traced::new(crate::model::DEFAULT_WEIGHT),
            upper: Traced::new(0),
            lower: Traced::new(0),
            check: Traced::new(None),
            slow_start: Traced::new(None),
        }
    }

    pub fn from_model(d: &Dest) -> Self {
        let mut r = RealServerDraft::new(d.key.address, Some(d.key.port), At::of(d.origin.clone()));
        r.forward.value = d.forward;
        r.weight.value = d.weight;
        r.upper.value = d.upper_threshold;
        r.lower.value = d.lower_threshold;
        r
    }

    /// Address and port inside a service whose destinations default to `service_port`.
    pub fn key(&self, service_port: u16) -> (IpAddr, u16) {
        (self.address, self.port.unwrap_or(service_port))
    }
}

impl fmt::Display for RealServerDraft {
    /// `rs 10.0.0.1:8080 nat weight 3`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.address, self.port) {
            (a, None) => write!(f, "rs {a}")?,
            (IpAddr::V6(a), Some(p)) => write!(f, "rs [{a}]:{p}")?,
            (a, Some(p)) => write!(f, "rs {a}:{p}")?,
        }
        write!(f, " {} weight {}", self.forward.value, self.weight.value)?;
        if self.upper.value != 0 {
            write!(f, " u_threshold {}", self.upper.value)?;
        }
        if self.lower.value != 0 {
            write!(f, " l_threshold {}", self.lower.value)?;
        }
        if let Some(c) = &self.check.value {
            write!(f, " check {}", c.check.kind.name())?;
        }
        if let Some(s) = self.slow_start.value {
            write!(f, " slow_start {s}")?;
        }
        Ok(())
    }
}

/// `rs(..)`: a new real server, tracked by the REPL for undo.
pub(crate) fn create(
    ctx: &Ctx,
    text: &str,
    port: Option<u16>,
    origin: At,
) -> Result<RealServerHandle, Fail> {
    let (address, inline) = values::address_port(text)?;
    if port.is_some() && inline.is_some() {
        return Err(fail(
            format!("`{text}` already has a port"),
            Some("give the port once: `rs(\"10.0.0.1:80\")` or `rs(\"10.0.0.1\", 80)`".to_string()),
        ));
    }
    let h = Handle::new(RealServerDraft::new(address, port.or(inline), origin));
    if ctx.mode == Mode::Repl {
        ctx.registry().servers.push(h.clone());
    }
    Ok(h)
}

/// `rs(addr, port)`.
pub(crate) fn create_with_port(
    ctx: &Ctx,
    text: &str,
    port: INT,
    origin: At,
) -> Result<RealServerHandle, Fail> {
    create(ctx, text, Some(values::port(port, "port")?), origin)
}

fn tunnel(kind: &str, port: Option<INT>) -> Result<Forward, Fail> {
    let names = ["ipip", "gre", "gue"];
    let k = TunnelKind::parse(kind).ok_or_else(|| {
        fail(
            format!("unknown tunnel type `{kind}`{}", did_you_mean(kind, names)),
            Some("tunnel types: ipip (default), gre, gue".to_string()),
        )
    })?;
    let port = match (k, port) {
        (TunnelKind::Gue, None) => {
            return Err(fail(
                "a gue tunnel needs a port",
                Some("give the remote GUE port: `.tun(\"gue\", 6080)`".to_string()),
            ));
        }
        (TunnelKind::Gue, Some(p)) => int_in(p, 1, 65535, "gue port")? as u16,
        (_, Some(_)) => {
            return Err(fail(
                format!("only gue tunnels take a port, not {kind}"),
                Some(format!("write `.tun(\"{kind}\")`")),
            ));
        }
        (_, None) => 0,
    };
    Ok(Forward::Tunnel {
        kind: k,
        port,
        checksum: TunnelChecksum::None,
    })
}

/// The RealServer's builder methods (see `method.rs`), made once.
pub(crate) fn methods() -> &'static Methods<RealServerDraft> {
    static METHODS: OnceLock<Methods<RealServerDraft>> = OnceLock::new();
    METHODS.get_or_init(|| {
        let mut m = Methods::<RealServerDraft>::new();
        method!(m, "dr", |d, at| {
            d.forward.set(Forward::Route, at);
            Ok(())
        });
        method!(m, "nat", |d, at| {
            d.forward.set(Forward::Masq, at);
            Ok(())
        });
        method!(m, "tun", |d, at| {
            d.forward.set(tunnel("ipip", None)?, at);
            Ok(())
        });
        method!(m, "tun", |d, at, kind: &str| {
            d.forward.set(tunnel(kind, None)?, at);
            Ok(())
        });
        method!(m, "tun", |d, at, kind: &str, port: INT| {
            d.forward.set(tunnel(kind, Some(port))?, at);
            Ok(())
        });
        method!(m, "csum", |d, at| {
            d.checksum.set(Some(TunnelChecksum::Csum), at);
            Ok(())
        });
        method!(m, "remcsum", |d, at| {
            d.checksum.set(Some(TunnelChecksum::Remcsum), at);
            Ok(())
        });
        method!(m, "weight", |d, at, w: INT| {
            d.weight
                .set(int_in(w, 0, MAX_WEIGHT as INT, "weight")? as u32, at);
            Ok(())
        });
        method!(m, "u_threshold", |d, at, n: INT| {
            d.upper.set(
                int_in(n, 0, MAX_THRESHOLD as INT, "upper threshold")? as u32,
                at,
            );
            Ok(())
        });
        method!(m, "check", |d, at, c: CheckDraft| {
            d.check.set(Some(Box::new(c)), at);
            Ok(())
        });
        method!(m, "slow_start", |d, at, secs: INT| {
            let secs = int_in(secs, 1, MAX_SLOW_START as INT, "slow start").map_err(|_| {
                fail(
                    format!("slow start {secs} s is out of range 1..{MAX_SLOW_START}"),
                    Some(
                        "the seconds over which a risen server's weight climbs back to the script's"
                            .to_string(),
                    ),
                )
            })?;
            d.slow_start.set(Some(secs as u32), at);
            Ok(())
        });
        method!(m, "l_threshold", |d, at, n: INT| {
            d.lower.set(
                int_in(n, 0, MAX_THRESHOLD as INT, "lower threshold")? as u32,
                at,
            );
            Ok(())
        });
        m
    })
}

pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    methods().register(engine, ctx);
    engine.register_type_with_name::<RealServerHandle>("RealServer");
    engine.register_fn("to_string", |h: &mut RealServerHandle| h.lock().to_string());
    engine.register_fn("to_debug", |h: &mut RealServerHandle| h.lock().to_string());

    let c = ctx.clone();
    engine.register_fn(
        "rs",
        move |nc: NativeCallContext, addr: &str| -> Result<RealServerHandle, Fail> {
            create(&c, addr, None, c.origin(&nc))
        },
    );
    let c = ctx.clone();
    engine.register_fn(
        "rs",
        move |nc: NativeCallContext, addr: &str, port: INT| -> Result<RealServerHandle, Fail> {
            create_with_port(&c, addr, port, c.origin(&nc))
        },
    );
}

#[cfg(test)]
mod size {
    /// 40,000 of them are alive at once at 10,000 services × 4 (peak memory).
    #[test]
    fn a_real_server_draft_stays_small() {
        let size = std::mem::size_of::<super::RealServerDraft>();
        assert!(size <= 160, "RealServerDraft is {size} bytes");
    }
}
