//! placeholder: filled by the state work.
