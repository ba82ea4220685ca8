//! Scripts of literal statements, the shape `lvsh import` and `lvsh save` write
//! (`service("10.1.0.1", 80).scheduler("wrr").rs(rs("10.2.1.1:8080").nat());`),
//! evaluated without rhai: half of rhai's time on such a script is parsing it
//! into an AST of some 14 calls per service, the other half interpreting them.
//!
//! The statements call the same bodies rhai's bindings call (the handle types'
//! method tables, the constructors) with the script positions rhai would give,
//! so the drafts are the same, place for place. Anything outside the shape, and
//! any error, makes [`evaluate`] give up: the script is then evaluated by rhai
//! from the start, so every error message is rhai's and the bindings', never
//! this file's. Its limits are stricter than the engine's (see `MAX_DEPTH`), so
//! it never accepts what rhai would refuse.

use super::check::{self, CheckDraft};
use super::daemon;
use super::method::ArgValue;
use super::real_server;
use super::service;
use super::state::{At, Ctx, DaemonHandle, Mode, RealServerHandle, ServiceHandle};
use super::{address, sysctl, timeouts};
use crate::model::{CheckKind, Origin, Protocol};
use rhai::{Array, Dynamic, FLOAT, INT, ImmutableString};
use std::{borrow::Cow, sync::Arc};

