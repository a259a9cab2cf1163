fn main() {
    if let Some(code) = dangan::sheet::child_hook() {
        std::process::exit(code);
    }
}
