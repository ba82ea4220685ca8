//! ipvsadm rules, both ways: `ipvsadm -R` input (typically `ipvsadm -S` output) read
//! into a model ([`from_ipvsadm`]), and a model written as `ipvsadm -S -n` would
//! print it ([`to_ipvsadm`], with what cannot be written in [`unexpressible`]).
//!
//! Import takes each line through the steps ipvsadm takes: `tok` splits it into
//! words, `parsed` into options by `opt`'s table; `rule` checks the options (their
//! groups in `class`, their values in `entry`, `value` and `addr`) and builds the
//! rule's objects; `import` applies the rule to the model as the kernel would.

mod addr;
mod class;
mod command;
mod dest;
mod emit;
mod entry;
mod import;
mod import_error;
mod opt;
mod parsed;
mod port_names;
mod problem;
mod rule;
mod save_order;
mod tok;
mod value;

pub use emit::{to_ipvsadm, unexpressible};
pub use import::from_ipvsadm;
pub use import_error::ImportError;
pub use problem::Problem;
