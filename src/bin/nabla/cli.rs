//! The command line, as clap derive types. Doc comments are the help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use nabla::data::encoding::{Impute, UnknownCategory};
use nabla::export::Format;
use nabla::model_file::Task;
use nabla::spec::Preset;
use nabla::{Activation, Cost, Init, OptimizerKind, Schedule, TrainSpec};

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
    Train(Box<TrainArgs>),
    /// Evaluate a model on a data set: cost, accuracy and confusion matrix, or RMSE/MAE/R^2.
    Eval(EvalArgs),
    /// Predict: one CSV row per input row.
    Predict(PredictArgs),
    /// The gradient of C (mean cost over the given rows) for every weight and bias.
    Grad(GradArgs),
    /// N-dimensional simplex noise (kernel radius r^2 = 1/2): values at given points, a PNG
    /// of a 2-D slice, or a smooth regression data set.
    Noise(NoiseArgs),
    /// Walk one example through the network, equation by equation (FF, BP1-BP4), with a
    /// check of the gradients against central differences.
    ///
    /// Prints a^[0] = x, every z^[l] and a^[l], the cost c_x, e^[L] (BP1), each e^[l] (BP2),
    /// dc/db^[l] (BP3) and dc/dw_jk^[l] (BP4). With --demo, uses the tutorial's running
    /// example (a [2,2,2] sigmoid network with fixed weights) to follow with pencil and paper.
    Explain(ExplainArgs),
    /// Draw the network: neurons in columns, one line per weight w_jk^[l], blue for w > 0,
    /// red for w < 0, wider for larger |w|. SVG or PNG by the name given to --out.
    Diagram(DiagramArgs),
    /// Write a model for other tools: ONNX (onnxruntime and every ONNX runtime) or a
    /// PyTorch nn.Sequential state dict (safetensors) with the Python that rebuilds it.
    ///
    /// Both take raw features (the model's input scaling is part of them) and give what
    /// `nabla predict` gives.
    Export(ExportArgs),
    /// Read a PyTorch nn.Sequential of Linear layers (a safetensors state dict, keys
    /// N.weight and N.bias) as a nabla model file.
    Import(ImportArgs),
    /// The playground in the browser: pick a data set and a network, watch backpropagation
    /// train it, click a point to see z^[l], a^[l], e^[l] and the gradients (BP1-BP4).
    ///
    /// Prints the URL to open. Training runs in this process (the library, one thread per
    /// tab); the page only draws.
    #[cfg(feature = "serve")]
    Serve(ServeArgs),
    /// Time the peer workloads W1-W4 (BENCHMARKS.md, scripts/compare.sh): W1 [784,30,10]
    /// sigmoid, W2 [784,256,128,10] and W3 [784,1024,1024,10] ReLU/softmax training, W4 W2's
    /// inference.
    ///
    /// Each training workload runs one warm-up epoch, then --epochs timed epochs (training
    /// pass only); the table shows their median. W4: median of 11 passes at batch 2000, and
    /// the mean batch-1 latency over the 2000 test images (median of 3 passes), through a
    /// Predictor (which skips the weights of zero inputs; the library's way to serve one
    /// example at a time) and through Network::infer (every weight read). Same bits.
    ///
    /// As in the peers' harness, only timed regions during which other processes used
    /// under a quarter of a core count; more run when too few were clean (the JSON says
    /// whether they all were).
    #[cfg(feature = "bench")]
    Bench(BenchArgs),
}

#[cfg(feature = "bench")]
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Comma-separated workloads to run.
    #[arg(long, default_value = "W1,W2,W3,W4")]
    pub workloads: String,
    /// Timed epochs per training workload (after one warm-up epoch).
    #[arg(long, default_value_t = 5)]
    pub epochs: usize,
    /// Threads (1 to 256) for the large matrix products (M*N*K >= 2^21, and batch-1 products of N*K >= 2^15), the optimizer's update of large layers and batch inference; default: NABLA_THREADS, else all cores.
    /// Results are the same bits at any thread count.
    #[arg(long, value_parser = crate::commands::parse_threads, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Print JSON (for scripts/compare.sh) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Before each workload, wait up to this many seconds for other processes to leave
    /// the machine quiet (as the peers' harness does; scripts/compare.sh passes 30).
    #[arg(
        long,
        default_value_t = 0.0,
        value_name = "SECONDS",
        allow_negative_numbers = true
    )]
    pub quiet_wait: f64,
}

