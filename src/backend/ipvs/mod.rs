//! placeholder: filled by the ipvs backend work.

#[derive(Debug, thiserror::Error)]
#[error("ipvs backend not built yet")]
pub struct Error;
