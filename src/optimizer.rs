//! GD and its descendants: the update of every `W^[l]` and `b^[l]` after a mini-batch,
//! behind the [`Optimizer`] seam so that update rules plug in without touching
//! backpropagation. Hyper-parameter defaults follow PyTorch's `torch.optim`.
//!
//! ```text
//! sgd       w ← w − η g
//! momentum  v ← μ v + g;  w ← w − η v          (Nesterov: w ← w − η (g + μ v))
//! rmsprop   s ← α s + (1 − α) g²;  w ← w − η g / (√s + ε)
//! adam      m ← β₁ m + (1 − β₁) g;  s ← β₂ s + (1 − β₂) g²
//!           w ← w − η m̂ / (√ŝ + ε),  m̂ = m / (1 − β₁ᵗ),  ŝ = s / (1 − β₂ᵗ)
//! adamw     w ← w − η λ_wd w, then adam
//! rprop     iRPROP−: per weight a step Δ, ×1.2 while g keeps its sign, ×0.5 (and g := 0)
//!           when it flips, clamped to [1e-6, 50];  w ← w − sign(g) Δ   (full batch)
//! lbfgs     w ← w − η H g, H from the last 100 (s, y) pairs by the two-loop recursion (full batch)
//! ```
//! where g is `∂C/∂w` of the mini-batch (plus the L2/L1 terms when asked for).

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::network::{Gradients, Network};
use crate::parallel::{for_row_blocks, PARALLEL_MIN_ENTRIES};
use crate::scalar::{vectorized, Scalar};
use crate::setting::Setting;

/// An update rule: given the batch gradients `∂C/∂W^[l]`, `∂C/∂b^[l]` and the learning
/// rate η of this step, change the parameters. It owns the state it carries between steps;
/// used on a network of other sizes, the built-in rules start their state afresh.
pub trait Optimizer<T: Scalar> {
    /// One step after one mini-batch.
    ///
    /// # Panics
    /// The built-in rules panic if `grads` is not shaped like `net`'s parameters (a bug in
    /// the caller: [`Network::backprop`] makes them so).
    fn step(&mut self, net: &mut Network<T>, grads: &Gradients<T>, eta: T);

    /// What the rule carries to its next step (saved with a model, so that `from`
    /// continues a run exactly). Stateless rules, and rules of the caller's that do not
    /// say, carry nothing.
    fn state(&self) -> OptimizerState<T> {
        OptimizerState::default()
    }

    /// Takes up a [`Optimizer::state`] saved earlier, as if the steps that made it had just
    /// been taken by this rule.
    fn set_state(&mut self, state: OptimizerState<T>) {
        let _ = state;
    }
}

/// What an optimizer carries between steps: a step count and named buffers (`velocity.0`
/// is the velocity of `W^[1]`, `velocity.1` of `b^[1]`, … in the order of
/// [`for_each_tensor`]). Model files store each buffer as a tensor `optimizer.{name}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OptimizerState<T> {
    /// Steps taken (Adam's t; 0 where the rule does not count).
    pub steps: u64,
    /// The buffers, by name.
    pub buffers: Vec<(String, Vec<T>)>,
}

impl<T: Scalar> OptimizerState<T> {
    /// Adds the per-tensor buffers `{prefix}.0`, `{prefix}.1`, …
    fn push_all(&mut self, prefix: &str, buffers: &[Vec<T>]) {
        for (i, b) in buffers.iter().enumerate() {
            self.buffers.push((format!("{prefix}.{i}"), b.clone()));
        }
    }

    /// The buffer called `name`, if any.
    fn get(&self, name: &str) -> Option<&Vec<T>> {
        self.buffers.iter().find(|(n, _)| n == name).map(|(_, b)| b)
    }

    /// The per-tensor buffers `{prefix}.0`, `{prefix}.1`, … up to the first one missing.
    fn take_all(&self, prefix: &str) -> Vec<Vec<T>> {
        (0..)
            .map_while(|i| self.get(&format!("{prefix}.{i}")).cloned())
            .collect()
    }
}

/// Panics unless `grads` is shaped like `net`'s parameters.
#[track_caller]
fn assert_fits<T: Scalar>(net: &Network<T>, grads: &Gradients<T>) {
    assert!(
        grads.fits(net.sizes()),
        "optimizer step: gradients are not shaped for a network of sizes {:?}",
        net.sizes()
    );
}

/// Whether per-tensor state buffers (non-empty) were made for a network of other sizes.
fn stale<T: Scalar>(buffers: &[Vec<T>], net: &Network<T>) -> bool {
    let lens = net.sizes().windows(2).flat_map(|n| [n[0] * n[1], n[1]]);
    !buffers.is_empty() && !buffers.iter().map(Vec::len).eq(lens)
}

