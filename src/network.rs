//! The network: layers of weights `W^[l]` and biases `b^[l]`, the forward pass (FF) and
//! backpropagation (BP1–BP4), batched with one example per row.
//!
//! ```text
//! FF   z^[l] = W^[l] a^[l-1] + b^[l],   a^[l] = g(z^[l]),   a^[0] = x
//! BP1  e^[L] = ∂c/∂a^[L] ⊙ g'(z^[L])
//! BP2  e^[l] = ((W^[l+1])ᵀ e^[l+1]) ⊙ g'(z^[l])
//! BP3  ∂c/∂b_j^[l]  = e_j^[l]
//! BP4  ∂c/∂w_jk^[l] = a_k^[l-1] e_j^[l]
//! ```
//!
//! With m examples as the rows of a batch, the same equations read
//! `Z^[l] = A^[l-1] (W^[l])ᵀ + 1 (b^[l])ᵀ`, `E^[l] = (E^[l+1] W^[l+1]) ⊙ g'(Z^[l])`,
//! `∂C/∂b^[l] = mean of the rows of E^[l]`, `∂C/∂W^[l] = (E^[l])ᵀ A^[l-1] / m`.

use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::cost::Cost;
use crate::error::{Error, Result};
use crate::init::Init;
use crate::kernels::GemmKernel;
use crate::matrix::{
    first_non_finite, gemm, gemm_block, gemm_cut_by_rows, Accumulate, MatRef, Matrix, Scalar,
};
use crate::parallel::{for_row_blocks, threads, PARALLEL_MIN_MNK};
use crate::scalar::vectorized;
use crate::setting::Setting;

/// The most weights and biases an [`Architecture`] may have: 2³² (16 GiB in f32), far
/// beyond the networks nabla is made for, and a clear error instead of an allocation
/// failure for a mistyped size.
pub const MAX_PARAMETERS: usize = 1 << 32;

/// What a network is, without its numbers: layer sizes, activations and cost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Architecture {
    /// `n_0, n_1, …, n_L`: inputs, then the neurons of each layer.
    pub sizes: Vec<usize>,
    /// g of the hidden layers 1, …, L−1.
    pub hidden: Activation,
    /// g of the output layer L.
    pub output: Activation,
    /// The cost `c_x`.
    pub cost: Cost,
}

impl Architecture {
    /// A checked architecture.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when there are fewer than two sizes, a size is 0, softmax is
    /// used in a hidden layer, or the cost does not fit the output activation.
    pub fn new(
        sizes: &[usize],
        hidden: Activation,
        output: Activation,
        cost: Cost,
    ) -> Result<Self> {
        let arch = Architecture {
            sizes: sizes.to_vec(),
            hidden,
            output,
            cost,
        };
        arch.validate()?;
        Ok(arch)
    }

    /// Checks the rules listed under [`Architecture::new`].
    ///
    /// # Errors
    /// As [`Architecture::new`].
    pub fn validate(&self) -> Result<()> {
        if self.sizes.len() < 2 {
            return Err(Error::config(
                Setting::Layers,
                format!(
                    "need at least an input and an output size, got {:?}",
                    self.sizes
                ),
            ));
        }
        if let Some(i) = self.sizes.iter().position(|&n| n == 0) {
            return Err(Error::config(
                Setting::Layers,
                format!("layer {i} has size 0 (sizes {:?})", self.sizes),
            ));
        }
        if self
            .parameter_count()
            .is_none_or(|count| count > MAX_PARAMETERS)
        {
            return Err(Error::config(
                Setting::Layers,
                format!(
                    "sizes {:?} make more than {MAX_PARAMETERS} weights and biases, more than nabla holds in memory",
                    self.sizes
                ),
            ));
        }
        if self.output == Activation::Softmax && self.sizes[self.sizes.len() - 1] == 1 {
            return Err(Error::config(
                Setting::Output,
                "softmax over one output is always 1 and learns nothing (use sigmoid for one output)",
            ));
        }
        if self.hidden == Activation::Softmax && self.sizes.len() > 2 {
            return Err(Error::config(
                Setting::Activation,
                format!(
                    "softmax is only for the output layer (use {} softmax)",
                    Setting::Output.mention()
                ),
            ));
        }
        self.cost.check_output(self.output)
    }

    /// L, the number of layers with weights (the input layer 0 is not counted).
    pub fn last(&self) -> usize {
        self.sizes.len() - 1
    }

    /// The number of weights and biases, `Σ_l n_l (n_(l-1) + 1)`; `None` if it overflows.
    pub fn parameter_count(&self) -> Option<usize> {
        self.sizes.windows(2).try_fold(0usize, |sum, n| {
            n[1].checked_mul(n[0].checked_add(1)?)?.checked_add(sum)
        })
    }

