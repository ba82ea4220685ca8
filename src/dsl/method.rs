//! Builder methods of the DSL's handle types, registered one way for all of them.

/// Registers `name(&mut Handle, args..)`: runs `body` on the locked object, with `$at`
/// the call's script position, and returns the same handle so calls chain.
macro_rules! handle_method {
    ($handle:ty, $engine:expr, $ctx:expr, $name:literal, |$d:ident, $at:ident $(, $arg:ident : $ty:ty)*| $body:expr) => {{
        let c = $ctx.clone();
        $engine.register_fn(
            $name,
            move |nc: NativeCallContext, h: &mut $handle $(, $arg: $ty)*| -> Result<$handle, Fail> {
                #[allow(unused_variables)]
                let $at = c.origin(&nc);
                {
                    let mut guard = h.lock();
                    #[allow(unused_variables)]
                    let $d = &mut *guard;
                    #[allow(clippy::redundant_closure_call)]
                    let r: Result<(), Fail> = (|| $body)();
                    r?;
                }
                Ok(h.clone())
            },
        );
    }};
}

pub(crate) use handle_method;
