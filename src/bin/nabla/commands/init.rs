//! `nabla init`: an untrained network in a model file.

use nabla::model_file::Model;
use nabla::{Architecture, Network, Scalar};

use crate::cli::{InitArgs, Precision};
use crate::commands::check_writable;
use crate::output;

pub fn run(args: &InitArgs) -> anyhow::Result<()> {
    check_writable("--out", &args.out)?;
    match args.precision {
        Precision::F32 => run_in::<f32>(args),
        Precision::F64 => run_in::<f64>(args),
    }
}

fn run_in<T: Scalar>(args: &InitArgs) -> anyhow::Result<()> {
    let output = args
        .output
        .unwrap_or_else(|| nabla::spec::default_output(args.task, args.cost, false));
    let arch = Architecture::new(&args.layers, args.activation, output, args.cost)?;
    let net: Network<T> = Network::new(arch, args.init, args.seed)?;
    let mut model = Model::new(net, args.task);
    model.extra.insert(
        "init".into(),
        serde_json::json!({"init": args.init, "seed": args.seed}).to_string(),
    );
    model.save(&args.out)?;
    let sizes: Vec<String> = args.layers.iter().map(usize::to_string).collect();
    output::line(format!(
        "wrote {}: [{}] {} hidden, {output} output, {} cost, {} parameters ({})",
        args.out.display(),
        sizes.join(", "),
        args.activation,
        args.cost,
        model.network.parameter_count(),
        T::NAME
    ))?;
    Ok(())
}
