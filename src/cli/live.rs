//! Commands that need the live kernel.

use super::{CliError, Context};
use crate::model::Balancer;

/// The observed model of the kernel (IPVS table + `inet lvsh`).
pub fn read(_ctx: &Context) -> Result<Balancer, CliError> {
    Ok(Balancer::default())
}

pub fn unavailable() -> Result<i32, CliError> {
    Ok(1)
}