/// Nesting a statement may reach: one level per call of a chain, `NESTING` per
/// call's arguments or list. rhai counts its parser's recursion against
/// `MAX_EXPR_DEPTH` (64) and refuses a chain of about 57 calls; a test keeps this
/// limit within what rhai accepts.
const MAX_DEPTH: usize = 54;
const NESTING: usize = 3;
/// rhai keeps lines and columns in 16 bits and stops counting at the largest.
const MAX_POSITION: usize = 60_000;
/// Far below the engine's `MAX_ARRAY`.
const MAX_LIST: usize = 10_000;
/// rhai's keywords and reserved words: not names a `let` may bind here.
const RESERVED: &[&str] = &[
    "Fn",
    "as",
    "async",
    "await",
    "break",
    "call",
    "case",
    "catch",
    "const",
    "continue",
    "curry",
    "debug",
    "default",
    "do",
    "else",
    "eval",
    "exit",
    "export",
    "false",
    "fn",
    "for",
    "global",
    "go",
    "goto",
    "if",
    "import",
    "in",
    "is",
    "is_def_fn",
    "is_def_var",
    "is_shared",
    "let",
    "loop",
    "match",
    "module",
    "new",
    "nil",
    "null",
    "package",
    "print",
    "private",
    "protected",
    "public",
    "return",
    "shared",
    "spawn",
    "static",
    "super",
    "switch",
    "sync",
    "this",
    "thread",
    "throw",
    "true",
    "try",
    "type_of",
    "until",
    "use",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// Evaluates `text`, the top-level script `name`, into `ctx`'s registry. False
/// when it is not only literal statements or any call fails: the registry may
/// then hold part of the script, and `ctx` is to be dropped.
pub(crate) fn evaluate(ctx: &Ctx, name: &str, text: &str) -> bool {
    if ctx.mode != Mode::Script {
        return false;
    }
    let mut e = Evaluator {
        ctx,
        name: ctx.sources().intern(name),
        lex: Lexer::new(text),
        vars: Vec::new(),
        stack: Vec::new(),
    };
    e.script().is_some()
}

/// A token and where it starts (1-based line and character column, as rhai counts).
#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    Ident(&'a str),
    Str(Cow<'a, str>),
    Int(INT),
    Float(FLOAT),
    Punct(u8),
    End,
}

struct Lexer<'a> {
    text: &'a str,
    at: usize,
    line: usize,
    column: usize,
    peeked: Option<(Token<'a>, usize, usize)>,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer {
            text,
            at: 0,
            line: 1,
            column: 1,
            peeked: None,
        }
    }

    fn peek(&mut self) -> Option<&Token<'a>> {
        if self.peeked.is_none() {
            self.peeked = Some(self.scan()?);
        }
        self.peeked.as_ref().map(|(t, ..)| t)
    }

    /// The next token with its line and column.
    fn next(&mut self) -> Option<(Token<'a>, usize, usize)> {
        match self.peeked.take() {
            Some(t) => Some(t),
            None => self.scan(),
        }
    }

    fn expect(&mut self, punct: u8) -> Option<()> {
        (self.next()?.0 == Token::Punct(punct)).then_some(())
    }

    fn bytes(&self) -> &'a [u8] {
        &self.text.as_bytes()[self.at..]
    }

    /// Steps over `n` bytes of one line, each one character.
    fn skip(&mut self, n: usize) {
        self.at += n;
        self.column += n;
    }

    fn scan(&mut self) -> Option<(Token<'a>, usize, usize)> {
        loop {
            match self.bytes() {
                [b' ' | b'\t', ..] => self.skip(1),
                [b'\n', ..] => {
                    self.at += 1;
                    self.line += 1;
                    self.column = 1;
                }
                // Doc comments (`///`, `//!`) mean something to rhai.
                [b'/', b'/', b'/' | b'!', ..] => return None,
                // rhai ends a comment at a carriage return too (which is not
                // whitespace here).
                [b'/', b'/', ..] => {
                    let rest = &self.text[self.at..];
                    self.at += rest.find(['\n', '\r']).unwrap_or(rest.len());
                }
                _ => break,
            }
        }
        let (line, column) = (self.line, self.column);
        if line > MAX_POSITION || column > MAX_POSITION {
            return None;
        }
        let token = match *self.bytes() {
            [] => Token::End,
            [c, ..] if c.is_ascii_alphabetic() || c == b'_' => {
                let n = self
                    .bytes()
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                    .count();
                let ident = &self.text[self.at..self.at + n];
                self.skip(n);
                Token::Ident(ident)
            }
            [b'-', c, ..] if c.is_ascii_digit() => {
                self.skip(1);
                match self.number()? {
                    Token::Int(n) => Token::Int(n.checked_neg()?),
                    Token::Float(f) => Token::Float(-f),
                    _ => return None,
                }
            }
            [c, ..] if c.is_ascii_digit() => self.number()?,
            [b'"', ..] => self.string()?,
            [
                c @ (b'(' | b')' | b'[' | b']' | b',' | b';' | b'.' | b'='),
                ..,
            ] => {
                self.skip(1);
                Token::Punct(c)
            }
            _ => return None,
        };
        Some((token, line, column))
    }

    /// Decimal digits, with a fraction for a float: `80`, `1.5`. Any other form
    /// (`0x1f`, `1_000`, `1e3`, `08`) is left to rhai.
    fn number(&mut self) -> Option<Token<'a>> {
        let digits = |b: &[u8]| b.iter().take_while(|c| c.is_ascii_digit()).count();
        let whole = digits(self.bytes());
        let b = self.bytes();
        if whole > 1 && b[0] == b'0' {
            return None;
        }
        let (len, float) = match &b[whole..] {
            [b'.', c, ..] if c.is_ascii_digit() => (whole + 1 + digits(&b[whole + 1..]), true),
            _ => (whole, false),
        };
        if b.get(len)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.')
        {
            return None;
        }
        let text = &self.text[self.at..self.at + len];
        self.skip(len);
        Some(if float {
            Token::Float(text.parse().ok()?)
        } else {
            Token::Int(text.parse().ok()?)
        })
    }

    /// A string on one line, with the escapes `lvsh save` writes (`\"`, `\\`,
    /// `\n`, `\t`, `\r`, `\u001B`).
    fn string(&mut self) -> Option<Token<'a>> {
        let body = &self.text[self.at + 1..];
        let end = body.find(['"', '\\', '\n', '\r'])?;
        if body.as_bytes()[end] == b'"' {
            let text = &body[..end];
            self.at += end + 2;
            self.column += text.chars().count() + 2;
            return Some(Token::Str(Cow::Borrowed(text)));
        }
        let mut out = String::new();
        let mut chars = body.char_indices();
        let mut columns = 1;
        loop {
            let (i, c) = chars.next()?;
            columns += 1;
            match c {
                '"' => {
                    self.at += 1 + i + 1;
                    self.column += columns;
                    return Some(Token::Str(Cow::Owned(out)));
                }
                '\\' => {
                    let (_, e) = chars.next()?;
                    columns += 1;
                    out.push(match e {
                        '"' => '"',
                        '\\' => '\\',
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        'u' => {
                            let mut code = 0;
                            for _ in 0..4 {
                                code = code * 16 + chars.next()?.1.to_digit(16)?;
                            }
                            columns += 4;
                            char::from_u32(code)?
                        }
                        _ => return None,
                    });
                }
                '\n' | '\r' => return None,
                c => out.push(c),
            }
        }
    }
}

