//! placeholder: filled by the plan work.
