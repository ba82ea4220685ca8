//! Builder methods of the DSL's types (the handles, and checks), kept in one table
//! per type: rhai gets them registered from it, and the evaluator of literal
//! statements (`literal.rs`) looks them up in it, so both run the same bodies.
//!
//! Each method's body is a plain `fn`, and the closure rhai calls is one generic
//! closure per handle type and parameter list, not one per method: registering a
//! closure instantiates a good deal of rhai's generic code, and code that runs once
//! at start is what an emulated CPU spends its time on (translating it).

use super::check::CheckDraft;
use super::error::Fail;
use super::state::{At, Ctx, Handle, RealServerHandle};
use rhai::{Array, Dynamic, Engine, FLOAT, INT, NativeCallContext, Variant};
use std::sync::Arc;

/// What a method does to the locked object, given the call's script position.
pub(crate) type Body<T, A> = fn(&mut T, At, A) -> Result<(), Fail>;
/// A body taking a string (`.scheduler("rr")`).
pub(crate) type StrBody<T> = for<'a> fn(&mut T, At, &'a str) -> Result<(), Fail>;
/// A body taking a string and an int (`.tun("gue", 6080)`).
pub(crate) type StrIntBody<T> = for<'a> fn(&mut T, At, (&'a str, INT)) -> Result<(), Fail>;

/// A method's body, by the arguments it takes: rhai picks among methods of one
/// name by the types of the arguments, and so does [`MethodFn::call`].
pub(crate) enum MethodFn<T> {
    Unit(Body<T, ()>),
    Int(Body<T, INT>),
    Float(Body<T, FLOAT>),
    Str(StrBody<T>),
    StrInt(StrIntBody<T>),
    Array(Body<T, Array>),
    Check(Body<T, CheckDraft>),
    Server(Body<T, RealServerHandle>),
    /// Any argument: rhai tries it only when no method takes the argument's type.
    Any(Body<T, Dynamic>),
}

/// The argument types a method body can take besides strings.
pub(crate) trait Arg: Variant + Clone {
    fn wrap<T>(body: Body<T, Self>) -> MethodFn<T>;
}

/// `impl Arg for TYPE` for each `TYPE => VARIANT`.
macro_rules! args {
    ($($ty:ty => $variant:ident),*) => {
        $(impl Arg for $ty {
            fn wrap<T>(body: Body<T, Self>) -> MethodFn<T> {
                MethodFn::$variant(body)
            }
        })*
    };
}

args!(INT => Int, FLOAT => Float, Dynamic => Any, Array => Array, CheckDraft => Check, RealServerHandle => Server);

/// An argument of a call the literal evaluator makes (`literal.rs`), as the
/// types rhai would see: each is `Some` only for a value of exactly that type.
pub(crate) trait ArgValue {
    fn int(&self) -> Option<INT>;
    fn float(&self) -> Option<FLOAT>;
    fn str(&self) -> Option<&str>;
    fn array(&self) -> Option<Array>;
    fn check(&self) -> Option<CheckDraft>;
    fn server(&self) -> Option<RealServerHandle>;
    /// Any value, for a method that takes any argument.
    fn dynamic(&self) -> Dynamic;
}

impl<T> MethodFn<T> {
    /// Runs the body on `d` when `args` have the types it takes, exactly (what rhai
    /// requires of a method registered with those types); `None`, having done
    /// nothing, when they do not.
    pub fn call(&self, d: &mut T, at: At, args: &[impl ArgValue]) -> Option<Result<(), Fail>> {
        Some(match (self, args) {
            (MethodFn::Unit(body), []) => body(d, at, ()),
            (MethodFn::Int(body), [a]) => body(d, at, a.int()?),
            (MethodFn::Float(body), [a]) => body(d, at, a.float()?),
            (MethodFn::Str(body), [a]) => body(d, at, a.str()?),
            (MethodFn::StrInt(body), [a, n]) => body(d, at, (a.str()?, n.int()?)),
            (MethodFn::Array(body), [a]) => body(d, at, a.array()?),
            (MethodFn::Check(body), [a]) => body(d, at, a.check()?),
            (MethodFn::Server(body), [a]) => body(d, at, a.server()?),
            (MethodFn::Any(body), [a]) => body(d, at, a.dynamic()),
            _ => return None,
        })
    }
}

