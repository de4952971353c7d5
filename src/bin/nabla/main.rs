//! `nabla`: the command line over the library. Parse, dispatch, report; nothing else.
//! Exit codes: 0 success, 2 any error (one line on stderr), as ripgrep and clap do.

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `nabla predict … | head` closing the pipe early is not an error.
            for cause in err.chain() {
                if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                    if io.kind() == std::io::ErrorKind::BrokenPipe {
                        return ExitCode::SUCCESS;
                    }
                }
            }
            eprintln!("nabla: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