/// A value of the script, as the types rhai would see: `Str` is rhai's string,
/// `List` its array.
#[derive(Debug, Clone)]
enum Val<'a> {
    Str(Cow<'a, str>),
    Int(INT),
    Float(FLOAT),
    List(Vec<Val<'a>>),
    Service(ServiceHandle),
    Server(RealServerHandle),
    Daemon(DaemonHandle),
    Check(Box<CheckDraft>),
    Unit,
}

impl ArgValue for Val<'_> {
    fn int(&self) -> Option<INT> {
        match self {
            Val::Int(n) => Some(*n),
            _ => None,
        }
    }

    fn float(&self) -> Option<FLOAT> {
        match self {
            Val::Float(f) => Some(*f),
            _ => None,
        }
    }

    fn str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    fn array(&self) -> Option<Array> {
        match self {
            Val::List(items) => Some(items.iter().map(ArgValue::dynamic).collect()),
            _ => None,
        }
    }

    fn check(&self) -> Option<CheckDraft> {
        match self {
            Val::Check(c) => Some((**c).clone()),
            _ => None,
        }
    }

    fn server(&self) -> Option<RealServerHandle> {
        match self {
            Val::Server(h) => Some(h.clone()),
            _ => None,
        }
    }

    fn dynamic(&self) -> Dynamic {
        match self {
            Val::Str(s) => Dynamic::from(ImmutableString::from(s.as_ref())),
            Val::Int(n) => Dynamic::from(*n),
            Val::Float(f) => Dynamic::from(*f),
            Val::List(_) => Dynamic::from(self.array().unwrap_or_default()),
            Val::Service(h) => Dynamic::from(h.clone()),
            Val::Server(h) => Dynamic::from(h.clone()),
            Val::Daemon(h) => Dynamic::from(h.clone()),
            Val::Check(c) => Dynamic::from((**c).clone()),
            Val::Unit => Dynamic::UNIT,
        }
    }
}

struct Evaluator<'a> {
    ctx: &'a Ctx,
    /// The script's interned name, which every place shares.
    name: Arc<str>,
    lex: Lexer<'a>,
    /// `let` bindings, the latest last (a later one shadows an earlier one).
    vars: Vec<(&'a str, Val<'a>)>,
    /// The arguments of the calls under way, innermost last.
    stack: Vec<Val<'a>>,
}

impl<'a> Evaluator<'a> {
    /// Statements, each ending with `;` (the last may leave it out, as in rhai).
    fn script(&mut self) -> Option<()> {
        loop {
            match self.lex.peek()? {
                Token::End => return Some(()),
                Token::Ident("let") => {
                    self.lex.next();
                    self.binding()?;
                }
                _ => {
                    let _statement_value = self.expr(0)?;
                }
            }
            match self.lex.next()?.0 {
                Token::Punct(b';') => {}
                Token::End => return Some(()),
                _ => return None,
            }
        }
    }

