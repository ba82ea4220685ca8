//! `sync_daemon(role, interface)`: the SyncDaemon handle and its methods.

use super::error::{Fail, fail};
use super::method::{Methods, method};
use super::state::{At, Ctx, DaemonHandle, Handle, Traced};
use super::values::{self, int_in};
use crate::model::validate::{MAX_IFNAME, MAX_SYNC_MAXLEN};
use crate::model::{DaemonState, SyncDaemon};
use crate::suggest::did_you_mean;
use rhai::{Engine, INT, NativeCallContext};
use std::{
    fmt,
    net::IpAddr,
    sync::{Arc, OnceLock},
};

/// A connection-sync daemon as the script builds it.
#[derive(Debug, Clone)]
pub(crate) struct DaemonDraft {
    pub state: DaemonState,
    pub interface: String,
    pub origin: At,
    pub syncid: Traced<u8>,
    pub maxlen: Traced<Option<u16>>,
    pub group: Traced<Option<IpAddr>>,
    pub port: Traced<Option<u16>>,
    pub ttl: Traced<Option<u8>>,
    pub removed: bool,
}

impl DaemonDraft {
    pub fn new(state: DaemonState, interface: String, origin: At) -> Self {
        DaemonDraft {
            state,
            interface,
            origin,
            syncid: Traced::new(0),
            maxlen: Traced::new(None),
            group: Traced::new(None),
            port: Traced::new(None),
            ttl: Traced::new(None),
            removed: false,
        }
    }

    pub fn from_model(d: &SyncDaemon) -> Self {
        let mut r = DaemonDraft::new(d.state, d.interface.clone(), At::of(d.origin.clone()));
        r.syncid.value = d.syncid;
        r.maxlen.value = d.maxlen;
        r.group.value = d.group;
        r.port.value = d.port;
        r.ttl.value = d.ttl;
        r
    }

    pub fn to_model(&self) -> SyncDaemon {
        let mut d = SyncDaemon::new(self.state, self.interface.clone());
        d.syncid = self.syncid.value;
        d.maxlen = self.maxlen.value;
        d.group = self.group.value;
        d.port = self.port.value;
        d.ttl = self.ttl.value;
        d.origin = self.origin.primary().clone();
        d
    }
}

impl fmt::Display for DaemonDraft {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sync daemon {} on {} syncid {}",
            self.state, self.interface, self.syncid.value
        )
    }
}

fn role(name: &str) -> Result<DaemonState, Fail> {
    match name {
        "master" => Ok(DaemonState::Master),
        "backup" => Ok(DaemonState::Backup),
        _ => Err(fail(
            format!(
                "unknown sync daemon role `{name}`{}",
                did_you_mean(name, ["master", "backup"])
            ),
            Some("roles: master (sends), backup (receives)".to_string()),
        )),
    }
}

fn interface(name: &str) -> Result<String, Fail> {
    if name.is_empty() || name.len() > MAX_IFNAME || name.contains(['/', ' ', '\0']) {
        return Err(fail(
            if name.is_empty() {
                "the interface name is empty".to_string()
            } else {
                format!(
                    "`{}` is not an interface name",
                    super::values::printable(name)
                )
            },
            Some(format!(
                "interface names are 1..{MAX_IFNAME} bytes without `/` or spaces"
            )),
        ));
    }
    Ok(name.to_string())
}

/// The SyncDaemon's builder methods (see `method.rs`), made once.
pub(crate) fn methods() -> &'static Methods<DaemonDraft> {
    static METHODS: OnceLock<Methods<DaemonDraft>> = OnceLock::new();
    METHODS.get_or_init(|| {
        let mut m = Methods::<DaemonDraft>::new();
        method!(m, "syncid", |d, at, id: INT| {
            d.syncid.set(int_in(id, 0, 255, "syncid")? as u8, at);
            Ok(())
        });
        method!(m, "maxlen", |d, at, n: INT| {
            d.maxlen.set(
                Some(int_in(n, 1, MAX_SYNC_MAXLEN as INT, "sync maxlen")? as u16),
                at,
            );
            Ok(())
        });
        method!(m, "group", |d, at, addr: &str| {
            let g = values::address(addr)?;
            if !g.is_multicast() {
                return Err(fail(
                    format!("sync group {g} is not a multicast address"),
                    Some("the kernel's defaults are 224.0.0.81 and ff02::81".to_string()),
                ));
            }
            d.group.set(Some(g), at);
            Ok(())
        });
        method!(m, "port", |d, at, p: INT| {
            d.port
                .set(Some(int_in(p, 1, 65535, "sync port")? as u16), at);
            Ok(())
        });
        method!(m, "ttl", |d, at, t: INT| {
            d.ttl.set(Some(int_in(t, 1, 255, "sync ttl")? as u8), at);
            Ok(())
        });
        method!(m, "remove", |d, _| {
            d.removed = true;
            Ok(())
        });
        m
    })
}

/// `sync_daemon(state, interface)`; the REPL re-opens the daemon of that state.
pub(crate) fn sync_daemon(
    ctx: &Ctx,
    state: &str,
    ifname: &str,
    at: At,
) -> Result<DaemonHandle, Fail> {
    let state = role(state)?;
    let ifname = interface(ifname)?;
    let mut reg = ctx.registry();
    if ctx.mode == super::state::Mode::Repl {
        if let Some(h) = reg.daemons.iter().find(|h| {
            let d = h.lock();
            d.state == state && !d.removed
        }) {
            h.lock().interface = ifname;
            return Ok(h.clone());
        }
    }
    let h = Handle::new(DaemonDraft::new(state, ifname, at));
    reg.daemons.push(h.clone());
    Ok(h)
}

pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    methods().register(engine, ctx);
    engine.register_type_with_name::<DaemonHandle>("SyncDaemon");
    engine.register_fn("to_string", |h: &mut DaemonHandle| h.lock().to_string());
    engine.register_fn("to_debug", |h: &mut DaemonHandle| h.lock().to_string());

    let c = ctx.clone();
    engine.register_fn(
        "sync_daemon",
        move |nc: NativeCallContext, state: &str, ifname: &str| -> Result<DaemonHandle, Fail> {
            sync_daemon(&c, state, ifname, c.origin(&nc))
        },
    );
}