/// Calls `f(i, parameters, gradients)` for `W^[1]`, `b^[1]`, `W^[2]`, … (i = 0, 1, 2, …).
///
/// # Panics
/// If `grads` is not shaped like `net`'s parameters.
#[inline(always)]
pub fn for_each_tensor<T: Scalar>(
    net: &mut Network<T>,
    grads: &Gradients<T>,
    mut f: impl FnMut(usize, &mut [T], &[T]),
) {
    for_each_tensor_with_rows(net, grads, |i, _, w, g| f(i, w, g));
}

/// [`for_each_tensor`], also passing each tensor's number of rows (n_l for `W^[l]`, 1 for
/// `b^[l]`), for [`for_row_blocks`].
#[inline(always)]
fn for_each_tensor_with_rows<T: Scalar>(
    net: &mut Network<T>,
    grads: &Gradients<T>,
    mut f: impl FnMut(usize, usize, &mut [T], &[T]),
) {
    assert_fits(net, grads);
    for (i, layer) in net.layers_mut().iter_mut().enumerate() {
        let l = i + 1;
        let rows = layer.w.rows();
        f(
            2 * i,
            rows,
            layer.w.as_mut_slice(),
            grads.nabla_w[l].as_slice(),
        );
        f(2 * i + 1, 1, &mut layer.b, &grads.nabla_b[l]);
    }
}

/// Per-tensor state buffers, created zeroed on first use.
fn state<T: Scalar>(buffers: &mut Vec<Vec<T>>, i: usize, len: usize) -> &mut [T] {
    if buffers.len() <= i {
        buffers.resize(i + 1, Vec::new());
    }
    if buffers[i].len() != len {
        buffers[i] = vec![T::zero(); len];
    }
    &mut buffers[i]
}

/// Plain gradient descent, the tutorial's: `w ← w − η ∂C/∂w`.
#[derive(Clone, Debug, Default)]
pub struct Sgd;

impl<T: Scalar> Optimizer<T> for Sgd {
    fn step(&mut self, net: &mut Network<T>, grads: &Gradients<T>, eta: T) {
        // Compiled for the widest SIMD the CPU has (the loop bodies inline into the
        // dispatched closure); the arithmetic, and so every bit, is the scalar loop's. Large
        // tensors are cut by rows over the threads, each taking the rows of W^[l] whose
        // gradient it computed (BP4) and that it multiplies with in FF.
        for_each_tensor_with_rows(net, grads, |_, rows, w, g| {
            let split = g.len() >= PARALLEL_MIN_ENTRIES;
            for_row_blocks(split, rows, (w, g), |(w, g), _| {
                vectorized(|| sgd_update(w, g, eta))
            });
        });
    }
}

/// GD: `w ← w − η ∂C/∂w`, element by element.
#[inline(always)]
fn sgd_update<T: Scalar>(w: &mut [T], g: &[T], eta: T) {
    for (w, &g) in w.iter_mut().zip(g) {
        *w = *w - eta * g;
    }
}

/// `v ← μ v + g`, `w ← w − η v` (or `w ← w − η (g + μ v)` with Nesterov), element by element.
#[inline(always)]
fn momentum_update<T: Scalar>(w: &mut [T], v: &mut [T], g: &[T], eta: T, mu: T, nesterov: bool) {
    if nesterov {
        for ((w, v), &g) in w.iter_mut().zip(v.iter_mut()).zip(g) {
            *v = mu * *v + g;
            *w = *w - eta * (g + mu * *v);
        }
    } else {
        for ((w, v), &g) in w.iter_mut().zip(v.iter_mut()).zip(g) {
            *v = mu * *v + g;
            *w = *w - eta * *v;
        }
    }
}

/// Momentum as PyTorch writes it (no dampening): `v ← μ v + g`, `w ← w − η v`;
/// with Nesterov, `w ← w − η (g + μ v)`.
#[derive(Clone, Debug)]
pub struct Momentum<T> {
    /// μ.
    pub mu: T,
    /// Nesterov's look-ahead form.
    pub nesterov: bool,
    velocity: Vec<Vec<T>>,
}

impl<T: Scalar> Momentum<T> {
    /// Momentum μ with zero initial velocity.
    pub fn new(mu: T, nesterov: bool) -> Self {
        Momentum {
            mu,
            nesterov,
            velocity: Vec::new(),
        }
    }
}