    /// g of layer l (1-based).
    pub fn g(&self, l: usize) -> Activation {
        if l == self.last() {
            self.output
        } else {
            self.hidden
        }
    }
}

/// One layer l: `W^[l]` (n_l × n_(l-1)), `b^[l]` (n_l) and its activation g.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer<T = f32> {
    pub(crate) w: Matrix<T>,
    pub(crate) b: Vec<T>,
    pub(crate) g: Activation,
}

impl<T: Scalar> Layer<T> {
    /// FF for one layer: `Z = A_prev Wᵀ + 1 bᵀ`, `A = g(Z)`, one example per row.
    fn forward(&self, a_prev: &Matrix<T>, z: &mut Matrix<T>, a: &mut Matrix<T>) {
        // FF: z^[l] = W^[l] a^[l-1] + b^[l]; with one example per row, Z = A_prev Wᵀ + 1 bᵀ
        gemm(z, Accumulate::Replace, a_prev, self.w.t(), T::one());
        // + 1 bᵀ and a^[l] = g(z^[l]) in one pass over Z
        self.g
            .add_bias_and_apply(&self.b, z.as_mut_slice(), a.as_mut_slice());
    }

    /// FF for a block of rows of a batch on the calling thread, with the product's kernel
    /// chosen for the whole batch, so each row gets the bits [`Layer::forward`] gives it.
    fn forward_block(&self, kernel: GemmKernel, a_prev: &[T], z: &mut [T], a: &mut [T]) {
        let (n, n_prev) = self.w.shape();
        let rows = z.len() / n;
        // FF: Z = A_prev Wᵀ, then + 1 bᵀ and a^[l] = g(z^[l])
        let a_prev = MatRef::from_row_major(a_prev, rows, n_prev);
        gemm_block(kernel, z, a_prev, self.w.t(), T::one());
        self.g.add_bias_and_apply(&self.b, z, a);
    }
}

/// A fully-connected feed-forward network.
///
/// Layers count from 1 as in the tutorial: [`Network::w`]`(l)` is `W^[l]`, and no caller
/// ever writes `l - 1`.
#[derive(Clone, Debug, PartialEq)]
pub struct Network<T = f32> {
    arch: Architecture,
    layers: Vec<Layer<T>>,
}

/// The buffers of one forward and backward pass over a batch of m examples.
///
/// Indexed like the tutorial, with one row per example: `a[0]` is x, and `z[l]`, `a[l]`,
/// `e[l]` hold `z^[l]`, `a^[l]`, `e^[l]` for l = 1, …, L (`z[0]` and `e[0]` are empty).
/// Reused from batch to batch, so training allocates nothing in its steady state.
#[derive(Clone, Debug)]
pub struct Pass<T = f32> {
    /// `z^[l]`, m × n_l.
    pub z: Vec<Matrix<T>>,
    /// `a^[l]`, m × n_l; `a[0] = x`.
    pub a: Vec<Matrix<T>>,
    /// `e^[l] = ∂c/∂z^[l]`, m × n_l.
    pub e: Vec<Matrix<T>>,
    /// Inverted-dropout masks of the hidden layers (0 or 1/(1−p)), used by the last
    /// training forward pass; empty when dropout is off.
    pub mask: Vec<Matrix<T>>,
}

impl<T: Scalar> Pass<T> {
    /// Buffers for batches of up to `m` examples through a network of these sizes.
    pub fn new(sizes: &[usize], m: usize) -> Self {
        let make = |skip_input: bool| {
            sizes
                .iter()
                .enumerate()
                .map(|(l, &n)| {
                    if skip_input && l == 0 {
                        Matrix::zeros(0, 0)
                    } else {
                        Matrix::zeros(m, n)
                    }
                })
                .collect::<Vec<_>>()
        };
        Pass {
            z: make(true),
            a: make(false),
            e: make(true),
            mask: Vec::new(),
        }
    }

    /// m, the number of examples in the current batch.
    pub fn batch_size(&self) -> usize {
        self.a[0].rows()
    }

    /// Sets the batch size to m, reusing the buffers' memory when it is large enough.
    pub fn set_batch_size(&mut self, m: usize) {
        for l in 0..self.a.len() {
            self.a[l].set_rows(m);
            if l > 0 {
                self.z[l].set_rows(m);
                self.e[l].set_rows(m);
            }
            if let Some(mask) = self.mask.get_mut(l) {
                mask.set_rows(m);
            }
        }
    }

    /// `a^[L]`, the network's output for each example.
    pub fn output(&self) -> &Matrix<T> {
        self.a.last().expect("a pass has at least the input layer")
    }
}

