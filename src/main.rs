fn main() {
    std::process::exit(dangan::cli::main());
}