impl<T: Scalar> Optimizer<T> for Momentum<T> {
    fn step(&mut self, net: &mut Network<T>, grads: &Gradients<T>, eta: T) {
        if stale(&self.velocity, net) {
            self.velocity.clear(); // another network: no velocity yet
        }
        let (mu, nesterov, velocity) = (self.mu, self.nesterov, &mut self.velocity);
        // Vectorised and cut by rows over the threads as in Sgd::step.
        for_each_tensor_with_rows(net, grads, |i, rows, w, g| {
            let v = state(velocity, i, w.len());
            let split = g.len() >= PARALLEL_MIN_ENTRIES;
            for_row_blocks(split, rows, ([w, v], g), |([w, v], g), _| {
                vectorized(|| momentum_update(w, v, g, eta, mu, nesterov))
            });
        });
    }

    fn state(&self) -> OptimizerState<T> {
        let mut state = OptimizerState::default();
        state.push_all("velocity", &self.velocity);
        state
    }

    fn set_state(&mut self, state: OptimizerState<T>) {
        self.velocity = state.take_all("velocity");
    }
}

/// RMSprop as PyTorch writes it: `s ← α s + (1 − α) g²`, `w ← w − η g / (√s + ε)`.
#[derive(Clone, Debug)]
pub struct RmsProp<T> {
    /// α, the decay of the running mean of g².
    pub alpha: T,
    /// ε.
    pub eps: T,
    square: Vec<Vec<T>>,
}

impl<T: Scalar> RmsProp<T> {
    /// RMSprop with zero initial state.
    pub fn new(alpha: T, eps: T) -> Self {
        RmsProp {
            alpha,
            eps,
            square: Vec::new(),
        }
    }
}

impl<T: Scalar> Optimizer<T> for RmsProp<T> {
    fn step(&mut self, net: &mut Network<T>, grads: &Gradients<T>, eta: T) {
        if stale(&self.square, net) {
            self.square.clear();
        }
        let (alpha, eps, square) = (self.alpha, self.eps, &mut self.square);
        for_each_tensor(net, grads, |i, w, g| {
            let s = state(square, i, w.len());
            for ((w, s), &g) in w.iter_mut().zip(s.iter_mut()).zip(g) {
                *s = alpha * *s + (T::one() - alpha) * g * g;
                *w = *w - eta * g / (s.sqrt() + eps);
            }
        });
    }

    fn state(&self) -> OptimizerState<T> {
        let mut state = OptimizerState::default();
        state.push_all("square", &self.square);
        state
    }

    fn set_state(&mut self, state: OptimizerState<T>) {
        self.square = state.take_all("square");
    }
}

/// Adam (and AdamW with `decoupled_decay > 0`) as PyTorch writes them.
#[derive(Clone, Debug)]
pub struct Adam<T> {
    /// β₁.
    pub beta1: T,
    /// β₂.
    pub beta2: T,
    /// ε.
    pub eps: T,
    /// AdamW's decoupled weight decay λ_wd (0 for Adam): `w ← w − η λ_wd w` before the step.
    pub decoupled_decay: T,
    t: i32,
    first: Vec<Vec<T>>,
    second: Vec<Vec<T>>,
}

impl<T: Scalar> Adam<T> {
    /// Adam with zero moments.
    pub fn new(beta1: T, beta2: T, eps: T, decoupled_decay: T) -> Self {
        Adam {
            beta1,
            beta2,
            eps,
            decoupled_decay,
            t: 0,
            first: Vec::new(),
            second: Vec::new(),
        }
    }
}

impl<T: Scalar> Optimizer<T> for Adam<T> {
    fn step(&mut self, net: &mut Network<T>, grads: &Gradients<T>, eta: T) {
        if stale(&self.first, net) {
            // Another network: its moments and step count start afresh.
            (self.first, self.second, self.t) = (Vec::new(), Vec::new(), 0);
        }
        self.t += 1;
        let (b1, b2, eps, wd) = (self.beta1, self.beta2, self.eps, self.decoupled_decay);
        let correction1 = T::one() - b1.powi(self.t);
        let correction2 = T::one() - b2.powi(self.t);
        let (first, second) = (&mut self.first, &mut self.second);
        // Cut by rows over the threads as in Sgd::step.
        for_each_tensor_with_rows(net, grads, |i, rows, w, g| {
            let m = state(first, i, w.len());
            let s = state(second, i, w.len());
            let split = g.len() >= PARALLEL_MIN_ENTRIES;
            for_row_blocks(split, rows, ([w, m, s], g), |([w, m, s], g), _| {
                for (((w, m), s), &g) in w.iter_mut().zip(m.iter_mut()).zip(s.iter_mut()).zip(g) {
                    if wd > T::zero() {
                        *w = *w - eta * wd * *w;
                    }
                    *m = b1 * *m + (T::one() - b1) * g;
                    *s = b2 * *s + (T::one() - b2) * g * g;
                    let m_hat = *m / correction1;
                    let s_hat = *s / correction2;
                    *w = *w - eta * m_hat / (s_hat.sqrt() + eps);
                }
            });
        });
    }

