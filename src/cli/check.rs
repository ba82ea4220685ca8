use super::{CliError, Context, input};
use crate::model::{Balancer, ServiceKey};
use std::path::Path;

/// `lvsh check FILE`: evaluate and validate, then say what the script describes.
pub fn run(ctx: &Context, file: &Path) -> Result<i32, CliError> {
    let (b, libraries) = input::evaluate_site(ctx, file)?;
    if !ctx.quiet {
        let mut out = format!("{}: ok, {}\n", file.display(), summary(&b));
        // The libraries the site may import, each checked against lvsh.lock.
        if let Some(libs) = libraries.filter(|l| !l.libs.is_empty()) {
            let names: Vec<String> = libs
                .libs
                .iter()
                .map(|l| match l.version {
                    Some(_) => format!("{} verified", l.label()),
                    None => format!("{} (not locked)", l.name),
                })
                .collect();
            out.push_str(&format!("recipes: {}\n", names.join(", ")));
        }
        ctx.out(&out)?;
    }
    Ok(0)
}

/// `3 services (1 fwmark), 5 real servers, 1 nft mark rule, timeouts, 2 sysctls, 1 sync daemon`,
/// and `owns 192.168.10.0/24 and marks 10-19` for a scoped script.
pub fn summary(b: &Balancer) -> String {
    fn n(count: usize, one: &str, many: &str) -> String {
        format!("{count} {}", if count == 1 { one } else { many })
    }
    let fwmarks = b
        .services
        .keys()
        .filter(|k| matches!(k, ServiceKey::Fwmark { .. }))
        .count();
    let mut parts = vec![n(b.services.len(), "service", "services")];
    if fwmarks > 0 {
        parts[0].push_str(&format!(" ({fwmarks} fwmark)"));
    }
    parts.push(n(b.dest_count(), "real server", "real servers"));
    if !b.marks.is_empty() {
        parts.push(n(b.marks.len(), "nft mark rule", "nft mark rules"));
    }
    if !b.timeouts.is_empty() {
        parts.push("timeouts".into());
    }
    if !b.sysctls.is_empty() {
        parts.push(n(b.sysctls.len(), "sysctl", "sysctls"));
    }
    if !b.daemons.is_empty() {
        parts.push(n(b.daemons.len(), "sync daemon", "sync daemons"));
    }
    if !b.addresses.is_empty() {
        parts.push(n(b.addresses.len(), "address", "addresses"));
    }
    let checked = b.checks.checked_services();
    if checked > 0 {
        parts.push(format!(
            "health checks on {}",
            n(checked, "service", "services")
        ));
    }
    if let Some(scope) = &b.scope {
        parts.push(format!("owns {scope}"));
    }
    parts.join(", ")
}
