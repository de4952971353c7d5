//! `nabla export`: a model for other tools (ONNX, PyTorch).

use nabla::export::{export, torch, Format};
use nabla::Scalar;

use crate::cli::{ExportArgs, Precision};
use crate::commands::{check_writable, load_model, precision_of};
use crate::output;

pub fn run(args: &ExportArgs) -> anyhow::Result<()> {
    check_writable("--out", &args.out)?;
    if args.format == Format::Torch {
        torch::python_path(&args.out)?;
    }
    match precision_of(&args.model)? {
        Precision::F32 => run_in::<f32>(args),
        Precision::F64 => run_in::<f64>(args),
    }
}

fn run_in<T: Scalar>(args: &ExportArgs) -> anyhow::Result<()> {
    let model = load_model::<T>(&args.model)?;
    let written = export(&model, args.format, &args.out)?;
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    output::line(format!(
        "wrote {} ({}, {})",
        names.join(" and "),
        args.format,
        T::NAME
    ))?;
    Ok(())
}
