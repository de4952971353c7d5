//! `nabla import`: a PyTorch state dict as a nabla model file.

use nabla::import::{from_torch, torch_precision, TorchImport};
use nabla::model_file::Model;
use nabla::Scalar;

use crate::cli::ImportArgs;
use crate::commands::check_writable;
use crate::output;

pub fn run(args: &ImportArgs) -> anyhow::Result<()> {
    check_writable("--out", &args.out)?;
    let bytes = std::fs::read(&args.torch).map_err(|e| nabla::Error::io(&args.torch, e))?;
    match torch_precision(&bytes, &args.torch)? {
        "f64" => run_in::<f64>(args, &bytes),
        _ => run_in::<f32>(args, &bytes),
    }
}

fn run_in<T: Scalar>(args: &ImportArgs, bytes: &[u8]) -> anyhow::Result<()> {
    let spec = TorchImport {
        activation: args.activation,
        output: args.output,
        cost: args.cost,
        task: args.task,
        features: args.features.clone(),
        classes: args.classes.clone(),
        targets: args.targets.clone(),
    };
    let model: Model<T> = from_torch(bytes, &args.torch, &spec)?;
    model.save(&args.out)?;
    let arch = model.network.architecture();
    let sizes: Vec<String> = arch.sizes.iter().map(usize::to_string).collect();
    output::line(format!(
        "wrote {}: [{}] {} hidden, {} output, {} cost, {} ({})",
        args.out.display(),
        sizes.join(", "),
        arch.hidden,
        arch.output,
        arch.cost,
        model.task,
        T::NAME
    ))?;
    Ok(())
}
