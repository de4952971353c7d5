//! `nabla diagram`: the network drawn like the tutorial's Fig. 1 (see `nabla::plot`).

use anyhow::Context;
use nabla::explain::running_example;
use nabla::model_file::Model;
use nabla::Network;

use crate::cli::DiagramArgs;
use crate::commands::{check_writable, load_model};
use crate::output;

pub fn run(args: &DiagramArgs) -> anyhow::Result<()> {
    // Checked before loading, so that a wrong name fails fast and writes nothing.
    nabla::plot::ImageFormat::of_path(&args.out, nabla::Setting::Out)?;
    check_writable("--out", &args.out)?;
    let net: Network<f64> = match &args.model {
        Some(path) if !args.demo => {
            let model: Model<f64> = load_model(path)?;
            model.network
        }
        _ => running_example().0,
    };
    nabla::plot::network_diagram(&net, &args.out)
        .with_context(|| format!("cannot write the diagram to {}", args.out.display()))?;
    output::line(format!(
        "wrote {} (network {:?}, {} weights)",
        args.out.display(),
        net.sizes(),
        net.sizes().windows(2).map(|p| p[0] * p[1]).sum::<usize>()
    ))?;
    Ok(())
}