    fn state(&self) -> OptimizerState<T> {
        let mut state = OptimizerState {
            steps: self.t as u64,
            buffers: Vec::new(),
        };
        state.push_all("first", &self.first);
        state.push_all("second", &self.second);
        state
    }

    fn set_state(&mut self, state: OptimizerState<T>) {
        self.t = i32::try_from(state.steps).unwrap_or(i32::MAX);
        self.first = state.take_all("first");
        self.second = state.take_all("second");
    }
}

/// iRPROP− (PyTorch's `Rprop`): only the sign of g is used. Each weight has its own step Δ,
/// starting at η; it grows by `eta_plus` while the sign of g repeats and shrinks by
/// `eta_minus` when it flips, in which case that weight skips the step and forgets g.
#[derive(Clone, Debug)]
pub struct Rprop<T> {
    /// Growth factor (1.2).
    pub eta_plus: T,
    /// Shrink factor (0.5).
    pub eta_minus: T,
    /// Smallest step (1e-6).
    pub step_min: T,
    /// Largest step (50).
    pub step_max: T,
    previous: Vec<Vec<T>>,
    steps: Vec<Vec<T>>,
}

impl<T: Scalar> Rprop<T> {
    /// iRPROP− with PyTorch's defaults.
    pub fn new() -> Self {
        Rprop {
            eta_plus: T::c(1.2),
            eta_minus: T::c(0.5),
            step_min: T::c(1e-6),
            step_max: T::c(50.0),
            previous: Vec::new(),
            steps: Vec::new(),
        }
    }
}

impl<T: Scalar> Default for Rprop<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Scalar> Optimizer<T> for Rprop<T> {
    fn step(&mut self, net: &mut Network<T>, grads: &Gradients<T>, eta: T) {
        let me = &mut *self;
        if stale(&me.steps, net) {
            (me.previous, me.steps) = (Vec::new(), Vec::new());
        }
        let (up, down, lo, hi) = (me.eta_plus, me.eta_minus, me.step_min, me.step_max);
        let first_step = me.steps.is_empty();
        let (previous, steps) = (&mut me.previous, &mut me.steps);
        for_each_tensor(net, grads, |i, w, g| {
            let prev = state(previous, i, w.len());
            let delta = state(steps, i, w.len());
            if first_step {
                delta.fill(eta);
            }
            for (((w, prev), delta), &g) in w
                .iter_mut()
                .zip(prev.iter_mut())
                .zip(delta.iter_mut())
                .zip(g)
            {
                let sign = g * *prev;
                let g = if sign > T::zero() {
                    *delta = (*delta * up).min(hi);
                    g
                } else if sign < T::zero() {
                    *delta = (*delta * down).max(lo);
                    T::zero()
                } else {
                    g
                };
                if g > T::zero() {
                    *w = *w - *delta;
                } else if g < T::zero() {
                    *w = *w + *delta;
                }
                *prev = g;
            }
        });
    }

    fn state(&self) -> OptimizerState<T> {
        let mut state = OptimizerState::default();
        state.push_all("previous", &self.previous);
        state.push_all("steps", &self.steps);
        state
    }

    fn set_state(&mut self, state: OptimizerState<T>) {
        self.previous = state.take_all("previous");
        self.steps = state.take_all("steps");
    }
}

/// L-BFGS without line search (PyTorch's default `line_search_fn=None`), one iteration per
/// step: the direction `−H g` comes from the two-loop recursion over the last `history`
/// pairs `s = Δw`, `y = Δg`; the first step is scaled by `min(1, 1/‖g‖₁)` as in PyTorch.
/// Unlike PyTorch, a step never moves the parameters farther than [`LBFGS_MAX_STEP`]
/// (Euclidean norm): without a line search that cap is what keeps η = 1 from diverging.
#[derive(Clone, Debug)]
pub struct Lbfgs<T> {
    /// How many (s, y) pairs to keep (100).
    pub history: usize,
    pairs: VecDeque<(Vec<T>, Vec<T>)>,
    previous_g: Vec<T>,
    previous_step: Vec<T>,
}