    /// `let NAME = "text"` or `let NAME = 80`.
    fn binding(&mut self) -> Option<()> {
        let Token::Ident(name) = self.lex.next()?.0 else {
            return None;
        };
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) || RESERVED.contains(&name) {
            return None;
        }
        self.lex.expect(b'=')?;
        let value = match self.lex.next()?.0 {
            Token::Str(s) => Val::Str(s),
            Token::Int(n) => Val::Int(n),
            _ => return None,
        };
        self.vars.push((name, value));
        Some(())
    }

    /// A value, then any chain of method calls on it.
    fn expr(&mut self, depth: usize) -> Option<Val<'a>> {
        let mut value = self.primary(depth)?;
        let mut depth = depth;
        while self.lex.peek()? == &Token::Punct(b'.') {
            self.lex.next();
            depth += 1;
            if depth > MAX_DEPTH {
                return None;
            }
            let (Token::Ident(name), line, column) = self.lex.next()? else {
                return None;
            };
            let base = self.args(depth + NESTING)?;
            let at = self.at(line, column);
            value = method(self.ctx, value, name, &self.stack[base..], at)?;
            self.stack.truncate(base);
        }
        Some(value)
    }

    fn primary(&mut self, depth: usize) -> Option<Val<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (token, line, column) = self.lex.next()?;
        Some(match token {
            Token::Str(s) => Val::Str(s),
            Token::Int(n) => Val::Int(n),
            Token::Float(f) => Val::Float(f),
            Token::Punct(b'[') => {
                let mut list = Vec::new();
                if self.lex.peek()? == &Token::Punct(b']') {
                    self.lex.next();
                } else {
                    loop {
                        list.push(self.expr(depth + NESTING)?);
                        if list.len() > MAX_LIST {
                            return None;
                        }
                        match self.lex.next()?.0 {
                            Token::Punct(b',') => {}
                            Token::Punct(b']') => break,
                            _ => return None,
                        }
                    }
                }
                Val::List(list)
            }
            Token::Ident(name) if self.lex.peek()? == &Token::Punct(b'(') => {
                let base = self.args(depth + NESTING)?;
                let at = self.at(line, column);
                let value = function(self.ctx, name, &self.stack[base..], at)?;
                self.stack.truncate(base);
                value
            }
            Token::Ident(name) => {
                let (_, value) = self.vars.iter().rev().find(|(n, _)| *n == name)?;
                value.clone()
            }
            _ => return None,
        })
    }

    /// The place of a call. Each call of a literal script is made once, so its
    /// place is not looked up for sharing as rhai's calls' are (`Sources::at`).
    fn at(&self, line: usize, column: usize) -> At {
        At::of(Origin::at(self.name.clone(), line, column))
    }

    /// `(a, b, ..)`, onto the stack: where they start there.
    fn args(&mut self, depth: usize) -> Option<usize> {
        self.lex.expect(b'(')?;
        let base = self.stack.len();
        if self.lex.peek()? == &Token::Punct(b')') {
            self.lex.next();
            return Some(base);
        }
        loop {
            let value = self.expr(depth)?;
            self.stack.push(value);
            match self.lex.next()?.0 {
                Token::Punct(b',') => {}
                Token::Punct(b')') => return Some(base),
                _ => return None,
            }
        }
    }
}

/// A call of a function, as rhai would pick it by its arguments' types.
fn function<'a>(ctx: &Ctx, name: &str, args: &[Val<'a>], at: At) -> Option<Val<'a>> {
    Some(match (name, args) {
        ("service", [Val::Str(addr), Val::Int(port)]) => {
            Val::Service(service::service(ctx, addr, *port, None, at).ok()?)
        }
        ("service", [Val::Str(addr), Val::Int(port), Val::Str(proto)]) => {
            Val::Service(service::service(ctx, addr, *port, Some(proto), at).ok()?)
        }
        ("mark", [Val::Int(n)]) => Val::Service(service::mark(ctx, *n, at).ok()?),
        ("rs", [Val::Str(addr)]) => Val::Server(real_server::create(ctx, addr, None, at).ok()?),
        ("rs", [Val::Str(addr), Val::Int(port)]) => {
            Val::Server(real_server::create_with_port(ctx, addr, *port, at).ok()?)
        }
        ("sync_daemon", [Val::Str(state), Val::Str(ifname)]) => {
            Val::Daemon(daemon::sync_daemon(ctx, state, ifname, at).ok()?)
        }
        ("tcp", []) => Val::Check(Box::new(CheckDraft::new(CheckKind::Tcp, at))),
        ("http", [Val::Str(path)]) => Val::Check(Box::new(check::http(path, false, at).ok()?)),
        ("https", [Val::Str(path)]) => Val::Check(Box::new(check::http(path, true, at).ok()?)),
        ("udp", [payload]) => Val::Check(Box::new(check::udp(&payload.dynamic(), at).ok()?)),
        ("exec", [Val::Str(program)]) => {
            Val::Check(Box::new(check::exec(program, &Array::new(), at).ok()?))
        }
        ("exec", [Val::Str(program), list @ Val::List(_)]) => {
            Val::Check(Box::new(check::exec(program, &list.array()?, at).ok()?))
        }
        ("sysctl", [Val::Str(key), value]) => {
            sysctl::sysctl(ctx, key, &value.dynamic(), at).ok()?;
            Val::Unit
        }
        ("timeouts", [Val::Int(tcp), Val::Int(fin), Val::Int(udp)]) => {
            timeouts::timeouts(ctx, [*tcp, *fin, *udp], at).ok()?;
            Val::Unit
        }
        ("address", [Val::Str(cidr), Val::Str(ifname)]) => {
            address::address(ctx, cidr, ifname, at).ok()?;
            Val::Unit
        }
        _ => return None,
    })
}