/// `--threads N`, on every command that computes.
#[derive(Debug, Args)]
pub struct ThreadsArg {
    /// Threads for the large matrix products (1 to 256; results are the same bits at any
    /// count) [default: NABLA_THREADS, else the machine's available cores; small products
    /// stay on one thread].
    #[arg(long, value_parser = crate::commands::parse_threads)]
    pub threads: Option<usize>,
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
#[command(group(clap::ArgGroup::new("noise_output").required(true).args(["points", "image", "dataset"])))]
pub struct NoiseArgs {
    /// Number of dimensions N (1 to 64).
    #[arg(long)]
    pub dims: usize,
    /// Seed of the gradient table and permutation.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Read points from this CSV file (a header row, then N coordinate columns) and print
    /// them with a `value` column.
    #[arg(long)]
    pub points: Option<PathBuf>,
    /// Write a grayscale PNG of a 2-D slice (x0 across, x1 down; -1 black, +1 white).
    #[arg(long)]
    pub image: Option<PathBuf>,
    /// Write a regression data set (columns x0..x{N-1}, value) of --samples random points.
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// Image width and height in pixels.
    #[arg(long, default_value_t = 512)]
    pub size: usize,
    /// The image spans [0, scale) in x0 and x1; the data set samples [0, scale)^N.
    #[arg(long, default_value_t = 8.0, allow_negative_numbers = true)]
    pub scale: f64,
    /// Fractal sum of this many octaves (1 = plain noise).
    #[arg(long, default_value_t = 1)]
    pub octaves: u32,
    /// Frequency factor between octaves.
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true)]
    pub lacunarity: f64,
    /// Amplitude factor between octaves.
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    pub gain: f64,
    /// For N > 2, the fixed coordinates x2, x3, ... of the image slice (default 0).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub at: Vec<f64>,
    /// Number of points in the data set.
    #[arg(long, default_value_t = 10000)]
    pub samples: usize,
    /// Seed of the data set's random points (default: --seed); use another one for a test
    /// set of the same field.
    #[arg(long)]
    pub sample_seed: Option<u64>,
    /// Write the --points output here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Layer sizes n_0,...,n_L, e.g. 4,5,3.
    #[arg(long, value_delimiter = ',', required = true, value_parser = parse_size)]
    pub layers: Vec<usize>,
    /// Activation g of the hidden layers.
    #[arg(long, default_value = "sigmoid", value_parser = parse_named::<Activation>)]
    pub activation: Activation,
    /// Activation g of the output layer (default, as `train` chooses it for a CSV file:
    /// softmax for classification, identity for regression).
    #[arg(long, value_parser = parse_named::<Activation>)]
    pub output: Option<Activation>,
    /// Cost c_x: quadratic or cross-entropy.
    #[arg(long, default_value = "quadratic", value_parser = parse_named::<Cost>)]
    pub cost: Cost,
    /// What the outputs mean: classification (classes 0..n_L-1) or regression.
    #[arg(long, default_value = "classification", value_parser = parse_named::<Task>)]
    pub task: Task,
    /// Seed of every random draw.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Initialisation: nielsen (w ~ N(0,1/n_in), b ~ N(0,1)), xavier or he.
    #[arg(long, default_value = "nielsen", value_parser = parse_named::<Init>)]
    pub init: Init,
    /// Precision of the stored tensors.
    #[arg(long, value_enum, default_value = "f32")]
    pub precision: Precision,
    /// The model file to write (safetensors).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