impl<T: Scalar> Lbfgs<T> {
    /// L-BFGS remembering `history` pairs.
    pub fn new(history: usize) -> Self {
        Lbfgs {
            history,
            pairs: VecDeque::new(),
            previous_g: Vec::new(),
            previous_step: Vec::new(),
        }
    }
}

/// The longest step L-BFGS takes (Euclidean norm over all parameters).
pub const LBFGS_MAX_STEP: f64 = 1.0;

fn dot<T: Scalar>(a: &[T], b: &[T]) -> T {
    a.iter().zip(b).map(|(&a, &b)| a * b).sum()
}

impl<T: Scalar> Optimizer<T> for Lbfgs<T> {
    fn step(&mut self, net: &mut Network<T>, grads: &Gradients<T>, eta: T) {
        assert_fits(net, grads);
        // Flatten g in the order W^[1], b^[1], W^[2], …
        let mut g = Vec::new();
        for l in 1..grads.nabla_w.len() {
            g.extend_from_slice(grads.nabla_w[l].as_slice());
            g.extend_from_slice(&grads.nabla_b[l]);
        }
        if self.previous_g.len() != g.len() {
            // First step, or another network: no curvature pairs yet.
            (self.pairs, self.previous_g, self.previous_step) = Default::default();
        }
        if !self.previous_g.is_empty() {
            let y: Vec<T> = g
                .iter()
                .zip(&self.previous_g)
                .map(|(&a, &b)| a - b)
                .collect();
            let s = std::mem::take(&mut self.previous_step);
            if dot(&y, &s) > T::c(1e-10) && self.history > 0 {
                if self.pairs.len() >= self.history {
                    self.pairs.pop_front();
                }
                self.pairs.push_back((s, y));
            }
        }
        // Two-loop recursion: q ← g; for pairs newest→oldest: α_i = ρ_i s_iᵀq, q ← q − α_i y_i;
        // r ← γ q with γ = sᵀy / yᵀy of the newest pair; oldest→newest: β = ρ_i y_iᵀr, r ← r + s_i(α_i − β).
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(self.pairs.len());
        for (s, y) in self.pairs.iter().rev() {
            let rho = T::one() / dot(y, s);
            let alpha = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(q, &y)| *q = *q - alpha * y);
            alphas.push((alpha, rho));
        }
        let gamma = match self.pairs.back() {
            Some((s, y)) => dot(s, y) / dot(y, y),
            None => {
                let l1: T = g.iter().map(|v| v.abs()).sum();
                T::one().min(T::one() / l1.max(T::c(1e-12)))
            }
        };
        q.iter_mut().for_each(|q| *q = *q * gamma);
        for ((s, y), &(alpha, rho)) in self.pairs.iter().zip(alphas.iter().rev()) {
            let beta = rho * dot(y, &q);
            q.iter_mut()
                .zip(s)
                .for_each(|(q, &s)| *q = *q + s * (alpha - beta));
        }
        // w ← w − η H g, with the step's length capped at `MAX_STEP` (a trust radius: with no
        // line search, a poor early curvature estimate otherwise throws the weights far off);
        // remember s = Δw and g for the next pair.
        let mut step: Vec<T> = q.iter().map(|&d| -eta * d).collect();
        let length = dot(&step, &step).sqrt();
        let max_step = T::c(LBFGS_MAX_STEP);
        if length > max_step {
            step.iter_mut().for_each(|s| *s = *s * max_step / length);
        }
        let mut offset = 0;
        for layer in net.layers_mut() {
            for p in layer.w.as_mut_slice().iter_mut().chain(layer.b.iter_mut()) {
                *p = *p + step[offset];
                offset += 1;
            }
        }
        self.previous_step = step;
        self.previous_g = g;
    }

    fn state(&self) -> OptimizerState<T> {
        let mut state = OptimizerState::default();
        for (k, (s, y)) in self.pairs.iter().enumerate() {
            state.buffers.push((format!("pairs.{k}.s"), s.clone()));
            state.buffers.push((format!("pairs.{k}.y"), y.clone()));
        }
        for (name, v) in [
            ("previous_g", &self.previous_g),
            ("previous_step", &self.previous_step),
        ] {
            if !v.is_empty() {
                state.buffers.push((name.to_string(), v.clone()));
            }
        }
        state
    }

    fn set_state(&mut self, state: OptimizerState<T>) {
        self.pairs = (0..)
            .map_while(|k| {
                let s = state.get(&format!("pairs.{k}.s"))?;
                let y = state.get(&format!("pairs.{k}.y"))?;
                Some((s.clone(), y.clone()))
            })
            .collect();
        self.previous_g = state.get("previous_g").cloned().unwrap_or_default();
        self.previous_step = state.get("previous_step").cloned().unwrap_or_default();
    }
}

