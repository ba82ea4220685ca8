//! placeholder: filled by the apply work.
