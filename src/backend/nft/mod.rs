//! placeholder: filled by the nft backend work.

#[derive(Debug, thiserror::Error)]
#[error("nft backend not built yet")]
pub struct Error;