/// Which optimizer to build, with its hyper-parameters (η comes from the schedule).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum OptimizerKind {
    /// [`Sgd`].
    #[default]
    Sgd,
    /// [`Momentum`].
    Momentum {
        /// μ (0.9).
        mu: f64,
        /// Nesterov's form.
        nesterov: bool,
    },
    /// [`RmsProp`].
    RmsProp {
        /// α (0.99).
        alpha: f64,
        /// ε (1e-8).
        eps: f64,
    },
    /// [`Adam`].
    Adam {
        /// β₁ (0.9).
        beta1: f64,
        /// β₂ (0.999).
        beta2: f64,
        /// ε (1e-8).
        eps: f64,
    },
    /// [`Adam`] with decoupled weight decay.
    AdamW {
        /// β₁ (0.9).
        beta1: f64,
        /// β₂ (0.999).
        beta2: f64,
        /// ε (1e-8).
        eps: f64,
        /// λ_wd (0.01).
        weight_decay: f64,
    },
    /// [`Rprop`] (full batch).
    Rprop,
    /// [`Lbfgs`] (full batch).
    Lbfgs {
        /// Pairs remembered (100).
        history: usize,
    },
}

impl OptimizerKind {
    /// The names the CLI accepts.
    pub const NAMES: [&'static str; 7] = [
        "sgd", "momentum", "rmsprop", "adam", "adamw", "rprop", "lbfgs",
    ];

    /// Its settings with their values, in a fixed order for each kind (empty for SGD and
    /// Rprop).
    pub fn settings(self) -> Vec<(Setting, f64)> {
        match self {
            Self::Sgd | Self::Rprop => Vec::new(),
            Self::Momentum { mu, .. } => vec![(Setting::Momentum, mu)],
            Self::RmsProp { alpha, eps } => vec![(Setting::Alpha, alpha), (Setting::Eps, eps)],
            Self::Adam { beta1, beta2, eps } => {
                vec![
                    (Setting::Beta1, beta1),
                    (Setting::Beta2, beta2),
                    (Setting::Eps, eps),
                ]
            }
            Self::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => vec![
                (Setting::Beta1, beta1),
                (Setting::Beta2, beta2),
                (Setting::Eps, eps),
                (Setting::WeightDecay, weight_decay),
            ],
            Self::Lbfgs { history } => vec![(Setting::History, history as f64)],
        }
    }

    /// The optimizer, ready for its first step. `Send` and `Sync`, so that it can be kept
    /// with its model between calls of another thread (a server, a Python object).
    pub fn build<T: Scalar>(self) -> Box<dyn Optimizer<T> + Send + Sync> {
        match self {
            Self::Sgd => Box::new(Sgd),
            Self::Momentum { mu, nesterov } => Box::new(Momentum::new(T::c(mu), nesterov)),
            Self::RmsProp { alpha, eps } => Box::new(RmsProp::new(T::c(alpha), T::c(eps))),
            Self::Adam { beta1, beta2, eps } => {
                Box::new(Adam::new(T::c(beta1), T::c(beta2), T::c(eps), T::zero()))
            }
            Self::AdamW {
                beta1,
                beta2,
                eps,
                weight_decay,
            } => Box::new(Adam::new(
                T::c(beta1),
                T::c(beta2),
                T::c(eps),
                T::c(weight_decay),
            )),
            Self::Rprop => Box::new(Rprop::new()),
            Self::Lbfgs { history } => Box::new(Lbfgs::new(history)),
        }
    }

    /// Whether it works on the whole training set at once (rprop, lbfgs).
    pub fn full_batch(self) -> bool {
        matches!(self, Self::Rprop | Self::Lbfgs { .. })
    }

    /// PyTorch's default learning rate for this optimizer, where it has one.
    pub fn default_learning_rate(self) -> Option<f64> {
        match self {
            Self::Sgd | Self::Momentum { .. } => None,
            Self::RmsProp { .. } | Self::Rprop => Some(0.01),
            Self::Adam { .. } | Self::AdamW { .. } => Some(0.001),
            Self::Lbfgs { .. } => Some(1.0),
        }
    }
}

impl fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sgd => "sgd",
            Self::Momentum {
                nesterov: false, ..
            } => "momentum",
            Self::Momentum { nesterov: true, .. } => "nesterov",
            Self::RmsProp { .. } => "rmsprop",
            Self::Adam { .. } => "adam",
            Self::AdamW { .. } => "adamw",
            Self::Rprop => "rprop",
            Self::Lbfgs { .. } => "lbfgs",
        })
    }
}

