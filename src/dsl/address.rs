//! `address("192.168.10.120/32", "eth0")`: a VIP address lvsh puts on an interface
//! (marked as lvsh's, see [`crate::model::address`]). Checked here as text; whether
//! the interface exists is checked against the kernel when planning.

use super::error::{Fail, fail};
use super::state::{At, Ctx, Mode};
use crate::model::HostAddress;
use rhai::{Engine, NativeCallContext};
use std::sync::Arc;

/// One `address()` call: duplicates are kept until the model is built, which reports
/// them with both places.
#[derive(Debug, Clone)]
pub(crate) struct AddressDraft {
    pub address: HostAddress,
    pub at: At,
}

/// `address(cidr, interface)`.
pub(crate) fn address(ctx: &Ctx, cidr: &str, interface: &str, at: At) -> Result<(), Fail> {
    let address = HostAddress::parse(cidr, interface).map_err(|why| {
        fail(
            why,
            Some(
                "`address(\"192.168.10.120/32\", \"eth0\")`: an address with an \
                 optional prefix length, and an interface name"
                    .to_string(),
            ),
        )
    })?;
    let draft = AddressDraft { address, at };
    let mut reg = ctx.registry();
    // The REPL re-opens what it already holds; a script's second one is reported.
    let again = reg.addresses.iter().any(|d| d.address == draft.address);
    if !(again && ctx.mode == Mode::Repl) {
        reg.addresses.push(draft);
    }
    Ok(())
}

pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    let c = ctx.clone();
    engine.register_fn(
        "address",
        move |nc: NativeCallContext, cidr: &str, interface: &str| -> Result<(), Fail> {
            address(&c, cidr, interface, c.origin(&nc))
        },
    );
}

#[cfg(test)]
mod tests {
    use crate::dsl::{Evaluated, Options, ScriptError, Session, evaluate_source};
    use crate::model::{Balancer, HostAddress};

    fn eval(src: &str) -> Result<Evaluated, ScriptError> {
        evaluate_source("test.rhai", src, None, &Options::default())
    }

    #[test]
    fn addresses_with_their_places() {
        let b = eval(
            "address(\"192.168.10.120/32\", \"eth0\");\naddress(\"2001:db8::120\", \"lo\");\n",
        )
        .unwrap_or_else(|e| panic!("{}", e.render_plain()))
        .balancer;
        let v4 = HostAddress::parse("192.168.10.120/32", "eth0").unwrap();
        assert!(b.addresses.contains(&v4));
        assert_eq!(b.addresses.len(), 2);
        let at = b.addresses.origin(&v4).unwrap().pos().unwrap();
        assert_eq!((at.line, at.column), (1, 1));
        assert!(Session::functions().iter().any(|d| d.name == "address"));
    }

    #[test]
    fn bad_addresses_and_duplicates_point_at_the_call() {
        let e = eval("let x = 1;\n  address(\"192.168.10.120/40\", \"eth0\");").unwrap_err();
        assert_eq!(
            e.message(),
            "`192.168.10.120/40`: the prefix length is 0..32"
        );
        assert_eq!(e.location().unwrap().to_string(), "test.rhai:2:3");
        let e = eval("address(\"10.0.0.1\", \"eth0:1\");").unwrap_err();
        assert!(
            e.message().contains("is not an interface name"),
            "{}",
            e.message()
        );
        let e =
            eval("address(\"10.0.0.1\", \"lo\");\naddress(\"10.0.0.1/32\", \"lo\");").unwrap_err();
        assert_eq!(e.message(), "address 10.0.0.1/32 on lo is declared twice");
        let text = e.render_plain();
        assert!(
            text.contains("first here") && text.contains("again here"),
            "{text}"
        );
        // The REPL re-opens it instead.
        let mut s = Session::new(Options::default(), Balancer::default());
        s.eval("<1>", r#"address("10.0.0.1", "lo");"#).unwrap();
        s.eval("<2>", r#"address("10.0.0.1", "lo");"#).unwrap();
        assert_eq!(s.balancer().unwrap().addresses.len(), 1);
    }
}
