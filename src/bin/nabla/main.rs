//! `nabla`: the command line over the library. Parse, dispatch, report; nothing else.
//! Exit codes: 0 success, 2 any error (one line on stderr), as ripgrep and clap do.

mod cli;
mod commands;
mod config_file;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // `train --preset NAME` and `train --config FILE` become flags placed before the user's
    // own, so that the command line overrides the file, which overrides the preset.
    let argv = match config_file::expand(std::env::args_os().collect()) {
        Ok(argv) => argv,
        Err(err) => {
            eprintln!("nabla: error: {err:#}");
            return ExitCode::from(2);
        }
    };
    let cli = cli::Cli::parse_from(argv);
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