/// The builder methods of one type, by name.
pub(crate) struct Methods<T>(Vec<(&'static str, MethodFn<T>)>);

impl<T: Clone + Send + Sync + 'static> Methods<T> {
    pub fn new() -> Self {
        Methods(Vec::new())
    }

    pub fn add(&mut self, name: &'static str, body: MethodFn<T>) {
        self.0.push((name, body));
    }

    /// Runs on `d` the method called `name` that takes `args`, picked as rhai
    /// picks it (one taking their types, else one taking any argument); `None`
    /// when there is none.
    pub fn call(
        &self,
        d: &mut T,
        name: &str,
        args: &[impl ArgValue],
        at: At,
    ) -> Option<Result<(), Fail>> {
        let named = || {
            self.0
                .iter()
                .filter(move |(n, _)| *n == name)
                .map(|(_, m)| m)
        };
        let typed = named().filter(|m| !matches!(m, MethodFn::Any(_)));
        let any = named().filter(|m| matches!(m, MethodFn::Any(_)));
        typed.chain(any).find_map(|m| m.call(d, at.clone(), args))
    }

    /// Registers each as `name(&mut Handle<T>, args..) -> Handle<T>`.
    pub fn register(&self, engine: &mut Engine, ctx: &Arc<Ctx>) {
        for (name, body) in &self.0 {
            match *body {
                MethodFn::Unit(b) => method0(engine, ctx, name, b),
                MethodFn::Int(b) => method1(engine, ctx, name, b),
                MethodFn::Float(b) => method1(engine, ctx, name, b),
                MethodFn::Str(b) => method_str(engine, ctx, name, b),
                MethodFn::StrInt(b) => method_str_int(engine, ctx, name, b),
                MethodFn::Array(b) => method1(engine, ctx, name, b),
                MethodFn::Check(b) => method1(engine, ctx, name, b),
                MethodFn::Server(b) => method1(engine, ctx, name, b),
                MethodFn::Any(b) => method1(engine, ctx, name, b),
            }
        }
    }
}

impl<T: Variant + Clone> Methods<T> {
    /// Registers each as `name(T, args..) -> T` for a type that is a value, not a
    /// handle: the method changes a copy and returns it.
    pub fn register_values(&self, engine: &mut Engine, ctx: &Arc<Ctx>) {
        for (name, body) in &self.0 {
            match *body {
                MethodFn::Unit(b) => value_method0(engine, ctx, name, b),
                MethodFn::Int(b) => value_method1(engine, ctx, name, b),
                MethodFn::Float(b) => value_method1(engine, ctx, name, b),
                MethodFn::Str(b) => value_method_str(engine, ctx, name, b),
                MethodFn::StrInt(_) => unreachable!("no value type has a (string, int) method"),
                MethodFn::Array(b) => value_method1(engine, ctx, name, b),
                MethodFn::Check(b) => value_method1(engine, ctx, name, b),
                MethodFn::Server(b) => value_method1(engine, ctx, name, b),
                MethodFn::Any(b) => value_method1(engine, ctx, name, b),
            }
        }
    }
}

/// `name(T) -> T`.
fn value_method0<T: Variant + Clone>(
    engine: &mut Engine,
    ctx: &Arc<Ctx>,
    name: &str,
    body: Body<T, ()>,
) {
    let c = ctx.clone();
    engine.register_fn(
        name,
        move |nc: NativeCallContext, mut d: T| -> Result<T, Fail> {
            body(&mut d, c.origin(&nc), ())?;
            Ok(d)
        },
    );
}

/// `name(T, A) -> T`.
fn value_method1<T: Variant + Clone, A: Variant + Clone>(
    engine: &mut Engine,
    ctx: &Arc<Ctx>,
    name: &str,
    body: Body<T, A>,
) {
    let c = ctx.clone();
    engine.register_fn(
        name,
        move |nc: NativeCallContext, mut d: T, a: A| -> Result<T, Fail> {
            body(&mut d, c.origin(&nc), a)?;
            Ok(d)
        },
    );
}

/// `name(T, string) -> T`.
fn value_method_str<T: Variant + Clone>(
    engine: &mut Engine,
    ctx: &Arc<Ctx>,
    name: &str,
    body: StrBody<T>,
) {
    let c = ctx.clone();
    engine.register_fn(
        name,
        move |nc: NativeCallContext, mut d: T, s: &str| -> Result<T, Fail> {
            body(&mut d, c.origin(&nc), s)?;
            Ok(d)
        },
    );
}

/// `name(&mut Handle)`.
fn method0<T: Clone + Send + Sync + 'static>(
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
fn method1<T: Clone + Send + Sync + 'static, A: Variant + Clone>(
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
fn method_str<T: Clone + Send + Sync + 'static>(
    engine: &mut Engine,
    ctx: &Arc<Ctx>,
    name: &str,
    body: StrBody<T>,
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
fn method_str_int<T: Clone + Send + Sync + 'static>(
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

/// Adds a method to a table (`Methods<T>`, which says the type): `body` changes
/// the object, with `$at` the call's script position (see [`Methods`] for what
/// rhai's call returns). A body that records no position names it `_`; the
/// compiler flags one that forgets it.
macro_rules! method {
    ($table:expr, $name:literal, |$d:ident, $at:pat_param| $body:expr) => {
        $table.add($name, super::method::MethodFn::Unit(|$d, $at, ()| $body))
    };
    ($table:expr, $name:literal, |$d:ident, $at:pat_param, $a:ident : &str| $body:expr) => {
        $table.add($name, super::method::MethodFn::Str(|$d, $at, $a| $body))
    };
    ($table:expr, $name:literal, |$d:ident, $at:pat_param, $a:ident : &str, $b:ident : INT| $body:expr) => {
        $table.add(
            $name,
            super::method::MethodFn::StrInt(|$d, $at, ($a, $b)| $body),
        )
    };
    ($table:expr, $name:literal, |$d:ident, $at:pat_param, $a:ident : $ty:ty| $body:expr) => {
        $table.add(
            $name,
            <$ty as super::method::Arg>::wrap(|$d, $at, $a: $ty| $body),
        )
    };
}

pub(crate) use method;