#[command(args_override_self = true)]
pub struct TrainArgs {
    #[command(flatten)]
    pub threads: ThreadsArg,
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
    /// CSV columns that are neither features nor targets (an ID, a note): left out of the
    /// inputs. `eval` and `predict` then ignore them too (they read the model's features by name).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Option<Vec<String>>,
    /// Classification (labels, integers or text) or regression (numeric targets).
    #[arg(long, value_parser = parse_named::<Task>)]
    pub task: Option<Task>,
    /// All layer sizes n_0,...,n_L, e.g. 784,30,10 (must match the data).
    #[arg(long, value_delimiter = ',', value_parser = parse_size, conflicts_with = "hidden")]
    pub layers: Option<Vec<usize>>,
    /// Hidden layer sizes only, e.g. 64,32; input and output sizes come from the data.
    /// Default for CSV data: 30.
    #[arg(long, value_delimiter = ',', value_parser = parse_size)]
    pub hidden: Option<Vec<usize>>,
    /// Activation g of the hidden layers (default sigmoid).
    #[arg(long, value_parser = parse_named::<Activation>)]
    pub activation: Option<Activation>,
    /// Activation g of the output layer (default: sigmoid for MNIST, softmax for CSV
    /// classification, identity for regression).
    #[arg(long, value_parser = parse_named::<Activation>)]
    pub output: Option<Activation>,
    /// Cost c_x (default: quadratic for MNIST and regression, cross-entropy for CSV classification).
    #[arg(long, value_parser = parse_named::<Cost>)]
    pub cost: Option<Cost>,
    /// Learning rate eta (default: 3.0 for MNIST, lower for wider hidden layers and ReLU, 0.5 for classification, 0.05 for regression; times 1 - mu with --momentum mu; the optimizer's own for adam, rmsprop, rprop, lbfgs).
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Mini-batch size m (1 = online, >= number of rows = full batch) [default: 10; rprop and lbfgs always use the full batch].
    #[arg(long, value_parser = parse_size)]
    pub batch_size: Option<usize>,
    /// Passes over the training data [default: 30].
    #[arg(long, value_parser = parse_size)]
    pub epochs: Option<usize>,
    /// Seed of every random draw (initial weights, shuffling) [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Keep the examples in file order instead of shuffling each epoch.
    #[arg(long)]
    pub no_shuffle: bool,
    /// Initialisation: nielsen (w ~ N(0,1/n_in), b ~ N(0,1)), xavier or he.
    #[arg(long, value_parser = parse_named::<Init>)]
    pub init: Option<Init>,
    /// Optimizer (defaults as PyTorch's torch.optim): sgd; momentum (mu 0.9, no dampening);
    /// rmsprop (lr 0.01, alpha 0.99, eps 1e-8); adam (lr 0.001, betas 0.9/0.999, eps 1e-8);
    /// adamw (adam + weight decay 0.01); rprop (iRPROP-, lr 0.01 = initial step, etas 0.5/1.2,
    /// steps 1e-6..50; full batch); lbfgs (lr 1, history 100, no line search; full batch).
    #[arg(long, value_parser = parse_named::<OptimizerKind>)]
    pub optimizer: Option<OptimizerKind>,
    /// Momentum mu for --optimizer momentum (v <- mu v + g, w <- w - eta v); given alone it
    /// selects the momentum optimizer.
    #[arg(long, value_parser = parse_probability, allow_negative_numbers = true)]
    pub momentum: Option<f64>,
    /// Nesterov momentum (w <- w - eta (g + mu v)).
    #[arg(long)]
    pub nesterov: bool,
    /// Adam/AdamW beta1 (0.9).
    #[arg(long, value_parser = parse_unit, allow_negative_numbers = true)]
    pub beta1: Option<f64>,
    /// Adam/AdamW beta2 (0.999).
    #[arg(long, value_parser = parse_unit, allow_negative_numbers = true)]
    pub beta2: Option<f64>,
    /// Epsilon of rmsprop/adam/adamw (1e-8).
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub eps: Option<f64>,
    /// RMSprop smoothing alpha (0.99).
    #[arg(long, value_parser = parse_unit, allow_negative_numbers = true)]
    pub alpha: Option<f64>,
    /// AdamW decoupled weight decay (0.01): w <- w - eta wd w before each step.
    #[arg(long, value_parser = parse_non_negative, allow_negative_numbers = true)]
    pub weight_decay: Option<f64>,
    /// L-BFGS history size (100).
    #[arg(long, value_parser = parse_size)]
    pub history: Option<usize>,
    /// Learning-rate schedule: constant; step (x gamma every --step-size epochs; 10, 0.1);
    /// exponential (x gamma each epoch; 0.95); cosine (to --eta-min after --warmup epochs);
    /// invscaling (eta0 / t^power_t, t = examples seen; scikit-learn's); plateau (x factor
    /// after --plateau-patience epochs without improvement; scikit-learn's adaptive: 0.2, 2).
    #[arg(long, value_parser = parse_named::<Schedule>)]
    pub schedule: Option<Schedule>,
    /// Decay factor gamma of the step and exponential schedules.
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub gamma: Option<f64>,
    /// Epochs between decays of the step schedule.
    #[arg(long, value_parser = parse_size)]
    pub step_size: Option<usize>,
    /// Warm-up epochs of the cosine schedule (linear from eta0/warmup to eta0).
    #[arg(long)]
    pub warmup: Option<usize>,
    /// Final learning rate of the cosine schedule (0).
    #[arg(long, value_parser = parse_non_negative, allow_negative_numbers = true)]
    pub eta_min: Option<f64>,
    /// Exponent of the invscaling schedule (0.5).
    #[arg(long, value_parser = parse_non_negative, allow_negative_numbers = true)]
    pub power_t: Option<f64>,
    /// Factor of the plateau schedule (0.2).
    #[arg(long, value_parser = parse_unit, allow_negative_numbers = true)]
    pub factor: Option<f64>,
    /// Epochs without improvement before the plateau schedule cuts eta (2).
    #[arg(long, value_parser = parse_size)]
    pub plateau_patience: Option<usize>,
    /// L2 regularisation lambda as in Nielsen's network2: adds (lambda/2n) sum w^2 to C.
    #[arg(long, value_parser = parse_non_negative, allow_negative_numbers = true)]
    pub l2: Option<f64>,
    /// L1 regularisation lambda: adds (lambda/n) sum |w| to C.
    #[arg(long, value_parser = parse_non_negative, allow_negative_numbers = true)]
    pub l1: Option<f64>,
    /// Inverted dropout on the hidden layers with this probability (off at evaluation).
    #[arg(long, value_parser = parse_probability, allow_negative_numbers = true)]
    pub dropout: Option<f64>,
    /// Rescale the gradient when its Euclidean norm exceeds this (max-norm clipping).
    #[arg(long, value_parser = parse_positive, allow_negative_numbers = true)]
    pub clip_norm: Option<f64>,
    /// Hold out this fraction of the training data (stratified) as a validation set.
    #[arg(long, value_parser = parse_probability, allow_negative_numbers = true)]
    pub validation: Option<f64>,
    /// Early stopping: stop after this many epochs without a lower validation cost and
    /// restore the best weights (needs --validation).
    #[arg(long, value_parser = parse_size)]
    pub patience: Option<usize>,
    /// Read flags from a TOML file (keys are the flag names without "--", e.g. lr = 0.5,
    /// hidden = [64, 32], no-shuffle = true); flags on the command line override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// A named configuration: nielsen-ch1 ([784,30,10] sigmoid, quadratic, eta 3.0,
    /// mini-batch 10, 30 epochs) or nielsen-ch3 ([784,100,10] sigmoid, cross-entropy,
    /// eta 0.5, mini-batch 10, 30 epochs, L2 with Nielsen's decay 1 - eta*5.0/50000 per step,
    /// i.e. lambda 0.8 for our 8000 images) or mnist-best ([784,800,10] ReLU, softmax,
    /// momentum 0.9, eta 0.1 cosine, mini-batch 64, dropout 0.5, L2 2, images shifted by up
    /// to 2 pixels, 60 epochs); --config and flags override it.
    #[arg(long, value_parser = parse_named::<Preset>)]
    pub preset: Option<Preset>,
    /// Data augmentation for IDX/MNIST images: move each training image by up to this many
    /// pixels (random, per draw) in each direction.
    #[arg(long, value_parser = parse_size)]
    pub augment_shift: Option<usize>,
    /// Plot train/test cost and accuracy per epoch to this file (.svg or .png).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Write one JSON line per epoch to this file.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Precision of the computation and of the saved model.
    #[arg(long, value_enum)]
    pub precision: Option<Precision>,
    /// Do not standardise CSV features (by default a standardisation is fitted on the
    /// training data and stored in the model).
    #[arg(long)]
    pub no_scaling: bool,
    /// Do not standardise regression targets (by default each target column is
    /// standardised on the training data, the network trained on it, and predictions,
    /// RMSE, MAE and R^2 given back in the targets' own units).
    #[arg(long)]
    pub no_target_scaling: bool,
    /// Save the --out model every N epochs (atomically), so that an interrupted run can be
    /// continued with --from; with early stopping, the best weights so far.
    #[arg(long, value_parser = parse_size, value_name = "N")]
    pub checkpoint_every: Option<usize>,
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
    /// Print nothing but errors and warnings (and the --json object).
    #[arg(long, short)]
    pub quiet: bool,
    /// CSV cells that mean "missing", comma-separated [default: the empty cell, NA, N/A,
    /// NaN, nan, null, ?].
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    pub na_values: Option<Vec<String>>,
    /// Fill in missing feature values with the training set's mean, median or
    /// most-frequent value (categories: the most frequent), or drop their rows; stored in
    /// the model, so predict and eval fill new rows the same way. Default: an error listing
    /// the columns with missing values.
    #[arg(long, value_parser = parse_named::<Impute>)]
    pub impute: Option<Impute>,
    /// CSV columns to one-hot encode whatever they hold (numeric codes too). Text columns
    /// with at most 20 distinct values, fewer than half their rows, are encoded anyway.
    #[arg(long, value_delimiter = ',')]
    pub categorical: Option<Vec<String>>,
    /// What a category unseen in training becomes when the model predicts: error (naming
    /// file, line and column) or ignore (all zeros). Stored in the model; predict and eval
    /// can override it.
    #[arg(long, value_parser = parse_named::<UnknownCategory>)]
    pub unknown_category: Option<UnknownCategory>,
    /// The character between CSV fields, e.g. ';' or tab [default: a comma, or ';' or a
    /// tab when the header has no comma but one of them].
    #[arg(long, value_parser = parse_delimiter)]
    pub delimiter: Option<char>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub threads: ThreadsArg,
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
    /// The character between CSV fields [default: detected].
    #[arg(long, value_parser = parse_delimiter)]
    pub delimiter: Option<char>,
    /// What a category unseen in training becomes: error or ignore (all zeros) [default:
    /// the model's].
    #[arg(long, value_parser = parse_named::<UnknownCategory>)]
    pub unknown_category: Option<UnknownCategory>,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    #[command(flatten)]
    pub threads: ThreadsArg,
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
    /// Columns of --data to copy into the predictions as they are (e.g. an ID), first.
    #[arg(long, value_delimiter = ',')]
    pub keep: Option<Vec<String>>,
    /// The character between CSV fields [default: detected].
    #[arg(long, value_parser = parse_delimiter)]
    pub delimiter: Option<char>,
    /// What a category unseen in training becomes: error or ignore (all zeros) [default:
    /// the model's].
    #[arg(long, value_parser = parse_named::<UnknownCategory>)]
    pub unknown_category: Option<UnknownCategory>,
}

