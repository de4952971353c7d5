//! # nabla
//!
//! Fully-connected feed-forward networks trained by backpropagation and gradient descent,
//! written so that the code reads like the tutorial it comes from.
//!
//! ## Notation
//!
//! | tutorial                 | code                        | meaning                                          |
//! |--------------------------|-----------------------------|--------------------------------------------------|
//! | `l = 1, …, L`            | `l`, `net.last()`           | layer; layer 0 is the input                      |
//! | `w_jk^[l]`               | `net.w(l)[(j, k)]`          | weight from neuron k of layer l-1 to neuron j of layer l |
//! | `W^[l]`                  | `net.w(l)`                  | n_l × n_(l-1) matrix of those weights            |
//! | `b^[l]`, `b_j^[l]`       | `net.b(l)`, `net.b(l)[j]`   | biases                                           |
//! | `z^[l]`, `a^[l]`         | `pass.z[l]`, `pass.a[l]`    | weighted input, activation; `a^[0] = x`          |
//! | `e^[l] = ∂c_x/∂z^[l]`    | `pass.e[l]`                 | error                                            |
//! | `∂C/∂W^[l]`, `∂C/∂b^[l]` | `grads.nabla_w[l]`, `grads.nabla_b[l]` | gradients, averaged over the batch    |
//! | `g`, `g'`                | `Activation::g`, `Activation::g_prime` | activation function and its derivative |
//! | `c_x`, `C`               | `Cost::c_x`, `Cost::mean`   | cost of one example, mean over examples          |
//! | `η`                      | `learning_rate`, `--lr`     | learning rate                                    |
//!
//! Batches hold one example per row: `pass.a[l]` is m × n_l, and its row i is
//! `(a^[l])ᵀ` for example i.
//!
//! ## Equations
//!
//! ```text
//! FF   z^[l] = W^[l] a^[l-1] + b^[l],   a^[l] = g(z^[l])
//! BP1  e^[L] = ∂c/∂a^[L] ⊙ g'(z^[L])
//! BP2  e^[l] = ((W^[l+1])ᵀ e^[l+1]) ⊙ g'(z^[l])
//! BP3  ∂c/∂b_j^[l]  = e_j^[l]
//! BP4  ∂c/∂w_jk^[l] = a_k^[l-1] e_j^[l]
//! GD   w ← w − η ∂C/∂w,   b ← b − η ∂C/∂b
//! ```
#![warn(missing_docs)]

pub mod activation;
pub mod atomic;
pub mod augment;
#[cfg(feature = "bench")]
pub mod bench;
pub mod cost;
pub mod data;
pub mod error;
pub mod explain;
pub mod export;
pub mod grad_check;
pub mod import;
pub mod init;
pub mod kernels;
pub mod matrix;
pub mod metrics;
pub mod model_file;
pub mod network;
#[cfg(feature = "noise")]
pub mod noise;
pub mod optimizer;
pub mod parallel;
#[cfg(feature = "plot")]
pub mod plot;
pub mod predictor;
pub mod scalar;
pub mod schedule;
pub mod setting;
mod sgemm;
pub mod spec;
pub mod train;

pub use activation::Activation;
pub use cost::Cost;
pub use data::Dataset;
pub use error::{Error, Result};
pub use init::Init;
pub use matrix::{gemm, Accumulate, MatRef, Matrix, Scalar};
pub use metrics::{evaluate, Evaluation};
pub use model_file::{Model, Task};
pub use network::{Architecture, Gradients, Network, Pass};
pub use optimizer::{
    Adam, Lbfgs, Momentum, Optimizer, OptimizerKind, OptimizerState, RmsProp, Rprop, Sgd,
};
pub use predictor::Predictor;
pub use schedule::Schedule;
pub use setting::Setting;
pub use spec::{Preset, Summary, TrainSpec};
pub use train::{
    train, train_from, train_with, EpochReport, RunState, TrainConfig, TrainEvent, Training,
    Warning, WarningKind,
};

/// The README's examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
