//! placeholder: filled by the dsl work.