#[derive(Debug, Args)]
pub struct GradArgs {
    #[command(flatten)]
    pub threads: ThreadsArg,
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

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub threads: ThreadsArg,
    /// The model file.
    #[arg(long, required_unless_present = "demo", conflicts_with = "demo")]
    pub model: Option<PathBuf>,
    /// Data (CSV or IDX) holding the example.
    #[arg(long, required_unless_present = "demo", conflicts_with = "demo")]
    pub data: Option<PathBuf>,
    /// The example to explain: its row in --data, counting from 1 (the first row after the
    /// CSV header, or the first image).
    #[arg(long, default_value_t = 1, value_parser = parse_size, conflicts_with = "demo")]
    pub row: usize,
    /// Target column(s) (default: those the model was trained with, else the last column).
    #[arg(long, value_delimiter = ',', conflicts_with = "demo")]
    pub target: Option<Vec<String>>,
    /// Use the tutorial's running example instead of a model: x = (0.05, 0.10),
    /// y = (0.01, 0.99), W^[1] = [[0.15,0.20],[0.25,0.30]], b^[1] = (0.35,0.35),
    /// W^[2] = [[0.40,0.45],[0.50,0.55]], b^[2] = (0.60,0.60), sigmoid, quadratic cost.
    #[arg(long)]
    pub demo: bool,
    /// Output: text, markdown, or json (one object with every quantity, its layer and name).
    #[arg(long, value_enum, default_value = "text")]
    pub format: ExplainFormat,
    /// Print every entry of large layers instead of a summary (shape, min/max/mean, the
    /// largest entries).
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The model file.
    #[arg(long)]
    pub model: PathBuf,
    /// onnx (opset 13: one Gemm per layer and its activation, a dynamic batch dimension)
    /// or torch (nn.Sequential keys 0.weight, 0.bias, 2.weight, ...; the Python that
    /// rebuilds the module is written beside it, as NAME.py).
    #[arg(long, value_parser = parse_named::<Format>)]
    pub format: Format,
    /// The file to write (atomically), e.g. m.onnx or m.safetensors.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The state dict: safetensors with keys N.weight ([out, in]) and N.bias ([out]) of
    /// each nn.Linear, any indices N, in order; F32 or F64. One written by `nabla export
    /// --format torch` brings its activations, cost, names and scaling along.
    #[arg(long)]
    pub torch: PathBuf,
    /// Activation g of the hidden layers (the modules between the Linear layers).
    #[arg(long, value_parser = parse_named::<Activation>)]
    pub activation: Option<Activation>,
    /// Activation g of the output layer (after the last Linear).
    #[arg(long, value_parser = parse_named::<Activation>)]
    pub output: Option<Activation>,
    /// Cost c_x the model was trained with: quadratic or cross-entropy.
    #[arg(long, value_parser = parse_named::<Cost>)]
    pub cost: Option<Cost>,
    /// What the outputs mean [default: classification].
    #[arg(long, value_parser = parse_named::<Task>)]
    pub task: Option<Task>,
    /// Input column names, one per input (then `predict` and `eval` read CSV columns by name).
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Class names, one per output (classification) [default: 0,1,...].
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<String>>,
    /// Target column names, one per output (regression).
    #[arg(long, value_delimiter = ',')]
    pub targets: Option<Vec<String>>,
    /// The model file to write (safetensors, atomically).
    #[arg(long)]
    pub out: PathBuf,
}

