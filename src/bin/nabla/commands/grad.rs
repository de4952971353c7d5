//! `nabla grad`: `∂C/∂W^[l]` and `∂C/∂b^[l]` of a model on the user's data, C being the mean
//! cost over all rows (no regularisation), under the model file's tensor names.

use std::collections::BTreeMap;

use nabla::data::source::read_for_model;
use nabla::model_file::{dtype_of, layer_tensors, serialize_safetensors, Model};
use nabla::{Gradients, Pass, Scalar};
use serde_json::json;

use crate::cli::{GradArgs, Precision};
use crate::commands::{check_writable, load_model};
use crate::output;

pub fn run(args: &GradArgs) -> anyhow::Result<()> {
    if let Some(out) = &args.out {
        check_writable("--out", out)?;
    }
    match args.precision {
        Precision::F32 => run_in::<f32>(args),
        Precision::F64 => run_in::<f64>(args),
    }
}

fn run_in<T: Scalar>(args: &GradArgs) -> anyhow::Result<()> {
    let model: Model<T> = load_model(&args.model)?;
    let data = read_for_model(&args.data, &model, args.target.as_deref(), true)?;
    let net = &model.network;
    let mut pass = Pass::new(net.sizes(), data.len());
    let mut grads = Gradients::zeros(net.sizes());
    let cost = net.backprop(&data.x, &data.y, &mut pass, &mut grads)?;
    let to_f64 = |v: &T| v.to_f64().unwrap_or(f64::NAN);

    if let Some(out) = &args.out {
        let buffers = layer_tensors::<T>(net.sizes(), |l| {
            (grads.nabla_w[l].as_slice(), grads.nabla_b[l].as_slice())
        });
        let meta = BTreeMap::from([
            ("format".to_string(), "nabla-gradients/1".to_string()),
            ("cost".to_string(), cost.to_string()),
            ("examples".to_string(), data.len().to_string()),
        ]);
        let bytes = serialize_safetensors(dtype_of::<T>(), &buffers, &meta);
        nabla::atomic::write(out, &bytes)?;
    }

    if args.json {
        let mut tensors = serde_json::Map::new();
        for l in 1..=net.last() {
            let w = &grads.nabla_w[l];
            let rows: Vec<Vec<f64>> = (0..w.rows())
                .map(|j| w.row(j).iter().map(to_f64).collect())
                .collect();
            tensors.insert(format!("layers.{}.weight", l - 1), json!(rows));
            tensors.insert(
                format!("layers.{}.bias", l - 1),
                json!(grads.nabla_b[l].iter().map(to_f64).collect::<Vec<_>>()),
            );
        }
        let object = json!({ "cost": to_f64(&cost), "examples": data.len(), "precision": T::NAME, "gradients": tensors });
        return Ok(output::line(serde_json::to_string(&object)?)?);
    }
    output::line(format!(
        "C = {:.10} over {} examples ({} cost, {})",
        to_f64(&cost),
        data.len(),
        net.cost(),
        T::NAME
    ))?;
    for l in 1..=net.last() {
        let w = &grads.nabla_w[l];
        let norm = |v: &mut dyn Iterator<Item = f64>| v.map(|x| x * x).sum::<f64>().sqrt();
        output::line(format!(
            "layers.{}.weight  dC/dW^[{l}]  {}x{}  |.| = {:.6e}  max |.| = {:.6e}",
            l - 1,
            w.rows(),
            w.cols(),
            norm(&mut w.as_slice().iter().map(to_f64)),
            w.as_slice()
                .iter()
                .map(|v| to_f64(v).abs())
                .fold(0.0, f64::max)
        ))?;
        let b = &grads.nabla_b[l];
        output::line(format!(
            "layers.{}.bias    dC/db^[{l}]  {}  |.| = {:.6e}  max |.| = {:.6e}",
            l - 1,
            b.len(),
            norm(&mut b.iter().map(to_f64)),
            b.iter().map(|v| to_f64(v).abs()).fold(0.0, f64::max)
        ))?;
    }
    if args.out.is_none() {
        output::note("use --json for every entry, or --out g.safetensors to save them");
    }
    Ok(())
}
