//! Builder methods of the DSL's handle types, registered one way for all of them.
//!
//! Each method's body is a plain `fn`, and the closure rhai calls is one generic
//! closure per handle type and parameter list, not one per method: registering a
//! closure instantiates a good deal of rhai's generic code, and code that runs once
//! at start is what an emulated CPU spends its time on (translating it).

use super::error::Fail;
use super::state::{At, Ctx, Handle};
use rhai::{Engine, INT, NativeCallContext, Variant};
use std::sync::Arc;

/// What a method does to the locked object, given the call's script position.
pub(crate) type Body<T, A> = fn(&mut T, At, A) -> Result<(), Fail>;
/// A body taking a string and an int (`.tun("gue", 6080)`).
pub(crate) type StrIntBody<T> = for<'a> fn(&mut T, At, (&'a str, INT)) -> Result<(), Fail>;

/// The object type behind a handle type, so the macro can name it.
pub(crate) trait Inner {
    type T;
}

impl<T> Inner for Handle<T> {
    type T = T;
}

/// `name(&mut Handle)`.
pub(crate) fn method0<T: Clone + Send + Sync + 'static>(
    engine: &mut Engine,
    ctx: &Arc<Ctx>,
    name: &str,
    body: Body<T, ()>,
) {
    let c = ctx.clone();
    engine.register_fn(
        name,
        move |nc: NativeCallContext, h: &mut Handle<T>| -> Result<Handle<T>, Fail> {
            body(&mut h.lock(), c.origin(&nc), ())?;
            Ok(h.clone())
        },
    );
}

/// `name(&mut Handle, A)` for a value type (int, array).
pub(crate) fn method1<T: Clone + Send + Sync + 'static, A: Variant + Clone>(
    engine: &mut Engine,
    ctx: &Arc<Ctx>,
    name: &str,
    body: Body<T, A>,
) {
    let c = ctx.clone();
    engine.register_fn(
        name,
        move |nc: NativeCallContext, h: &mut Handle<T>, a: A| -> Result<Handle<T>, Fail> {
            body(&mut h.lock(), c.origin(&nc), a)?;
            Ok(h.clone())
        },
    );
}

/// `name(&mut Handle, string)`.
pub(crate) fn method_str<T: Clone + Send + Sync + 'static>(
    engine: &mut Engine,
    ctx: &Arc<Ctx>,
    name: &str,
    body: for<'a> fn(&mut T, At, &'a str) -> Result<(), Fail>,
) {
    let c = ctx.clone();
    engine.register_fn(
        name,
        move |nc: NativeCallContext, h: &mut Handle<T>, s: &str| -> Result<Handle<T>, Fail> {
            body(&mut h.lock(), c.origin(&nc), s)?;
            Ok(h.clone())
        },
    );
}

/// `name(&mut Handle, string, int)`.
pub(crate) fn method_str_int<T: Clone + Send + Sync + 'static>(
    engine: &mut Engine,
    ctx: &Arc<Ctx>,
    name: &str,
    body: StrIntBody<T>,
) {
    let c = ctx.clone();
    engine.register_fn(
        name,
        move |nc: NativeCallContext,
              h: &mut Handle<T>,
              s: &str,
              n: INT|
              -> Result<Handle<T>, Fail> {
            body(&mut h.lock(), c.origin(&nc), (s, n))?;
            Ok(h.clone())
        },
    );
}

/// Registers `name(&mut Handle, args..)`: runs `body` on the locked object, with `$at`
/// the call's script position, and returns the same handle so calls chain. A body
/// that records no position names it `_`; the compiler flags one that forgets it.
macro_rules! handle_method {
    ($handle:ty, $engine:expr, $ctx:expr, $name:literal, |$d:ident, $at:pat_param| $body:expr) => {
        super::method::method0::<<$handle as super::method::Inner>::T>(
            $engine,
            $ctx,
            $name,
            |$d, $at, ()| $body,
        )
    };
    ($handle:ty, $engine:expr, $ctx:expr, $name:literal, |$d:ident, $at:pat_param, $a:ident : &str| $body:expr) => {
        super::method::method_str::<<$handle as super::method::Inner>::T>(
            $engine,
            $ctx,
            $name,
            |$d, $at, $a| $body,
        )
    };
    ($handle:ty, $engine:expr, $ctx:expr, $name:literal, |$d:ident, $at:pat_param, $a:ident : &str, $b:ident : INT| $body:expr) => {
        super::method::method_str_int::<<$handle as super::method::Inner>::T>(
            $engine,
            $ctx,
            $name,
            |$d, $at, ($a, $b)| $body,
        )
    };
    ($handle:ty, $engine:expr, $ctx:expr, $name:literal, |$d:ident, $at:pat_param, $a:ident : $ty:ty| $body:expr) => {
        super::method::method1::<<$handle as super::method::Inner>::T, $ty>(
            $engine,
            $ctx,
            $name,
            |$d, $at, $a: $ty| $body,
        )
    };
}

pub(crate) use handle_method;
