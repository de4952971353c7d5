//! One integration-test binary (one link on a 2-core CI); each file below is one subject.

// The tutorial's running example, every number worked out by hand.
mod hand_worked;
// Backpropagation against central differences, over every activation, output and cost.
mod gradients;
// Networks that learn: XOR and MNIST.
mod learning;
// Shared helpers for the command-line tests: the binary, data files, the error contract.
mod util;
// Every `nabla` command end to end, model files read back with the safetensors crate.
mod cli;
// Bad input: exit code 2, one error line naming the file, line, column or flag; no output.
mod bad_input;
// Simplex noise: r^2 = 1/2, continuity, geometry, range, gradients, errors.
mod noise;
// `nabla explain` (the demo against the hand-worked numbers, JSON against `nabla grad`) and the pictures.
mod explain;
// Training well: regularisation, schedules, early stopping, optimizers, configs, presets, parity.
mod train_well;
// `nabla noise`: points, PNG slices, learnable data sets, errors.
mod noise_cli;
// The library at its edges: states and values the command line never produces.
mod library_edges;
// No allocation in the steady state, `nabla bench`, and threads that change no bits.
mod performance;
// Data files as new users write them: blank lines, quotes, separators, f32 range, IDX, noise files.
mod data_errors;
// The training spec: flags, TOML and Rust alike; errors that name settings.
mod spec;
// `nabla export` (ONNX, PyTorch) and `nabla import` (PyTorch): graphs, round trips, errors.
#[cfg(feature = "onnx")]
mod export;
// Runs (#14): standardised regression targets, warnings, resume and checkpoints, what a run says.
mod runs;
// Real tables: missing values, categories, pandas indexes, delimiters, gzip, stdin, --keep.
mod tables;
// `nabla serve` under load: 20 tabs training, malformed and oversized requests, memory.
#[cfg(feature = "serve")]
mod serve_load;
