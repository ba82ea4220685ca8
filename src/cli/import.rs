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
    // script it makes has no services, and `apply` of it removes the kernel's: say
    // so where it is made, and in the script itself.
    let mut header = format!("imported by lvsh from {name}");
    if b.services.is_empty() {
        if !ctx.quiet {
            eprintln!(
                "warning: `{name}` holds no services: `lvsh apply` of this script deletes \
                 every service"
            );
        }
        header.push_str(
            "\n\nWARNING: the rules file holds no services. As it is, this script describes\n\
             an empty balancer: `lvsh apply` of it deletes every IPVS service and the nft\n\
             table `inet lvsh`. Add services, or apply with --merge to keep what is there.",
        );
    }
    ctx.out(&script::to_script(&b, &header))?;
    Ok(0)
}
