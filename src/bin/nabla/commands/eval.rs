//! `nabla eval`: cost and accuracy (with a confusion matrix), or RMSE, MAE and R².

use nabla::data::source::ModelReadOptions;
use nabla::model_file::{Model, Task};
use nabla::Scalar;
use serde_json::json;

use crate::cli::{EvalArgs, Precision};
use crate::commands::{load_model, precision_of, read_for};
use crate::output;

pub fn run(args: &EvalArgs) -> anyhow::Result<()> {
    match precision_of(&args.model)? {
        Precision::F32 => run_in::<f32>(args),
        Precision::F64 => run_in::<f64>(args),
    }
}

fn run_in<T: Scalar>(args: &EvalArgs) -> anyhow::Result<()> {
    let model: Model<T> = load_model(&args.model)?;
    let options = ModelReadOptions {
        delimiter: args.delimiter.map(|d| d as u8),
        unknown_category: args.unknown_category,
        keep: Vec::new(),
    };
    let read = read_for(
        &args.data,
        &model,
        args.target.as_deref(),
        true,
        &options,
        args.json,
    )?;
    let data = read.data;
    // The cost on what the network learnt (standardised targets), the errors in the
    // targets' own units.
    let eval = model.evaluate(&data)?;
    if args.json {
        let mut object = serde_json::to_value(&eval)?;
        object["task"] = json!(model.task);
        if model.task == Task::Classification {
            object["classes"] = json!(model.classes);
        }
        return Ok(output::line(serde_json::to_string(&object)?)?);
    }
    output::line(format!("examples  {}", eval.n))?;
    output::line(format!(
        "cost C    {:.6} ({})",
        eval.cost,
        model.network.cost()
    ))?;
    match model.task {
        Task::Classification => {
            let correct = eval
                .confusion
                .as_ref()
                .map_or(0, |c| (0..c.len()).map(|i| c[i][i]).sum::<usize>());
            output::line(format!(
                "accuracy  {} ({correct}/{})",
                output::percent(eval.accuracy.unwrap_or(f64::NAN)),
                eval.n
            ))?;
            output::line(format!(
                "macro F1  {:.4}",
                eval.macro_f1.unwrap_or(f64::NAN)
            ))?;
            if let Some(confusion) = &eval.confusion {
                output::confusion_matrix(&model.classes, confusion, eval.n)?;
            }
        }
        Task::Regression => {
            output::line(format!("RMSE      {:.6}", eval.rmse.unwrap_or(f64::NAN)))?;
            output::line(format!("MAE       {:.6}", eval.mae.unwrap_or(f64::NAN)))?;
            output::line(format!("R^2       {:.6}", eval.r2.unwrap_or(f64::NAN)))?;
            for (name, rmse, mae, r2) in output::per_target(&eval, model.targets.as_deref()) {
                output::line(format!(
                    "  {name}: RMSE {rmse:.6}  MAE {mae:.6}  R^2 {r2:.6}"
                ))?;
            }
            if model.target_scaling.is_some() {
                output::note("the cost is on the standardised targets the network learnt; RMSE, MAE and R^2 are in the targets' units");
            }
        }
    }
    Ok(())
}
