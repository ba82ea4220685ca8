//! STUB for the cli branch only; replaced by the dsl branch at merge.
use crate::model::Balancer;
use std::path::{Path, PathBuf};
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub lib_dirs: Vec<PathBuf>,
    pub params: Vec<(String, String)>,
}
pub struct Evaluated {
    pub balancer: Balancer,
    pub output: Vec<String>,
}
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("stub")]
pub struct ScriptError;
pub fn evaluate_file(_p: &Path, _o: &Options) -> Result<Evaluated, ScriptError> {
    Err(ScriptError)
}
pub fn evaluate_source(
    _n: &str,
    _s: &str,
    _b: Option<&Path>,
    _o: &Options,
) -> Result<Evaluated, ScriptError> {
    Err(ScriptError)
}