/// `∂C/∂W^[l]` and `∂C/∂b^[l]`, averaged over the examples of a batch.
/// Index 0 is empty so that `nabla_w[l]` belongs to `W^[l]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients<T = f32> {
    /// `∂C/∂W^[l]`, shaped like `W^[l]`.
    pub nabla_w: Vec<Matrix<T>>,
    /// `∂C/∂b^[l]`, shaped like `b^[l]`.
    pub nabla_b: Vec<Vec<T>>,
}

impl<T: Scalar> Gradients<T> {
    /// Whether these gradients are shaped for a network of these sizes.
    pub fn fits(&self, sizes: &[usize]) -> bool {
        self.nabla_w.len() == sizes.len()
            && self.nabla_b.len() == sizes.len()
            && sizes.windows(2).enumerate().all(|(i, n)| {
                self.nabla_w[i + 1].shape() == (n[1], n[0]) && self.nabla_b[i + 1].len() == n[1]
            })
    }

    /// All-zero gradients for a network of these sizes.
    pub fn zeros(sizes: &[usize]) -> Self {
        let mut nabla_w = vec![Matrix::zeros(0, 0)];
        let mut nabla_b = vec![Vec::new()];
        for pair in sizes.windows(2) {
            nabla_w.push(Matrix::zeros(pair[1], pair[0]));
            nabla_b.push(vec![T::zero(); pair[1]]);
        }
        Gradients { nabla_w, nabla_b }
    }
}

impl<T: Scalar> Network<T> {
    /// A new network with parameters drawn by `init` from a stream seeded by `seed`.
    ///
    /// # Errors
    /// When the architecture is invalid (see [`Architecture::new`]).
    ///
    /// # Example
    /// ```
    /// use nabla::{Activation, Architecture, Cost, Init, Network};
    /// let arch = Architecture::new(&[2, 3, 1], Activation::Sigmoid, Activation::Sigmoid, Cost::Quadratic)?;
    /// let net: Network = Network::new(arch, Init::Nielsen, 42)?;
    /// assert_eq!(net.w(1).shape(), (3, 2)); // W^[1] is n_1 × n_0
    /// assert_eq!(net.b(2).len(), 1);
    /// # Ok::<(), nabla::Error>(())
    /// ```
    pub fn new(arch: Architecture, init: Init, seed: u64) -> Result<Self> {
        arch.validate()?;
        let count = arch.parameter_count().unwrap_or(usize::MAX);
        if Vec::<T>::new().try_reserve_exact(count).is_err() {
            return Err(Error::config(
                Setting::Layers,
                format!(
                    "sizes {:?} need {count} weights and biases ({:.1} GiB), more than this machine can allocate",
                    arch.sizes,
                    (count as f64) * std::mem::size_of::<T>() as f64 / (1u64 << 30) as f64
                ),
            ));
        }
        let layers = init
            .draw::<T>(&arch.sizes, seed)
            .into_iter()
            .enumerate()
            .map(|(i, (w, b))| Layer {
                w,
                b,
                g: arch.g(i + 1),
            })
            .collect();
        Ok(Network { arch, layers })
    }

    /// A network from given parameters: `weights[l-1]` is `W^[l]`, `biases[l-1]` is `b^[l]`.
    ///
    /// # Errors
    /// [`Error::Shape`] when a matrix does not match the sizes, [`Error::NonFinite`] for a
    /// NaN or infinite parameter, or an invalid architecture.
    pub fn from_parameters(
        arch: Architecture,
        weights: Vec<Matrix<T>>,
        biases: Vec<Vec<T>>,
    ) -> Result<Self> {
        arch.validate()?;
        let last = arch.last();
        if weights.len() != last || biases.len() != last {
            return Err(Error::shape(
                "layers",
                format!("{last} weight matrices and bias vectors"),
                format!("{} and {}", weights.len(), biases.len()),
            ));
        }
        let layers = weights
            .into_iter()
            .zip(biases)
            .enumerate()
            .map(|(i, (w, b))| Layer {
                w,
                b,
                g: arch.g(i + 1),
            })
            .collect();
        let net = Network { arch, layers };
        net.check_parameters()?;
        Ok(net)
    }

