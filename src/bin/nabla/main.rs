//! `nabla`: the command line over the library. Parse, dispatch, report; nothing else.
//! Exit codes: 0 success, 2 any error (one line on stderr), as ripgrep and clap do.

mod cli;
mod commands;
mod config_file;
mod flags;
mod output;
#[cfg(feature = "serve")]
mod serve;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        // --help and --version (exit 0), and `nabla` alone (the help, exit 2): as clap prints them.
        Err(err)
            if !err.use_stderr()
                || err.kind()
                    == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            err.exit()
        }
        Err(err) => {
            eprintln!("nabla: {}", one_line(&err.render().to_string()));
            return ExitCode::from(2);
        }
    };
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
            eprintln!("nabla: error: {}", flags::message(&err));
            ExitCode::from(2)
        }
    }
}

/// clap's error message on one line: its first line, with any tip in brackets; the usage
/// and "For more information" lines dropped (`nabla COMMAND --help` shows them).
fn one_line(message: &str) -> String {
    let mut lines = message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .take_while(|line| {
            !line.starts_with("Usage:") && !line.starts_with("For more information")
        });
    let mut text = lines
        .next()
        .unwrap_or("error: invalid arguments")
        .to_string();
    for extra in lines {
        text += &format!(" ({extra})");
    }
    text
}
