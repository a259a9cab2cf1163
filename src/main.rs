fn main() {
    dangan::parallel::share_malloc_arenas();
    // A spreadsheet is read in a child process of this same binary, under memory and time
    // limits, so that a hostile sheet costs one file's rows, never the run.
    if let Some(code) = dangan::sheet::child_hook() {
        std::process::exit(code);
    }
    // A PDF's text likewise, in a child limited in memory and time.
    if let Some(code) = dangan::extract::pdf::child_hook() {
        std::process::exit(code);
    }
    std::process::exit(dangan::cli::main());
}