    /// Checks shapes and finiteness of every `W^[l]` and `b^[l]`.
    ///
    /// # Errors
    /// [`Error::Shape`] or [`Error::NonFinite`], naming the parameter.
    pub fn check_parameters(&self) -> Result<()> {
        for l in 1..=self.last() {
            let (n, n_prev) = (self.arch.sizes[l], self.arch.sizes[l - 1]);
            let layer = &self.layers[l - 1];
            if layer.w.shape() != (n, n_prev) {
                return Err(Error::shape(
                    format!("W^[{l}]"),
                    format!("{n} × {n_prev}"),
                    format!("{} × {}", layer.w.rows(), layer.w.cols()),
                ));
            }
            if layer.b.len() != n {
                return Err(Error::shape(format!("b^[{l}]"), n, layer.b.len()));
            }
            if let Some((j, k, v)) = layer.w.find_non_finite() {
                return Err(Error::NonFinite {
                    what: format!("W^[{l}]"),
                    row: j,
                    column: k,
                    value: v.to_string(),
                });
            }
            if let Some(j) = layer.b.iter().position(|v| !v.is_finite()) {
                return Err(Error::NonFinite {
                    what: format!("b^[{l}]"),
                    row: j,
                    column: 0,
                    value: layer.b[j].to_string(),
                });
            }
        }
        Ok(())
    }

    /// The architecture (sizes, activations, cost).
    pub fn architecture(&self) -> &Architecture {
        &self.arch
    }
    /// `n_0, …, n_L`.
    pub fn sizes(&self) -> &[usize] {
        &self.arch.sizes
    }
    /// L, the index of the output layer.
    pub fn last(&self) -> usize {
        self.arch.last()
    }
    /// The cost `c_x`.
    pub fn cost(&self) -> Cost {
        self.arch.cost
    }
    /// g of layer l.
    ///
    /// # Panics
    /// When l is 0 or greater than L.
    #[track_caller]
    pub fn g(&self, l: usize) -> Activation {
        self.layer(l).g
    }
    /// `W^[l]`, n_l × n_(l-1); entry (j, k) is `w_jk^[l]`.
    ///
    /// # Panics
    /// When l is 0 or greater than L.
    #[track_caller]
    pub fn w(&self, l: usize) -> &Matrix<T> {
        &self.layer(l).w
    }
    /// `W^[l]`, mutable. Keep its values finite: training trusts them.
    ///
    /// # Panics
    /// When l is 0 or greater than L.
    #[track_caller]
    pub fn w_mut(&mut self, l: usize) -> &mut Matrix<T> {
        &mut self.layer_mut(l).w
    }
    /// `b^[l]`, n_l entries.
    ///
    /// # Panics
    /// When l is 0 or greater than L.
    #[track_caller]
    pub fn b(&self, l: usize) -> &[T] {
        &self.layer(l).b
    }
    /// `b^[l]`, mutable.
    ///
    /// # Panics
    /// When l is 0 or greater than L.
    #[track_caller]
    pub fn b_mut(&mut self, l: usize) -> &mut [T] {
        &mut self.layer_mut(l).b
    }
    /// Sets `w_jk^[l]`.
    ///
    /// # Errors
    /// [`Error::Shape`] for indices outside the network, [`Error::NonFinite`] for NaN or inf.
    pub fn set_w(&mut self, l: usize, j: usize, k: usize, value: T) -> Result<()> {
        self.check_index(l, j, Some(k))?;
        if !value.is_finite() {
            return Err(Error::NonFinite {
                what: format!("w_{j}{k}^[{l}]"),
                row: j,
                column: k,
                value: value.to_string(),
            });
        }
        self.layers[l - 1].w[(j, k)] = value;
        Ok(())
    }
    /// Sets `b_j^[l]`.
    ///
    /// # Errors
    /// As [`Network::set_w`].
    pub fn set_b(&mut self, l: usize, j: usize, value: T) -> Result<()> {
        self.check_index(l, j, None)?;
        if !value.is_finite() {
            return Err(Error::NonFinite {
                what: format!("b_{j}^[{l}]"),
                row: j,
                column: 0,
                value: value.to_string(),
            });
        }
        self.layers[l - 1].b[j] = value;
        Ok(())
    }

    /// The same network with every parameter converted to another precision.
    pub fn cast<U: Scalar>(&self) -> Network<U> {
        Network {
            arch: self.arch.clone(),
            layers: self
                .layers
                .iter()
                .map(|layer| Layer {
                    w: layer.w.cast(),
                    b: layer
                        .b
                        .iter()
                        .map(|&b| U::from(b).expect("f32 and f64 convert"))
                        .collect(),
                    g: layer.g,
                })
                .collect(),
        }
    }