/// `value.name(args)`: a method of a handle or a check, as rhai would pick it.
fn method<'a>(ctx: &Ctx, value: Val<'a>, name: &str, args: &[Val<'a>], at: At) -> Option<Val<'a>> {
    match &value {
        Val::Service(h) => match (name, args) {
            ("tcp", []) => service::set_protocol(h, Protocol::Tcp, at),
            ("udp", []) => service::set_protocol(h, Protocol::Udp, at),
            ("sctp", []) => service::set_protocol(h, Protocol::Sctp, at),
            ("rs", [Val::Server(rs)]) => service::attach(ctx, h, rs.clone(), at),
            ("rs", [other]) => service::attach_any(ctx, h, other.dynamic(), at).ok()?,
            _ => service::methods()
                .call(&mut h.lock(), name, args, at)?
                .ok()?,
        },
        Val::Server(h) => real_server::methods()
            .call(&mut h.lock(), name, args, at)?
            .ok()?,
        Val::Daemon(h) => daemon::methods()
            .call(&mut h.lock(), name, args, at)?
            .ok()?,
        // A check is a value: its methods change a copy, which is this one.
        Val::Check(_) => {
            let Val::Check(mut d) = value else {
                unreachable!("matched")
            };
            check::methods().call(&mut d, name, args, at)?.ok()?;
            return Some(Val::Check(d));
        }
        _ => return None,
    }
    Some(value)
}

/// What the literal evaluator and rhai make of `text` differ: `Err` with both,
/// `Ok(false)` when the literal evaluator gave up, `Ok(true)` when both registered
/// the same objects, every place included. For tests and the `literal` fuzz target.
#[cfg(any(test, fuzzing))]
pub fn compare_with_rhai(text: &str) -> Result<bool, String> {
    use super::engine;
    let ctx = || {
        let ctx = Ctx::new(Mode::Script, Vec::new());
        ctx.sources().insert("t.rhai", text);
        ctx.set_main("t.rhai");
        ctx
    };
    let fast = ctx();
    if !evaluate(&fast, "t.rhai", text) {
        return Ok(false);
    }
    let fast = format!("{:?}", *fast.registry());
    let slow = ctx();
    let engine = engine::build(&slow, engine::resolver(&slow, &[], None, None));
    let ran = engine
        .compile(text)
        .map_err(|e| e.to_string())
        .and_then(|mut ast| {
            ast.set_source("t.rhai");
            engine.run_ast(&ast).map_err(|e| e.to_string())
        });
    match ran {
        Err(e) => Err(format!("rhai refuses what the literal evaluator took: {e}")),
        Ok(()) => {
            let slow = format!("{:?}", *slow.registry());
            if fast == slow {
                Ok(true)
            } else {
                Err(format!("literal: {fast}\nrhai:    {slow}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The literal evaluator gives up or registers exactly what rhai does; true
    /// when it did not give up.
    pub(super) fn same(text: &str) -> bool {
        compare_with_rhai(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    pub(super) fn taken(text: &str) {
        assert!(same(text), "the literal evaluator gave up on\n{text}");
    }

    pub(super) fn given_up(text: &str) {
        let ctx = Ctx::new(Mode::Script, Vec::new());
        assert!(
            !evaluate(&ctx, "t.rhai", text),
            "the literal evaluator took\n{text}"
        );
    }

    /// The models of the example scripts, as `lvsh save` writes them.
    fn saved_examples() -> Vec<(String, String)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rhai") {
                continue;
            }
            let b = crate::dsl::evaluate_file(&path, &Default::default())
                .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.render_plain()))
                .balancer;
            let text = crate::convert::script::to_script(&b, "saved by a test");
            out.push((path.display().to_string(), text));
        }
        assert!(out.len() >= 5, "{out:?}");
        out
    }

    /// Every script of the repository (examples, tests' inputs, most of them for
    /// errors): the literal evaluator gives up, or registers what rhai does.
    #[test]
    fn every_script_of_the_tree_is_given_up_or_the_same() {
        fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rhai") {
                    out.push(path);
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut paths = Vec::new();
        for dir in ["scripts", "tests", "stdlib"] {
            walk(&root.join(dir), &mut paths);
        }
        let mut taken = 0;
        for path in &paths {
            let text = std::fs::read_to_string(path).unwrap();
            taken += usize::from(same(&text));
        }
        // Some are literal statements (a sanity check that this test tests).
        assert!(
            paths.len() > 100 && taken > 10,
            "{taken} of {}",
            paths.len()
        );
    }

    #[test]
    fn what_save_writes_is_taken_and_registers_what_rhai_does() {
        for (path, text) in saved_examples() {
            assert!(
                same(&text),
                "{path}: the literal evaluator gave up on\n{text}"
            );
        }
    }
}

#[cfg(test)]
mod shapes {
    use super::tests::{given_up, taken};

    #[test]
    fn places_count_characters_tabs_and_lines_as_rhai_does() {
        taken("// a comment, then a tab\n\tservice(\"10.0.0.1\", 80)\t.rs(rs(\"10.1.0.1\"));");
        taken(
            "mark(7).vip(\"10.0.0.9\").comment(\"ünïcödé → here\").rs(rs(\"10.1.0.1\")); // é\nservice(\"10.0.0.1\", 80).scheduler(\"rr\")",
        );
        taken("\n\n   service(\"10.0.0.1\",80)\n  .\n  persist(\n300\n)\n  ;\n");
        taken(
            "service(\"2001:db8::1\", 443, \"udp\").rs(rs(\"2001:db8::11\", 8443).nat().weight(0));",
        );
    }

    #[test]
    fn every_kind_of_statement_save_writes() {
        taken(
            r#"let vip = "192.168.10.120";
let vip = "192.168.10.121";
timeouts(900, 120, 300);
sysctl("est_nice", -5);
sysctl("sync_threshold", [10, 100]);
sysctl("est_cpulist", "0-1,4");
address("192.168.10.121/32", "lo");
sync_daemon("master", "eth0").syncid(3).maxlen(1400).group("224.0.0.81").port(8848).ttl(2);
service(vip, 80).sctp().scheduler("sh").flags(["sh-port", "sh-fallback"]).persist().netmask("255.255.255.0").pe("sip").ops()
    .check(https("/h").expect([200, "301-302"]).host("a.example").contains("ok \"all\"\\").insecure().sni("b.example").every(1.5).timeout(0.25).rise(1).fall(5))
    .on_down("remove")
    .rs(rs("10.0.0.1").tun("gue", 6080).csum().weight(3).u_threshold(100).l_threshold(10))
    .rs([rs("10.0.0.2").tun("gre").remcsum(), rs("10.0.0.3").tun()])
    .rs(rs("10.0.0.4").check(udp([0, 1, 255]).expect_reply("ok").port(53)).slow_start(30))
    .sorry(rs("10.0.0.99:8080").nat());
service(vip, 81).udp().netmask(24).flag("sh-port").scheduler("sh")
    .check(exec("/bin/check", ["--quick", "a b"]))
    .rs("10.0.0.5");
mark(10).ipv6().vip(["2001:db8::1", "2001:db8::2"]).protocols(["tcp", "udp"]).ports([80, "1000-2000"]).port(443).persist(1200)
    .check(tcp().via_vip().every(2).timeout(1))
    .rs(rs("2001:db8:1::11").dr());
mark(11).vip(vip).udp().port("53").check(udp("ping\u0000"));
mark(12).ipv4().tcp()"#,
        );
    }

    #[test]
    fn anything_else_is_left_to_rhai() {
        for text in [
            "import \"dr_pool\" as dr;",
            "fn f() { 1 }",
            "let x = 1 + 2;",
            "let n = param(\"n\", 2);",
            "const PARAMS = #{};",
            "for i in 0..2 { service(`10.0.0.${i}`, 80); }",
            "/// doc\nservice(\"10.0.0.1\", 80);",
            "//! module doc\nservice(\"10.0.0.1\", 80);",
            "/* block */ service(\"10.0.0.1\", 80);",
            "service(\"10.0.0.1\", 0x50);",
            "service(\"10.0.0.1\", 8_0);",
            "service(\"10.0.0.1\", 080);",
            "service(\"10.0.0.1\", 80).persist(1e3);",
            "service(\"10.0.0.1\", 80).rs(rs(\"10.\\x31.0.1\"));",
            "service('1', 80);",
            "service(\"10.0.0.1\", 80)\r\n;",
            "service(\"10.0.0.1\", 80);;",
            "service(\"10.0.0.1\", 80,);",
            "service(\"10.0.0.1\", 80).rs([rs(\"10.1.0.1\"),]);",
            "service(\"10.0.0.1\", 80) service(\"10.0.0.2\", 80);",
            "let if = \"10.0.0.1\";",
            "let print = \"10.0.0.1\";",
            "let Vip = \"10.0.0.1\";",
            "let vip = \"10.0.0.1\"; vip.len();",
            "service(vip, 80);",
            "print(\"x\");",
            "service(\"10.0.0.1\", 80).to_string();",
            "rs(\"10.0.0.1\").udp();",
            "tcp().weight(2);",
            "service(\"10.0.0.1\", 80).weight(2);",
            "service(\"10.0.0.1\", \"80\");",
            "service(\"10.0.0.1\", -80);",
            "service(\"10.0.0.1\", 99999999999999999999);",
            "service(\"not an address\", 80);",
            "service(\"10.0.0.1\", 80).scheduler(\"bogus\");",
            "service(\"10.0.0.1\", 80).rs(rs(\"10.1.0.1\").weight(-1));",
            "service(\"10.0.0.1\", 80).rs(5);",
            "mark(0);",
            "service(\"10.0.0.1\", 80).check(tcp().port(0));",
            "exec(\"relative\");",
            "service(\"10.0.0.1\", 80).rs(rs(\"10.1.0.1\"))[0];",
            "service(\"10.0.0.1\", 80) + 1;",
            "\"unterminated",
            "service(\"10.0.0.1\", 80).",
            // Found by the `literal` fuzz target: rhai ends the comment at `\r`.
            "//e._=v\r#\"dh\"\r",
            "// x\rloop\n",
        ] {
            given_up(text);
        }
    }

    /// A statement as deep as the literal evaluator goes, in several shapes: rhai
    /// accepts each (`taken` fails if it does not), and one level more is left to it.
    #[test]
    fn the_depth_limit_stays_within_rhais() {
        use super::{MAX_DEPTH, NESTING};
        let service = "service(\"10.0.0.1\", 80)";
        let rs = |i: usize| format!(r#"rs("10.1.{}.{}:8080").nat()"#, i / 250, i % 250 + 1);
        // Call n of a chain is at depth n.
        let bare = |n: usize| format!("{service}{};", ".ops()".repeat(n));
        // Its arguments at n + NESTING, and theirs NESTING deeper again; a chain
        // in an argument one deeper per call.
        let servers = |n: usize| {
            let calls: String = (0..n).map(|i| format!(".rs({})", rs(i))).collect();
            format!("{service}{calls};")
        };
        let inner = |n: usize| format!("{service}.rs({}{});", rs(0), ".weight(2)".repeat(n));
        // Each list's items NESTING deeper.
        let lists = |n: usize| {
            format!(
                "{service}.rs({}\"10.1.0.1\"{});",
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        for (shape, deepest) in [
            (&bare as &dyn Fn(usize) -> String, MAX_DEPTH),
            (&servers, MAX_DEPTH - 2 * NESTING),
            (&inner, MAX_DEPTH - 2 * NESTING - 2),
            (&lists, (MAX_DEPTH - 1) / NESTING - 1),
        ] {
            taken(&shape(deepest));
            given_up(&shape(deepest + 1));
        }
    }
}
