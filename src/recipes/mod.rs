//! Recipe libraries: `lvsh.toml` names them, `lvsh.lock` pins them by version,
//! commit and content hash, and every run verifies the files before a script
//! imports them as `@NAME/…`. This module knows no script engine (the DSL reads
//! the store, never the reverse) and the offline part here never runs git.

pub mod error;
pub mod fetch;
pub mod git;
pub mod hash;
pub mod lock;
pub mod manifest;
pub mod resolve;
pub mod store;
mod toml_doc;
pub mod vendor;

pub use error::RecipesError;
pub use lock::{Lock, Locked};
pub use manifest::{LibManifest, Requirement, SiteManifest, Source};
pub use store::{Libraries, Library};
