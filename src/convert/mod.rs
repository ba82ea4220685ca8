//! The model in other tools' formats, and back: `ipvsadm` rules, `nft -f` scripts,
//! and Rhai scripts written from a model (import, save).

pub mod ipvsadm;
mod ipvsadm_addr;
mod ipvsadm_args;
mod ipvsadm_error;
pub mod ipvsadm_import;
mod ipvsadm_rule;
pub mod nft;
mod port_names;
pub mod script;

#[cfg(test)]
mod fixture_tests;