    /// Number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.w.rows() * l.w.cols() + l.b.len())
            .sum()
    }

    fn check_index(&self, l: usize, j: usize, k: Option<usize>) -> Result<()> {
        if l == 0 || l > self.last() {
            return Err(Error::shape(
                "layer index l",
                format!("1..={}", self.last()),
                l,
            ));
        }
        if j >= self.arch.sizes[l] {
            return Err(Error::shape(
                format!("neuron index j of layer {l}"),
                format!("0..{}", self.arch.sizes[l]),
                j,
            ));
        }
        if let Some(k) = k {
            if k >= self.arch.sizes[l - 1] {
                return Err(Error::shape(
                    format!("neuron index k of layer {}", l - 1),
                    format!("0..{}", self.arch.sizes[l - 1]),
                    k,
                ));
            }
        }
        Ok(())
    }

    #[track_caller]
    pub(crate) fn layer(&self, l: usize) -> &Layer<T> {
        assert!(
            l >= 1 && l <= self.last(),
            "layer {l} does not exist: layers are 1..={}",
            self.last()
        );
        &self.layers[l - 1]
    }

    #[track_caller]
    fn layer_mut(&mut self, l: usize) -> &mut Layer<T> {
        assert!(
            l >= 1 && l <= self.last(),
            "layer {l} does not exist: layers are 1..={}",
            self.last()
        );
        &mut self.layers[l - 1]
    }

    /// At least one row and n_0 columns.
    fn check_input_shape(&self, x: &Matrix<T>) -> Result<()> {
        if x.rows() == 0 {
            return Err(Error::Empty {
                what: "input x".into(),
            });
        }
        if x.cols() != self.arch.sizes[0] {
            return Err(Error::shape(
                "input x",
                format!("{} features (n_0)", self.arch.sizes[0]),
                format!("{} features", x.cols()),
            ));
        }
        Ok(())
    }

    /// Checks that x (and y, if given) fit the network: same number of rows, n_0 (and n_L)
    /// columns, at least one row, every value finite.
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::Shape`] or [`Error::NonFinite`].
    pub fn check_batch(&self, x: &Matrix<T>, y: Option<&Matrix<T>>) -> Result<()> {
        self.check_input_shape(x)?;
        if let Some((i, j, v)) = x.find_non_finite() {
            return Err(non_finite_input(i, j, v));
        }
        if let Some(y) = y {
            let n_out = self.arch.sizes[self.last()];
            if y.shape() != (x.rows(), n_out) {
                return Err(Error::shape(
                    "target y",
                    format!("{} × {n_out} (one row per example, n_L columns)", x.rows()),
                    format!("{} × {}", y.rows(), y.cols()),
                ));
            }
            if let Some((i, j, v)) = y.find_non_finite() {
                return Err(Error::NonFinite {
                    what: "target y".into(),
                    row: i,
                    column: j,
                    value: v.to_string(),
                });
            }
            // Cross-entropy's −y ln a − (1 − y) ln(1 − a) is a cost only for y in [0, 1].
            if self.cost() == Cost::CrossEntropy {
                let outside = y
                    .as_slice()
                    .iter()
                    .position(|&v| v < T::zero() || v > T::one());
                if let Some(index) = outside {
                    let cols = y.cols().max(1);
                    return Err(Error::shape(
                        "target y",
                        "values in [0, 1] for the cross-entropy cost",
                        format!(
                            "{} at row {}, column {}",
                            y.as_slice()[index],
                            index / cols,
                            index % cols
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// FF: the forward pass of a batch `x` (m × n_0, one example per row) into `pass`,
    /// which afterwards holds every `z^[l]` and `a^[l]`.
    ///
    /// # Errors
    /// When x does not fit the network (see [`Network::check_batch`]).
    pub fn forward(&self, x: &Matrix<T>, pass: &mut Pass<T>) -> Result<()> {
        self.check_batch(x, None)?;
        self.fit_pass(pass, x.rows());
        pass.a[0].as_mut_slice().copy_from_slice(x.as_slice());
        self.forward_pass(pass);
        Ok(())
    }

    /// Forward pass and backpropagation of a batch: afterwards `pass` holds every `z^[l]`,
    /// `a^[l]`, `e^[l]`, and `grads` holds `∂C/∂W^[l]` and `∂C/∂b^[l]` for C, the mean cost
    /// over the batch's examples. Returns that C.
    ///
    /// # Errors
    /// When x or y do not fit the network (see [`Network::check_batch`]).
    pub fn backprop(
        &self,
        x: &Matrix<T>,
        y: &Matrix<T>,
        pass: &mut Pass<T>,
        grads: &mut Gradients<T>,
    ) -> Result<T> {
        self.check_batch(x, Some(y))?;
        if !grads.fits(self.sizes()) {
            *grads = Gradients::zeros(self.sizes());
        }
        self.fit_pass(pass, x.rows());
        pass.a[0].as_mut_slice().copy_from_slice(x.as_slice());
        self.forward_pass(pass);
        self.backward_pass(y, pass, grads);
        let last = self.last();
        Ok(self
            .cost()
            .mean(self.g(last), &pass.z[last], &pass.a[last], y))
    }

    /// The outputs `a^[L]` for a batch, one row per example (allocates; for repeated calls
    /// keep a [`Pass`] and use [`Network::infer`]).
    ///
    /// # Errors
    /// When x does not fit the network.
    pub fn predict(&self, x: &Matrix<T>) -> Result<Matrix<T>> {
        let mut pass = Pass::new(self.sizes(), x.rows());
        self.infer(x, &mut pass)?;
        Ok(pass.a.pop().expect("a pass has layers"))
    }

    /// FF for inference: the outputs `a^[L]` of a batch x (m × n_0, one example per row),
    /// computed in `pass` and returned. The same numbers as [`Network::forward`], but x is
    /// read where it is instead of being copied into `pass.a[0]`, which is left unspecified:
    /// for predicting and timing, not for backpropagation or inspection.
    ///
    /// # Errors
    /// When x does not fit the network (see [`Network::check_batch`]).
    pub fn infer<'p>(&self, x: &Matrix<T>, pass: &'p mut Pass<T>) -> Result<&'p Matrix<T>> {
        self.check_input_shape(x)?;
        let m = x.rows();
        let multiply_adds: usize = self.sizes().windows(2).map(|n| m * n[0] * n[1]).sum();
        let split = threads() > 1 && m >= 32 && multiply_adds >= PARALLEL_MIN_MNK;
        if !split {
            if let Some((i, j, v)) = x.find_non_finite() {
                return Err(non_finite_input(i, j, v));
            }
        }
        self.fit_pass(pass, m);
        if split {
            // With threads: each thread takes a block of the batch's rows through every
            // layer (one hand-over per batch, not one per product). Each product's kernel
            // is the one chosen for the whole batch, so threads change no bits.
            let kernels: Vec<GemmKernel> = self
                .sizes()
                .windows(2)
                .map(|n| T::kernel_for(m, n[1], n[0]))
                .collect();
            let z: Vec<&mut [T]> = pass.z[1..].iter_mut().map(|z| z.as_mut_slice()).collect();
            let a: Vec<&mut [T]> = pass.a[1..].iter_mut().map(|a| a.as_mut_slice()).collect();
            // Each thread checks its own rows of x for NaN and inf first (the check reads
            // all of x, so it is worth sharing too); the first bad entry over all blocks is
            // the error, as `check_batch` would report it.
            let first_bad: std::sync::Mutex<Option<usize>> = std::sync::Mutex::new(None);
            let parts = ((0..m, x.as_slice()), (z, a));
            for_row_blocks(true, m, parts, |((rows, x), (mut z, mut a)), _| {
                if let Some(index) = first_non_finite(x) {
                    let global = rows.start * self.sizes()[0] + index;
                    let mut first = first_bad.lock().unwrap_or_else(|e| e.into_inner());
                    *first = Some(first.map_or(global, |f| f.min(global)));
                    return;
                }
                for (i, layer) in self.layers.iter().enumerate() {
                    // Layer l = i + 1 reads a^[l-1] (x for l = 1) and writes z^[l], a^[l].
                    let (a_before, a_rest) = a.split_at_mut(i);
                    let a_prev = if i == 0 { x } else { &*a_before[i - 1] };
                    layer.forward_block(kernels[i], a_prev, z[i], a_rest[0]);
                }
            });
            let first_bad = first_bad.into_inner().unwrap_or_else(|e| e.into_inner());
            if let Some(index) = first_bad {
                let cols = self.sizes()[0];
                return Err(non_finite_input(
                    index / cols,
                    index % cols,
                    x.as_slice()[index],
                ));
            }
            return Ok(&pass.a[self.last()]);
        }
        for l in 1..=self.last() {
            let (a_prev, a) = prev_and_current(&mut pass.a, l);
            // FF with a^[0] = x read in place.
            let a_prev = if l == 1 { x } else { a_prev };
            self.layers[l - 1].forward(a_prev, &mut pass.z[l], a);
        }
        Ok(&pass.a[self.last()])
    }

    /// `C = (1/n) Σ_x c_x` over the rows of x and y.
    ///
    /// # Errors
    /// When x or y do not fit the network.
    pub fn mean_cost(&self, x: &Matrix<T>, y: &Matrix<T>) -> Result<T> {
        self.check_batch(x, Some(y))?;
        let mut pass = Pass::new(self.sizes(), x.rows());
        pass.a[0].as_mut_slice().copy_from_slice(x.as_slice());
        self.forward_pass(&mut pass);
        let last = self.last();
        Ok(self
            .cost()
            .mean(self.g(last), &pass.z[last], &pass.a[last], y))
    }

    /// Makes `pass` fit this network and a batch of m examples.
    pub(crate) fn fit_pass(&self, pass: &mut Pass<T>, m: usize) {
        let fits = pass.a.len() == self.sizes().len()
            && pass.a.iter().zip(self.sizes()).all(|(a, &n)| a.cols() == n);
        if !fits {
            *pass = Pass::new(self.sizes(), m);
        }
        pass.set_batch_size(m);
    }

    /// FF for l = 1, …, L, with `pass.a[0]` already holding x. No checks, no allocation.
    pub(crate) fn forward_pass(&self, pass: &mut Pass<T>) {
        for l in 1..=self.last() {
            let (a_prev, a) = prev_and_current(&mut pass.a, l);
            self.layers[l - 1].forward(a_prev, &mut pass.z[l], a);
        }
    }

    /// FF for training with inverted dropout on the hidden layers: each `a_j^[l]` (l < L)
    /// is kept with probability 1 − p and then scaled by 1/(1 − p), so that evaluation,
    /// which uses no dropout, sees activations of the same expected size. The masks stay in
    /// `pass.mask` for [`Network::backward_pass_dropout`].
    pub(crate) fn forward_pass_dropout(&self, pass: &mut Pass<T>, p: T, rng: &mut impl rand::Rng) {
        let m = pass.batch_size();
        if pass.mask.len() != self.sizes().len() {
            pass.mask = self.sizes().iter().map(|&n| Matrix::zeros(m, n)).collect();
        }
        let keep = T::one() - p;
        let scale = T::one() / keep;
        for l in 1..=self.last() {
            let (a_prev, a) = prev_and_current(&mut pass.a, l);
            self.layers[l - 1].forward(a_prev, &mut pass.z[l], a);
            if l < self.last() {
                let mask = &mut pass.mask[l];
                mask.set_rows(m);
                for (mask, a) in mask.as_mut_slice().iter_mut().zip(a.as_mut_slice()) {
                    let kept = T::c(rng.random::<f64>()) < keep;
                    *mask = if kept { scale } else { T::zero() };
                    *a = *a * *mask;
                }
            }
        }
    }

    /// BP1–BP4 after a training forward pass with dropout: BP2 gains the mask,
    /// `e^[l] = ((W^[l+1])ᵀ e^[l+1]) ⊙ mask^[l] ⊙ g'(z^[l])`.
    pub(crate) fn backward_pass_dropout(
        &self,
        y: &Matrix<T>,
        pass: &mut Pass<T>,
        grads: &mut Gradients<T>,
    ) {
        self.backward(y, pass, grads, true);
    }

    /// BP1–BP4 after [`Network::forward_pass`], for targets y. No checks, no allocation.
    pub(crate) fn backward_pass(
        &self,
        y: &Matrix<T>,
        pass: &mut Pass<T>,
        grads: &mut Gradients<T>,
    ) {
        self.backward(y, pass, grads, false);
    }

    fn backward(&self, y: &Matrix<T>, pass: &mut Pass<T>, grads: &mut Gradients<T>, dropout: bool) {
        let last = self.last();
        let inv_m = T::one() / T::from_count(pass.batch_size().max(1));

        // BP1: e^[L] = ∂c/∂a^[L] ⊙ g'(z^[L])
        self.cost().output_error_into(
            self.g(last),
            &pass.z[last],
            &pass.a[last],
            y,
            &mut pass.e[last],
        );

        // BP2: e^[l] = ((W^[l+1])ᵀ e^[l+1]) ⊙ g'(z^[l]); batched, E^[l] = (E^[l+1] W^[l+1]) ⊙ g'(Z^[l])
        for l in (1..last).rev() {
            let (e, e_next) = current_and_next(&mut pass.e, l);
            gemm(e, Accumulate::Replace, e_next, self.w(l + 1), T::one());
            if dropout {
                // a^[l] was masked, so g' comes from z^[l] alone.
                let g = self.g(l);
                for ((e, &z), &mask) in e
                    .as_mut_slice()
                    .iter_mut()
                    .zip(pass.z[l].as_slice())
                    .zip(pass.mask[l].as_slice())
                {
                    *e = *e * mask * g.g_prime(z);
                }
            } else {
                self.g(l).hadamard_g_prime_assign(e, &pass.z[l], &pass.a[l]);
            }
        }

        for l in 1..=last {
            let e = &pass.e[l];
            // BP3: ∂C/∂b_j^[l] = mean over the batch of e_j^[l]
            let nabla_b = &mut grads.nabla_b[l];
            vectorized(
                #[inline(always)]
                || {
                    nabla_b.fill(T::zero());
                    for i in 0..e.rows() {
                        for (nb, &e) in nabla_b.iter_mut().zip(e.row(i)) {
                            *nb = *nb + e;
                        }
                    }
                    nabla_b.iter_mut().for_each(|nb| *nb = *nb * inv_m);
                },
            );
            // BP4: ∂C/∂w_jk^[l] = mean over the batch of a_k^[l-1] e_j^[l]; batched, (E^[l])ᵀ A^[l-1] / m
            // (cut over threads by rows j, the rows of W^[l] each thread updates next)
            gemm_cut_by_rows(
                &mut grads.nabla_w[l],
                Accumulate::Replace,
                e.t(),
                &pass.a[l - 1],
                inv_m,
            );
        }
    }

    /// The layers, for the optimizers (index l − 1 holds layer l).
    pub(crate) fn layers_mut(&mut self) -> &mut [Layer<T>] {
        &mut self.layers
    }
}

