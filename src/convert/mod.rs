//! The model in other tools' formats, and back: `ipvsadm` rules, `nft -f` scripts,
//! and Rhai scripts written from a model (import, save).

pub mod ipvsadm;
pub mod nft;
pub mod script;

#[cfg(test)]
mod fixture_tests;
