//! lvsh: Linux Virtual Server (IPVS) and its nft mark rules, configured from Rhai
//! scripts as one transaction. Data flows one way: `dsl` → `model` → `plan` →
//! `apply` → `backend`, with `cli` and `repl` on top.

pub mod apply;
pub mod backend;
pub mod cache;
pub mod cli;
pub mod convert;
pub mod dsl;
mod hex;
pub mod model;
mod not_text;
pub mod plan;
pub mod recipes;
pub mod repl;
mod report;
pub mod state;
mod suggest;
pub mod watch;
