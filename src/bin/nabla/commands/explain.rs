//! `nabla explain`: one example through the network, equation by equation (FF, BP1–BP4),
//! with a check against central differences. The data comes from `nabla::explain`; this file
//! only picks the example and prints.

use anyhow::Context;
use nabla::data::source::read_for_model;
use nabla::explain::{
    example_at, explain, render_markdown, render_text, running_example, RenderOptions,
};
use nabla::model_file::Model;

use crate::cli::{ExplainArgs, ExplainFormat};
use crate::commands::load_model;
use crate::output;

pub fn run(args: &ExplainArgs) -> anyhow::Result<()> {
    let (net, x, y, source, origin) = if args.demo {
        let (net, x, y) = running_example();
        let source =
            "the tutorial's running example: x = (0.05, 0.10), y = (0.01, 0.99)".to_string();
        (net, x, y, source, serde_json::json!({ "demo": true }))
    } else {
        let (Some(model_path), Some(data_path)) = (&args.model, &args.data) else {
            anyhow::bail!("give --model and --data, or --demo");
        };
        let model: Model<f64> = load_model(model_path)?;
        let mut data = read_for_model(data_path, &model, args.target.as_deref(), true)?;
        // The network learnt standardised targets: y in its units.
        model.scale_targets(&mut data)?;
        let (x, y) = example_at(&data.x, &data.y, args.row, &data_path.display().to_string())?;
        let label = data
            .labels
            .as_ref()
            .and_then(|labels| labels.get(args.row - 1))
            .and_then(|&c| model.classes.get(c));
        let mut source = format!("example: row {} of {}", args.row, data_path.display());
        if let Some(label) = label {
            source += &format!(" (class '{label}')");
        }
        if model.scaling.is_some() {
            source += ", x after the model's input scaling";
        }
        if let Some(t) = &model.target_scaling {
            let maps: Vec<String> = (0..t.offset.len())
                .map(|j| {
                    format!(
                        "y_{} = a_{}^[L] * {} + {}",
                        j + 1,
                        j + 1,
                        output::number(1.0 / t.factor[j]),
                        output::number(t.offset[j])
                    )
                })
                .collect();
            source += &format!(
                "\noutputs a^[L] and y are in standardised units (the targets the network learnt); in the targets' own units {}",
                maps.join(", ")
            );
        }
        let origin = serde_json::json!({
            "model": model_path.display().to_string(),
            "data": data_path.display().to_string(),
            "row": args.row,
            "class": label,
            "target_scaling": model.target_scaling,
        });
        (model.network, x, y, source, origin)
    };
    let explanation = explain(&net, &x, &y).context("cannot explain the example")?;

    let options = RenderOptions {
        full: args.full,
        source: Some(source),
        ..RenderOptions::default()
    };
    match args.format {
        ExplainFormat::Text => output::line(render_text(&explanation, &options).trim_end())?,
        ExplainFormat::Markdown => {
            output::line(render_markdown(&explanation, &options).trim_end())?
        }
        ExplainFormat::Json => {
            let mut object = serde_json::to_value(&explanation)?;
            // The gradients again under the model file's tensor names, as `nabla grad --json`
            // prints them, so the two can be compared entry by entry.
            let mut gradients = serde_json::Map::new();
            for l in 1..=explanation.last() {
                for (symbol, tensor) in [("dc/dW", "weight"), ("dc/db", "bias")] {
                    let step = explanation
                        .step(symbol, l)
                        .expect("every layer has BP3 and BP4");
                    gradients.insert(
                        format!("layers.{}.{tensor}", l - 1),
                        serde_json::to_value(&step.value)?,
                    );
                }
            }
            object["gradients"] = gradients.into();
            object["source"] = origin;
            output::line(serde_json::to_string(&object)?)?;
        }
    }
    Ok(())
}
