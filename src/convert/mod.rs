//! placeholder: filled by the convert work.
