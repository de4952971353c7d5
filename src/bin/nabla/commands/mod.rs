//! One file per subcommand, each `run(args) -> anyhow::Result<()>`.

#[cfg(feature = "bench")]
mod bench;
mod diagram;
mod eval;
mod explain;
mod export;
mod grad;
mod import;
mod init;
mod noise;
mod predict;
mod train;

use std::path::Path;

use anyhow::{bail, Context};
use nabla::data::source::{read_for_model_with, ModelData, ModelReadOptions};
use nabla::model_file::{stored_precision, Model};
use nabla::Scalar;

use crate::cli::{Cli, Command, Precision, ThreadsArg};

/// Dispatches to the subcommand, on the threads `--threads` or `NABLA_THREADS` asks for
/// (default: the library's, the machine's available cores).
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let from_env = match std::env::var_os("NABLA_THREADS") {
        Some(value) => {
            let value = value.to_string_lossy();
            Some(
                parse_threads(&value)
                    .map_err(|why| anyhow::anyhow!("invalid NABLA_THREADS={value:?}: {why}"))?,
            )
        }
        None => None,
    };
    let threads = |arg: &ThreadsArg| arg.threads.or(from_env);
    match cli.command {
        #[cfg(feature = "bench")]
        Command::Bench(args) => bench::run(&args),
        Command::Init(args) => init::run(&args),
        Command::Train(args) => train::run(&args, threads(&args.threads)),
        Command::Eval(args) => on_threads(threads(&args.threads), || eval::run(&args)),
        Command::Predict(args) => on_threads(threads(&args.threads), || predict::run(&args)),
        Command::Grad(args) => on_threads(threads(&args.threads), || grad::run(&args)),
        Command::Noise(args) => noise::run(&args),
        Command::Explain(args) => on_threads(threads(&args.threads), || explain::run(&args)),
        Command::Diagram(args) => diagram::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Import(args) => import::run(&args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => crate::serve::run(&args),
    }
}

/// Runs a command with `threads` threads for the large products (default: all cores).
fn on_threads(
    threads: Option<usize>,
    command: impl FnOnce() -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    nabla::parallel::with_threads(threads.unwrap_or_else(nabla::parallel::available), command)
}

/// A thread count: a whole number from 1 to [`nabla::parallel::MAX_THREADS`] (for
/// `NABLA_THREADS` and `bench --threads`).
pub fn parse_threads(value: &str) -> Result<usize, String> {
    let max = nabla::parallel::MAX_THREADS;
    match value.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number from 1 to {max}")),
    }
}

/// Fails before any work on an output that could not be written afterwards: a missing
/// folder, a folder in the file's place, or a folder where no file can be created (the
/// files are written to a temporary file there and renamed).
pub fn check_writable(flag: &str, out: &std::path::Path) -> anyhow::Result<()> {
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        bail!("invalid {flag}: folder {} does not exist", dir.display());
    }
    if out.is_dir() {
        bail!("invalid {flag}: {} is a folder, not a file", out.display());
    }
    // A read-only file is not replaced (as `cp` refuses it), though its folder would allow it.
    if std::fs::metadata(out).is_ok_and(|m| m.permissions().readonly()) {
        bail!("cannot write {}: permission denied", out.display());
    }
    if let Err(e) = tempfile::NamedTempFile::new_in(dir) {
        bail!(
            "invalid {flag}: cannot write {} (cannot create a file in {}: {e})",
            out.display(),
            dir.display()
        );
    }
    Ok(())
}

/// The precision a model file was stored in.
pub fn precision_of(path: &Path) -> anyhow::Result<Precision> {
    Ok(match stored_precision(path)? {
        "f64" => Precision::F64,
        _ => Precision::F32,
    })
}

/// Loads a model file in precision T.
pub fn load_model<T: Scalar>(path: &Path) -> anyhow::Result<Model<T>> {
    Model::<T>::load(path).with_context(|| "cannot load the model".to_string())
}

/// Reads `path` for `model` with a loading bar on a terminal (hidden with `quiet`), and
/// says the reader's notes (a pandas index left out, a delimiter detected, …).
pub fn read_for<T: Scalar>(
    path: &Path,
    model: &Model<T>,
    target: Option<&[String]>,
    need_targets: bool,
    options: &ModelReadOptions,
    quiet: bool,
) -> anyhow::Result<ModelData<T>> {
    let loading = crate::output::LoadBar::new(quiet);
    let read = read_for_model_with(
        path,
        model,
        target,
        need_targets,
        options,
        Some(&mut |done, total| loading.update(done, total)),
    );
    loading.finish();
    let read = read?;
    for note in &read.notes {
        crate::output::note(crate::output::table_note(note));
    }
    Ok(read)
}
