use super::{CliError, Context, input};
use crate::convert::{ipvsadm, script};
use std::path::Path;

/// `lvsh import FILE|-`: ipvsadm rules to a Rhai script on stdout.
pub fn run(ctx: &Context, file: &Path) -> Result<i32, CliError> {
    let text = input::read_text(file)?;
    let name = if file == Path::new("-") {
        "<stdin>".to_string()
    } else {
        file.display().to_string()
    };
    let b = ipvsadm::from_ipvsadm(&name, &text)?;
    // `ipvsadm -S` of an empty table prints nothing, so this is no error; but the
    // script it makes has no services, and `apply` of it removes the kernel's.
    if b.services.is_empty() && !ctx.quiet {
        eprintln!(
            "warning: `{name}` holds no services: `lvsh apply` of this script deletes \
             every service"
        );
    }
    let header = format!("imported by lvsh from {name}");
    ctx.out(&script::to_script(&b, &header))?;
    Ok(0)
}