/// How `nabla explain` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    /// Plain text, one block per equation.
    Text,
    /// Markdown: a heading per stage, values in code blocks.
    Markdown,
    /// One JSON object with every quantity (for notebooks and tests).
    Json,
}

#[cfg(feature = "serve")]
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The port to listen on (0: any free port; the URL printed says which).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The address to listen on: the loopback interface unless told otherwise (0.0.0.0
    /// opens the playground to the network).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Networks trained at once (one per browser tab); more are refused until one closes.
    #[arg(long, default_value_t = 32, value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..=1024), usize::from))]
    pub max_sessions: usize,
}

#[derive(Debug, Args)]
pub struct DiagramArgs {
    /// The model file.
    #[arg(long, required_unless_present = "demo", conflicts_with = "demo")]
    pub model: Option<PathBuf>,
    /// Draw the tutorial's running example (see `nabla explain --demo`).
    #[arg(long)]
    pub demo: bool,
    /// The picture to write (atomically): name.svg or name.png.
    #[arg(long)]
    pub out: PathBuf,
}

impl From<Precision> for nabla::spec::Precision {
    fn from(p: Precision) -> Self {
        match p {
            Precision::F32 => nabla::spec::Precision::F32,
            Precision::F64 => nabla::spec::Precision::F64,
        }
    }
}