/// The error for a NaN or infinite input at row i, column j.
fn non_finite_input<T: Scalar>(i: usize, j: usize, v: T) -> Error {
    Error::NonFinite {
        what: "input x".into(),
        row: i,
        column: j,
        value: v.to_string(),
    }
}

/// `(&v[l-1], &mut v[l])`: the two neighbours FF needs, without `split_at_mut` in the math.
fn prev_and_current<T>(v: &mut [T], l: usize) -> (&T, &mut T) {
    let (before, after) = v.split_at_mut(l);
    (&before[l - 1], &mut after[0])
}

/// `(&mut v[l], &v[l+1])`: the two neighbours BP2 needs.
fn current_and_next<T>(v: &mut [T], l: usize) -> (&mut T, &T) {
    let (before, after) = v.split_at_mut(l + 1);
    (&mut before[l], &after[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parallel::with_threads;
    use crate::{Activation, Cost, Init};

    /// W2's network, [784, 256, 128, 10] ReLU and softmax, seed 5.
    fn w2_network<T: Scalar>() -> Network<T> {
        let arch = Architecture::new(
            &[784, 256, 128, 10],
            Activation::Relu,
            Activation::Softmax,
            Cost::CrossEntropy,
        )
        .unwrap();
        Network::new(arch, Init::He, 5).unwrap()
    }

    /// With threads, `infer` cuts the batch into blocks of rows, each taken through every
    /// layer by one thread with the kernels of the whole batch: every z^[l] and a^[l] must
    /// have the bits of the one-thread forward pass, for ragged blocks too.
    fn infer_in_row_blocks_changes_no_bits<T: Scalar>() {
        let net: Network<T> = w2_network();
        let bits = |m: &Matrix<T>| -> Vec<u64> {
            m.as_slice()
                .iter()
                .map(|v| v.to_f64().unwrap().to_bits())
                .collect()
        };
        for m in [1, 7, 32, 33, 47, 64, 300, 2000] {
            let data = (0..m * 784)
                .map(|i| T::c(((i * 37) % 255) as f64 / 255.0))
                .collect();
            let x = Matrix::from_vec(m, 784, data).unwrap();
            let mut one = Pass::new(net.sizes(), m);
            with_threads(1, || net.forward(&x, &mut one)).unwrap();
            for threads in [2, 3] {
                let mut pass = Pass::new(net.sizes(), 1);
                let result = with_threads(threads, || net.infer(&x, &mut pass).map(&bits));
                assert_eq!(
                    result.unwrap(),
                    bits(one.output()),
                    "m {m}, {threads} threads"
                );
                for l in 1..=net.last() {
                    assert_eq!(bits(&pass.z[l]), bits(&one.z[l]), "z^[{l}], m {m}");
                    assert_eq!(bits(&pass.a[l]), bits(&one.a[l]), "a^[{l}], m {m}");
                }
            }
        }
    }

    /// With threads, each block checks its own rows of x: the error must still name the
    /// first bad entry of the whole batch, wherever the blocks are cut.
    #[test]
    fn infer_in_row_blocks_reports_the_first_non_finite_input() {
        let net: Network<f32> = w2_network();
        let m = 300;
        for bad in [
            vec![(5, 7)],
            vec![(290, 3)],
            vec![(290, 3), (200, 100)],
            vec![(0, 0)],
        ] {
            let mut x = Matrix::zeros(m, 784);
            for &(i, j) in &bad {
                x[(i, j)] = f32::INFINITY;
            }
            let first = *bad.iter().min().unwrap();
            for threads in [1, 2, 3] {
                let result = with_threads(threads, || {
                    net.infer(&x, &mut Pass::new(net.sizes(), 1)).map(|_| ())
                });
                match result {
                    Err(Error::NonFinite { row, column, .. }) => {
                        assert_eq!((row, column), first, "{threads} threads")
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
    }

    #[test]
    fn infer_in_row_blocks_changes_no_bits_f32() {
        infer_in_row_blocks_changes_no_bits::<f32>();
    }

    #[test]
    fn infer_in_row_blocks_changes_no_bits_f64() {
        infer_in_row_blocks_changes_no_bits::<f64>();
    }
}
