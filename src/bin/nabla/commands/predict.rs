//! `nabla predict`: one CSV row per input row.

use std::fmt::Write as _;

use nabla::data::source::ModelReadOptions;
use nabla::metrics::argmax;
use nabla::model_file::{Model, Task};
use nabla::Scalar;

use crate::cli::{Precision, PredictArgs};
use crate::commands::{check_writable, load_model, precision_of, read_for};
use crate::output;

pub fn run(args: &PredictArgs) -> anyhow::Result<()> {
    if let Some(out) = &args.out {
        check_writable("--out", out)?;
    }
    match precision_of(&args.model)? {
        Precision::F32 => run_in::<f32>(args),
        Precision::F64 => run_in::<f64>(args),
    }
}

fn run_in<T: Scalar>(args: &PredictArgs) -> anyhow::Result<()> {
    let model: Model<T> = load_model(&args.model)?;
    let options = ModelReadOptions {
        delimiter: args.delimiter.map(|d| d as u8),
        unknown_category: args.unknown_category,
        keep: args.keep.clone().unwrap_or_default(),
    };
    let read = read_for(
        &args.data,
        &model,
        args.target.as_deref(),
        false,
        &options,
        false,
    )?;
    let data = read.data;
    let kept = read.kept;
    let mut a = model.network.predict(&data.x)?;
    // Regression: the targets' own units (the network learnt standardised ones).
    model.unscale_outputs(&mut a)?;
    let mut csv = String::new();
    let n_out = a.cols();
    // The kept columns come first, as they are.
    let keep_header: String = options.keep.iter().map(|k| quote(k) + ",").collect();
    let keep_row = |i: usize| -> String { kept.iter().map(|c| quote(&c[i]) + ",").collect() };
    match model.task {
        Task::Classification => {
            // The first column is `predicted`, unless a class has that name: then
            // `predicted_` (with as many underscores as it takes), so no two columns share one.
            let mut first = "predicted".to_string();
            while model.classes.contains(&first) {
                first.push('_');
            }
            while options.keep.contains(&first) {
                first.push('_');
            }
            let header: Vec<String> = std::iter::once(first)
                .chain(model.classes.iter().map(|c| quote(c)))
                .collect();
            csv += &keep_header;
            csv += &header.join(",");
            csv.push('\n');
            for i in 0..a.rows() {
                let row = a.row(i);
                csv += &keep_row(i);
                csv += &quote(&model.classes[argmax(row)]);
                for v in row {
                    write!(csv, ",{v}").expect("writing to a String");
                }
                csv.push('\n');
            }
        }
        Task::Regression => {
            let names: Vec<String> = match &model.targets {
                Some(t) if t.len() == n_out => t.iter().map(|s| quote(s)).collect(),
                _ => (0..n_out).map(|j| format!("y{j}")).collect(),
            };
            csv += &keep_header;
            csv += &names.join(",");
            csv.push('\n');
            for i in 0..a.rows() {
                csv += &keep_row(i);
                let cells: Vec<String> = a.row(i).iter().map(|v| v.to_string()).collect();
                csv += &cells.join(",");
                csv.push('\n');
            }
        }
    }
    match &args.out {
        Some(path) => {
            nabla::atomic::write(path, csv.as_bytes())?;
            output::note(format!(
                "wrote {} predictions to {}",
                a.rows(),
                path.display()
            ));
        }
        None => {
            use std::io::Write;
            std::io::stdout().lock().write_all(csv.as_bytes())?;
        }
    }
    Ok(())
}

/// A CSV field, quoted when it needs to be.
fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
