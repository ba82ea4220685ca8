//! What reading, hashing and verifying libraries fails with. Errors about an entry
//! of `lvsh.toml`, `lvsh.lock` or `lvsh-lib.toml` carry the file's text and the
//! entry's span, so miette shows the line; the help names the command that fixes it.

use miette::{Diagnostic, NamedSource, SourceSpan};
use std::{ops::Range, path::PathBuf, sync::Arc};

#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum RecipesError {
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An error at a place in a TOML file (the manifest, the lock, a library's manifest).
    #[error(transparent)]
    #[diagnostic(transparent)]
    At(Box<Placed>),
    /// An error with no file to point at (a directory, a hash).
    #[error("{message}")]
    Plain {
        message: String,
        #[help]
        help: Option<String>,
    },
}

#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
pub struct Placed {
    pub message: String,
    #[source_code]
    pub src: NamedSource<Arc<str>>,
    #[label("{label}")]
    pub span: SourceSpan,
    pub label: String,
    #[help]
    pub help: Option<String>,
}

impl RecipesError {
    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RecipesError::Read {
            path: path.into(),
            source,
        }
    }

    /// The help line, if any (tests read it).
    pub fn help_text(&self) -> Option<&str> {
        match self {
            RecipesError::At(p) => p.help.as_deref(),
            RecipesError::Plain { help, .. } => help.as_deref(),
            RecipesError::Read { .. } => None,
        }
    }

    pub fn plain(message: impl Into<String>) -> Self {
        RecipesError::Plain {
            message: message.into(),
            help: None,
        }
    }

    /// The same error with a help line (the command that fixes it).
    pub fn with_help(mut self, text: impl Into<String>) -> Self {
        match &mut self {
            RecipesError::At(p) => p.help = Some(text.into()),
            RecipesError::Plain { help, .. } => *help = Some(text.into()),
            RecipesError::Read { .. } => {}
        }
        self
    }
}

/// A TOML file read for its spans: where an error about one of its entries points.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The path as found (relative when the user gave a relative path).
    pub path: PathBuf,
    pub text: Arc<str>,
}

impl Origin {
    /// An error labelled at `span` of this file.
    pub fn error(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> RecipesError {
        RecipesError::At(Box::new(Placed {
            message: message.into(),
            src: NamedSource::new(self.path.display().to_string(), self.text.clone()),
            span: span.into(),
            label: label.into(),
            help: None,
        }))
    }
}
