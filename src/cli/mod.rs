//! The command line: parses arguments and runs one command.

/// Runs lvsh with the process arguments; returns the exit code.
pub fn run() -> i32 {
    0
}
