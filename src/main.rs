//! The `eddy` binary: the command line over the library (see `cli.rs`).

mod cli;

fn main() {
    let code = cli::main(std::env::args().skip(1).collect());
    std::process::exit(code);
}
