//! What lvsh does with a model after a front end produced one, shared by the targets:
//! a fuzz input that decodes is driven on through the code the CLI runs next, so a
//! panic there counts as a finding of the front end that let the input in.

use lvsh::{
    backend::nft,
    cli::show,
    convert::{ipvsadm, nft as nft_text, script},
    model::Balancer,
    plan::{self, Mode},
};

/// A model read from outside (state file, kernel dump, nft listing): `plan` against
/// it, `show` it, `save` it, and start a REPL session on it (`repl --state`).
pub fn observed(b: &Balancer) {
    let desired = Balancer::default();
    for mode in [Mode::Replace, Mode::Merge] {
        render(&plan::diff(&desired, b, mode));
        render(&plan::diff(b, b, mode));
    }
    let _ = show::render(b, false);
    let _ = show::render(b, true);
    let _ = b.to_json();
    let _ = script::to_script(b, "fuzz");
    let session = lvsh::dsl::Session::new(lvsh::dsl::Options::default(), b.clone());
    if let Ok(pending) = session.balancer() {
        render(&plan::diff(&pending, b, Mode::Replace));
    }
}

/// A validated model from a script or an import: what `plan`, `emit` and `apply`
/// (its nft batch) do with it.
pub fn desired(b: &Balancer) {
    let mut canonical = b.clone();
    for rule in canonical.marks.values_mut() {
        *rule = nft::canonical(rule);
    }
    render(&plan::diff(&canonical, &Balancer::default(), Mode::Replace));
    let _ = ipvsadm::unexpressible(b);
    let _ = ipvsadm::to_ipvsadm(b);
    let _ = nft_text::to_nft(b);
    let _ = b.to_json();
    let _ = nft::replace_batch(&b.marks).map(|batch| serde_json::to_string(&batch));
}

fn render(p: &plan::Plan) {
    let _ = p.render(false);
    let _ = p.render(true);
    let _ = p.to_json();
}