impl FromStr for OptimizerKind {
    type Err = crate::Error;
    /// The optimizer with PyTorch's default hyper-parameters.
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sgd" => Ok(Self::Sgd),
            "momentum" => Ok(Self::Momentum {
                mu: 0.9,
                nesterov: false,
            }),
            "nesterov" => Ok(Self::Momentum {
                mu: 0.9,
                nesterov: true,
            }),
            "rmsprop" => Ok(Self::RmsProp {
                alpha: 0.99,
                eps: 1e-8,
            }),
            "adam" => Ok(Self::Adam {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            }),
            "adamw" => Ok(Self::AdamW {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 0.01,
            }),
            "rprop" => Ok(Self::Rprop),
            "lbfgs" | "l-bfgs" => Ok(Self::Lbfgs { history: 100 }),
            _ => Err(crate::Error::config(
                Setting::Optimizer,
                format!(
                    "unknown optimizer '{s}' (expected one of: {})",
                    Self::NAMES.join(", ")
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    //! Each rule against two steps computed by hand on one weight w and one bias b of an
    //! identity network [1, 1], with the state carried from step 1 to step 2.
    use super::*;
    use crate::{Activation, Architecture, Cost, Matrix};

    fn tiny() -> Network<f64> {
        let arch = Architecture::new(
            &[1, 1],
            Activation::Identity,
            Activation::Identity,
            Cost::Quadratic,
        )
        .unwrap();
        Network::from_parameters(
            arch,
            vec![Matrix::from_vec(1, 1, vec![1.0]).unwrap()],
            vec![vec![0.5]],
        )
        .unwrap()
    }

    fn grads(w: f64, b: f64) -> Gradients<f64> {
        let mut g = Gradients::zeros(&[1, 1]);
        g.nabla_w[1][(0, 0)] = w;
        g.nabla_b[1][0] = b;
        g
    }

    fn w(net: &Network<f64>) -> f64 {
        net.w(1)[(0, 0)]
    }

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    #[test]
    fn sgd_steps_against_the_gradient() {
        let mut net = tiny();
        Sgd.step(&mut net, &grads(2.0, -1.0), 0.1);
        // w = 1 − 0.1·2 = 0.8; b = 0.5 − 0.1·(−1) = 0.6
        close(w(&net), 0.8);
        close(net.b(1)[0], 0.6);
        Sgd.step(&mut net, &grads(1.0, 0.0), 0.1);
        close(w(&net), 0.7);
    }

    #[test]
    fn momentum_carries_its_velocity_between_steps() {
        let mut net = tiny();
        let mut opt = Momentum::new(0.9, false);
        opt.step(&mut net, &grads(2.0, 0.0), 0.1);
        // v = 2, w = 1 − 0.2 = 0.8
        close(w(&net), 0.8);
        opt.step(&mut net, &grads(1.0, 0.0), 0.1);
        // v = 0.9·2 + 1 = 2.8, w = 0.8 − 0.28 = 0.52
        close(w(&net), 0.52);
    }

    #[test]
    fn nesterov_looks_ahead_by_mu_v() {
        let mut net = tiny();
        let mut opt = Momentum::new(0.9, true);
        opt.step(&mut net, &grads(2.0, 0.0), 0.1);
        // v = 2, d = 2 + 0.9·2 = 3.8, w = 1 − 0.38 = 0.62
        close(w(&net), 0.62);
        opt.step(&mut net, &grads(1.0, 0.0), 0.1);
        // v = 1.8 + 1 = 2.8, d = 1 + 2.52 = 3.52, w = 0.62 − 0.352 = 0.268
        close(w(&net), 0.268);
    }

    #[test]
    fn rmsprop_divides_by_the_running_root_mean_square() {
        let mut net = tiny();
        let mut opt = RmsProp::new(0.99, 1e-8);
        opt.step(&mut net, &grads(2.0, 0.0), 0.01);
        // s = 0.01·4 = 0.04, w = 1 − 0.01·2/(0.2 + 1e-8)
        let w1 = 1.0 - 0.01 * 2.0 / (0.2 + 1e-8);
        close(w(&net), w1);
        opt.step(&mut net, &grads(1.0, 0.0), 0.01);
        // s = 0.99·0.04 + 0.01·1 = 0.0496, w = w1 − 0.01·1/(√0.0496 + 1e-8)
        close(w(&net), w1 - 0.01 / (0.0496f64.sqrt() + 1e-8));
    }

    #[test]
    fn adam_corrects_the_bias_of_its_moments() {
        let mut net = tiny();
        let mut opt = Adam::new(0.9, 0.999, 1e-8, 0.0);
        opt.step(&mut net, &grads(2.0, 0.0), 0.001);
        // m = 0.2, s = 0.004; m̂ = 0.2/0.1 = 2, ŝ = 0.004/0.001 = 4; w = 1 − 0.001·2/(2 + 1e-8)
        let w1 = 1.0 - 0.001 * 2.0 / (2.0 + 1e-8);
        close(w(&net), w1);
        opt.step(&mut net, &grads(1.0, 0.0), 0.001);
        // m = 0.18 + 0.1 = 0.28, s = 0.003996 + 0.001 = 0.004996
        // m̂ = 0.28/0.19, ŝ = 0.004996/(1 − 0.999²) = 0.004996/0.001999
        let (m_hat, s_hat) = (0.28 / 0.19, 0.004996 / (1.0 - 0.999f64.powi(2)));
        close(w(&net), w1 - 0.001 * m_hat / (s_hat.sqrt() + 1e-8));
    }

    #[test]
    fn adamw_decays_the_weight_before_the_adam_step() {
        let mut net = tiny();
        let mut opt = Adam::new(0.9, 0.999, 1e-8, 0.01);
        opt.step(&mut net, &grads(2.0, 0.0), 0.001);
        // w = 1 − 0.001·0.01·1 = 0.99999, then − 0.001·2/(2 + 1e-8)
        let w1 = 0.99999 - 0.001 * 2.0 / (2.0 + 1e-8);
        close(w(&net), w1);
        opt.step(&mut net, &grads(1.0, 0.0), 0.001);
        let (m_hat, s_hat) = (0.28 / 0.19, 0.004996 / (1.0 - 0.999f64.powi(2)));
        close(
            w(&net),
            w1 * (1.0 - 0.001 * 0.01) - 0.001 * m_hat / (s_hat.sqrt() + 1e-8),
        );
    }

    #[test]
    fn rprop_grows_its_step_on_a_repeated_sign_and_backs_off_on_a_flip() {
        let mut net = tiny();
        let mut opt = Rprop::new();
        opt.step(&mut net, &grads(2.0, 0.0), 0.01);
        // Δ = 0.01, w = 1 − 0.01
        close(w(&net), 0.99);
        opt.step(&mut net, &grads(5.0, 0.0), 0.01);
        // same sign: Δ = 0.012, w = 0.99 − 0.012 = 0.978
        close(w(&net), 0.978);
        opt.step(&mut net, &grads(-1.0, 0.0), 0.01);
        // flip: Δ = 0.006, no step, g forgotten
        close(w(&net), 0.978);
        opt.step(&mut net, &grads(-1.0, 0.0), 0.01);
        // previous g was zeroed: Δ stays 0.006, w = 0.978 + 0.006
        close(w(&net), 0.984);
    }

    #[test]
    fn lbfgs_uses_the_curvature_of_its_last_pair() {
        // C = ½ (w − 3)² on the weight only (bias gradient 0): g = w − 3.
        let mut net = tiny();
        let mut opt = Lbfgs::new(100);
        // Step 1: g = −2, scaled by min(1, 1/|g|₁) = 0.5: w = 1 + 1·0.5·2 = 2
        let g = grads(w(&net) - 3.0, 0.0);
        opt.step(&mut net, &g, 1.0);
        close(w(&net), 2.0);
        // Step 2: s = 1, y = (−1) − (−2) = 1, so H = sᵀy/yᵀy = 1 and w = 2 + 1 = 3, the minimum.
        let g = grads(w(&net) - 3.0, 0.0);
        opt.step(&mut net, &g, 1.0);
        close(w(&net), 3.0);
    }

    #[test]
    fn every_optimizer_converges_on_a_convex_quadratic() {
        // C = ½ Σ c_i (p_i − t_i)² over w and b, with different curvatures c = 1 and 4.
        for name in OptimizerKind::NAMES {
            let kind: OptimizerKind = name.parse().unwrap();
            let mut opt = kind.build::<f64>();
            let eta = kind.default_learning_rate().unwrap_or(0.1);
            let mut net = tiny();
            for _ in 0..20000 {
                let g = grads(w(&net) - 3.0, 4.0 * (net.b(1)[0] + 1.0));
                opt.step(&mut net, &g, eta);
            }
            assert!(
                (w(&net) - 3.0).abs() < 1e-2 && (net.b(1)[0] + 1.0).abs() < 1e-2,
                "{name}: w = {}, b = {}",
                w(&net),
                net.b(1)[0]
            );
        }
    }
}
