fn main() {
    // One malloc arena: lvsh's few threads (the kernel read beside the evaluation,
    // the dump sockets of a large read) allocate little, and the second arena of a
    // large read kept up to 2 MiB more resident at 10,000 services.
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only tunes the allocator; no other thread exists yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
    std::process::exit(lvsh::cli::run());
}