impl TrainArgs {
    /// The settings the flags give (the output flags aside).
    pub fn spec(&self) -> TrainSpec {
        TrainSpec {
            data: self.data.clone(),
            test: self.test.clone(),
            target: self.target.clone(),
            ignore: self.ignore.clone(),
            task: self.task,
            scaling: self.no_scaling.then_some(false),
            target_scaling: self.no_target_scaling.then_some(false),
            from: self.from.clone(),
            layers: self.layers.clone(),
            hidden: self.hidden.clone(),
            activation: self.activation,
            output: self.output,
            cost: self.cost,
            init: self.init,
            optimizer: self.optimizer,
            momentum: self.momentum,
            nesterov: self.nesterov.then_some(true),
            alpha: self.alpha,
            eps: self.eps,
            beta1: self.beta1,
            beta2: self.beta2,
            weight_decay: self.weight_decay,
            history: self.history,
            lr: self.lr,
            batch_size: self.batch_size,
            epochs: self.epochs,
            seed: self.seed,
            shuffle: self.no_shuffle.then_some(false),
            schedule: self.schedule,
            gamma: self.gamma,
            step_size: self.step_size,
            warmup: self.warmup,
            eta_min: self.eta_min,
            power_t: self.power_t,
            factor: self.factor,
            plateau_patience: self.plateau_patience,
            l2: self.l2,
            l1: self.l1,
            dropout: self.dropout,
            clip_norm: self.clip_norm,
            validation: self.validation,
            patience: self.patience,
            checkpoint_every: self.checkpoint_every,
            augment_shift: self.augment_shift,
            precision: self.precision.map(Into::into),
            threads: self.threads.threads,
            preset: self.preset,
            na_values: self.na_values.clone(),
            impute: self.impute,
            categorical: self.categorical.clone(),
            unknown_category: self.unknown_category,
            delimiter: self.delimiter,
        }
    }
}

