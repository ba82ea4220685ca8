//! placeholder: filled by the repl work.
