fn main() {
    std::process::exit(lvsh::cli::run());
}