/// A CSV delimiter: one character, or `tab`, `\t`, `comma`, `semicolon`, `pipe`.
pub fn parse_delimiter(s: &str) -> Result<char, String> {
    let d = match s {
        "tab" | "\\t" | "\t" => '\t',
        "comma" => ',',
        "semicolon" => ';',
        "pipe" => '|',
        _ => {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => return Err(format!("'{s}' is not one character (e.g. ';' or tab)")),
            }
        }
    };
    nabla::spec::check_delimiter(d).map_err(strip_field)?;
    Ok(d)
}

fn parse_size(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => {
            Err(format!("'{s}' is too large (at most {})", usize::MAX))
        }
        Err(_) => Err(format!("'{s}' is not a positive whole number")),
    }
}

/// A number that `accepted` allows; `rule` is the message when it does not.
fn parse_number(s: &str, accepted: impl Fn(f64) -> bool, rule: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if accepted(v) => Ok(v),
        Ok(_) => Err(rule.into()),
        Err(_) => Err(format!("'{s}' is not a number")),
    }
}

fn parse_positive(s: &str) -> Result<f64, String> {
    parse_number(s, |v| v.is_finite() && v > 0.0, "must be a positive number")
}

fn parse_non_negative(s: &str) -> Result<f64, String> {
    parse_number(s, |v| v.is_finite() && v >= 0.0, "must be a number >= 0")
}

fn parse_unit(s: &str) -> Result<f64, String> {
    parse_number(
        s,
        |v| v > 0.0 && v < 1.0,
        "must be strictly between 0 and 1",
    )
}

/// A probability p < 1 (dropout, validation fraction) or a momentum μ < 1.
fn parse_probability(s: &str) -> Result<f64, String> {
    parse_number(s, |v| (0.0..1.0).contains(&v), "must be in [0, 1)")
}

/// A library enum by its name (activation, cost, init, task, optimizer, schedule), with the
/// library's message about the accepted names.
fn parse_named<T: std::str::FromStr<Err = nabla::Error>>(s: &str) -> Result<T, String> {
    s.parse().map_err(strip_field)
}

/// clap already names the flag, so drop the library's "invalid <field>: " prefix.
fn strip_field(e: nabla::Error) -> String {
    match e {
        nabla::Error::InvalidConfig { message, .. } => crate::flags::text(&message),
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
