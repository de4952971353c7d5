//! The command line, as clap derive types. Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use nabla::model_file::Task;
use nabla::{Activation, Cost, Init};

/// Build, train and explain fully-connected neural networks with backpropagation.
///
/// Notation follows the tutorial: W^[l] is n_l x n_(l-1), z^[l] = W^[l] a^[l-1] + b^[l],
/// a^[l] = g(z^[l]), e^[l] = dc/dz^[l].
#[derive(Debug, Parser)]
#[command(
    name = "nabla",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an untrained network and write it to a model file.
    Init(InitArgs),
    /// Train a network (new, or continued with --from) and optionally save it.
    ///
    /// With no --data, trains Nielsen's [784,30,10] sigmoid network with the quadratic cost
    /// (eta 3.0, mini-batch 10, 30 epochs) on the embedded MNIST subset (8000 train, 2000 test).
    Train(TrainArgs),
    /// Evaluate a model on a data set: cost, accuracy and confusion matrix, or RMSE/MAE/R^2.
    Eval(EvalArgs),
    /// Predict: one CSV row per input row.
    Predict(PredictArgs),
    /// The gradient of C (mean cost over the given rows) for every weight and bias.
    Grad(GradArgs),
}

/// Floating-point precision of the computation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Precision {
    /// 32-bit floats (fast; the default for training).
    F32,
    /// 64-bit floats (for exact checks).
    F64,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Layer sizes n_0,...,n_L, e.g. 4,5,3.
    #[arg(long, value_delimiter = ',', required = true, value_parser = parse_size)]
    pub layers: Vec<usize>,
    /// Activation g of the hidden layers.
    #[arg(long, default_value = "sigmoid", value_parser = parse_activation)]
    pub activation: Activation,
    /// Activation g of the output layer (default: softmax for classification with
    /// cross-entropy, identity for regression, otherwise sigmoid).
    #[arg(long, value_parser = parse_activation)]
    pub output: Option<Activation>,
    /// Cost c_x: quadratic or cross-entropy.
    #[arg(long, default_value = "quadratic", value_parser = parse_cost)]
    pub cost: Cost,
    /// What the outputs mean: classification (classes 0..n_L-1) or regression.
    #[arg(long, default_value = "classification", value_parser = parse_task)]
    pub task: Task,
    /// Seed of every random draw.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Initialisation: nielsen (w ~ N(0,1/n_in), b ~ N(0,1)), xavier or he.
    #[arg(long, default_value = "nielsen", value_parser = parse_init)]
    pub init: Init,
    /// Precision of the stored tensors.
    #[arg(long, value_enum, default_value = "f32")]
    pub precision: Precision,
    /// The model file to write (safetensors).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training data: a CSV file with a header row, or an IDX images file
    /// (*-images-idx3-ubyte[.gz], labels read from the matching labels file).
    /// Default: the embedded MNIST subset.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Test data evaluated after each epoch (same format as --data).
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Target column(s) of a CSV file (default: the last column).
    #[arg(long, value_delimiter = ',')]
    pub target: Option<Vec<String>>,
    /// Classification (labels, integers or text) or regression (numeric targets).
    #[arg(long, value_parser = parse_task)]
    pub task: Option<Task>,
    /// All layer sizes n_0,...,n_L, e.g. 784,30,10 (must match the data).
    #[arg(long, value_delimiter = ',', value_parser = parse_size, conflicts_with = "hidden")]
    pub layers: Option<Vec<usize>>,
    /// Hidden layer sizes only, e.g. 64,32; input and output sizes come from the data.
    /// Default for CSV data: 30.
    #[arg(long, value_delimiter = ',', value_parser = parse_size)]
    pub hidden: Option<Vec<usize>>,
    /// Activation g of the hidden layers (default sigmoid).
    #[arg(long, value_parser = parse_activation)]
    pub activation: Option<Activation>,
    /// Activation g of the output layer (default: sigmoid for MNIST, softmax for CSV
    /// classification, identity for regression).
    #[arg(long, value_parser = parse_activation)]
    pub output: Option<Activation>,
    /// Cost c_x (default: quadratic for MNIST and regression, cross-entropy for CSV classification).
    #[arg(long, value_parser = parse_cost)]
    pub cost: Option<Cost>,
    /// Learning rate eta (default: 3.0 for MNIST, 0.5 for classification, 0.05 for regression).
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Mini-batch size m (1 = online, >= number of rows = full batch).
    #[arg(long, default_value_t = 10, value_parser = parse_size)]
    pub batch_size: usize,
    /// Passes over the training data.
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    /// Seed of every random draw (initial weights, shuffling).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Keep the examples in file order instead of shuffling each epoch.
    #[arg(long)]
    pub no_shuffle: bool,
    /// Initialisation: nielsen (w ~ N(0,1/n_in), b ~ N(0,1)), xavier or he.
    #[arg(long, value_parser = parse_init)]
    pub init: Option<Init>,
    /// Gradient descent with momentum mu (PyTorch's form: v <- mu v + g, w <- w - eta v).
    #[arg(long, value_parser = parse_momentum, allow_negative_numbers = true)]
    pub momentum: Option<f64>,
    /// Precision of the computation and of the saved model.
    #[arg(long, value_enum)]
    pub precision: Option<Precision>,
    /// Do not standardise CSV features (by default a standardisation is fitted on the
    /// training data and stored in the model).
    #[arg(long)]
    pub no_scaling: bool,
    /// Continue training this model file; its architecture wins, and conflicting
    /// architecture flags are an error.
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// Write the trained model here (safetensors, written atomically).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print one JSON object on stdout at the end instead of the per-epoch table.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The model file.
    #[arg(long)]
    pub model: PathBuf,
    /// Data to evaluate on (CSV or IDX).
    #[arg(long)]
    pub data: PathBuf,
    /// Target column(s) (default: those the model was trained with, else the last column).
    #[arg(long, value_delimiter = ',')]
    pub target: Option<Vec<String>>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model file.
    #[arg(long)]
    pub model: PathBuf,
    /// Inputs (CSV or IDX). Target columns, if present, are ignored.
    #[arg(long)]
    pub data: PathBuf,
    /// Target column(s) to ignore, for a model without stored feature names.
    #[arg(long, value_delimiter = ',')]
    pub target: Option<Vec<String>>,
    /// Write the predictions here (atomically) instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct GradArgs {
    /// The model file.
    #[arg(long)]
    pub model: PathBuf,
    /// Data (CSV or IDX); C is the mean cost over all its rows.
    #[arg(long)]
    pub data: PathBuf,
    /// Target column(s) (default: those the model was trained with, else the last column).
    #[arg(long, value_delimiter = ',')]
    pub target: Option<Vec<String>>,
    /// Precision of the computation (default f64, for exact values).
    #[arg(long, value_enum, default_value = "f64")]
    pub precision: Precision,
    /// Write the gradients as safetensors, under the model's tensor names.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print every gradient as one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn parse_size(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a positive whole number")),
    }
}

fn parse_positive(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err("must be a positive number".into()),
        Err(_) => Err(format!("'{s}' is not a number")),
    }
}

fn parse_momentum(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        Ok(_) => Err("must be in [0, 1)".into()),
        Err(_) => Err(format!("'{s}' is not a number")),
    }
}

fn parse_activation(s: &str) -> Result<Activation, String> {
    s.parse().map_err(|e: nabla::Error| strip_field(e))
}
fn parse_cost(s: &str) -> Result<Cost, String> {
    s.parse().map_err(|e: nabla::Error| strip_field(e))
}
fn parse_init(s: &str) -> Result<Init, String> {
    s.parse().map_err(|e: nabla::Error| strip_field(e))
}
fn parse_task(s: &str) -> Result<Task, String> {
    s.parse().map_err(|e: nabla::Error| strip_field(e))
}

/// clap already names the flag, so drop the library's "invalid <field>: " prefix.
fn strip_field(e: nabla::Error) -> String {
    match e {
        nabla::Error::InvalidConfig { message, .. } => message,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
