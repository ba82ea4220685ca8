use super::{CliError, Context, args::EmitFormat, input};
use crate::convert::{ipvsadm, nft};
use std::path::Path;

/// `lvsh emit FILE --to FORMAT`.
pub fn run(ctx: &Context, file: &Path, to: EmitFormat) -> Result<i32, CliError> {
    let b = input::evaluate(ctx, file)?;
    let text = match to {
        EmitFormat::Ipvsadm => {
            for what in ipvsadm::unexpressible(&b) {
                ctx.note(&format!("warning: {what}\n"));
            }
            ipvsadm::to_ipvsadm(&b)
        }
        EmitFormat::Nft => nft::to_nft(&b),
        EmitFormat::Json => b.to_json() + "\n",
    };
    ctx.out(&text)?;
    Ok(0)
}
