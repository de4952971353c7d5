//! GD: the update `w ← w − η ∂C/∂w`, `b ← b − η ∂C/∂b` after each mini-batch, behind the
//! [`Optimizer`] seam so that other update rules plug in without touching backpropagation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::matrix::Scalar;
use crate::network::{Gradients, Network};

/// An update rule: given the batch gradients `∂C/∂W^[l]`, `∂C/∂b^[l]`, change the parameters.
/// It owns whatever state it carries from step to step (velocities, moments).
pub trait Optimizer<T: Scalar> {
    /// One step after one mini-batch.
    fn step(&mut self, net: &mut Network<T>, grads: &Gradients<T>);
}

/// Plain gradient descent, the tutorial's: `w ← w − η ∂C/∂w`.
#[derive(Clone, Debug)]
pub struct Sgd<T> {
    /// Learning rate η.
    pub eta: T,
}

impl<T: Scalar> Optimizer<T> for Sgd<T> {
    fn step(&mut self, net: &mut Network<T>, grads: &Gradients<T>) {
        let eta = self.eta;
        for (i, layer) in net.layers_mut().iter_mut().enumerate() {
            let l = i + 1;
            // GD: w ← w − η ∂C/∂w
            for (w, &nw) in layer
                .w
                .as_mut_slice()
                .iter_mut()
                .zip(grads.nabla_w[l].as_slice())
            {
                *w = *w - eta * nw;
            }
            // GD: b ← b − η ∂C/∂b
            for (b, &nb) in layer.b.iter_mut().zip(&grads.nabla_b[l]) {
                *b = *b - eta * nb;
            }
        }
    }
}

/// Gradient descent with momentum, as PyTorch writes it: `v ← μ v + ∂C/∂w`, `w ← w − η v`.
#[derive(Clone, Debug)]
pub struct Momentum<T> {
    /// Learning rate η.
    pub eta: T,
    /// Momentum μ.
    pub mu: T,
    velocity: Option<Gradients<T>>,
}

impl<T: Scalar> Momentum<T> {
    /// Momentum with zero initial velocity.
    pub fn new(eta: T, mu: T) -> Self {
        Momentum {
            eta,
            mu,
            velocity: None,
        }
    }
}

impl<T: Scalar> Optimizer<T> for Momentum<T> {
    fn step(&mut self, net: &mut Network<T>, grads: &Gradients<T>) {
        let (eta, mu) = (self.eta, self.mu);
        let velocity = self
            .velocity
            .get_or_insert_with(|| Gradients::zeros(net.sizes()));
        for (i, layer) in net.layers_mut().iter_mut().enumerate() {
            let l = i + 1;
            update_with_velocity(
                layer.w.as_mut_slice(),
                velocity.nabla_w[l].as_mut_slice(),
                grads.nabla_w[l].as_slice(),
                eta,
                mu,
            );
            update_with_velocity(
                &mut layer.b,
                &mut velocity.nabla_b[l],
                &grads.nabla_b[l],
                eta,
                mu,
            );
        }
    }
}

fn update_with_velocity<T: Scalar>(p: &mut [T], v: &mut [T], g: &[T], eta: T, mu: T) {
    for ((p, v), &g) in p.iter_mut().zip(v.iter_mut()).zip(g) {
        *v = mu * *v + g;
        *p = *p - eta * *v;
    }
}

/// Which optimizer to build, with its hyper-parameters (all but η, which the training
/// configuration carries).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum OptimizerKind {
    /// [`Sgd`].
    #[default]
    Sgd,
    /// [`Momentum`] with momentum μ.
    Momentum {
        /// μ, e.g. 0.9.
        mu: f64,
    },
}

impl OptimizerKind {
    /// The optimizer for learning rate `eta`.
    pub fn build<T: Scalar>(self, eta: f64) -> Box<dyn Optimizer<T>> {
        match self {
            Self::Sgd => Box::new(Sgd { eta: T::c(eta) }),
            Self::Momentum { mu } => Box::new(Momentum::new(T::c(eta), T::c(mu))),
        }
    }
}

impl fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sgd => f.write_str("sgd"),
            Self::Momentum { .. } => f.write_str("momentum"),
        }
    }
}

impl FromStr for OptimizerKind {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "sgd" => Ok(Self::Sgd),
            "momentum" => Ok(Self::Momentum { mu: 0.9 }),
            _ => Err(crate::Error::config(
                "--optimizer",
                format!("unknown optimizer '{s}' (expected sgd or momentum)"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn sgd_steps_against_the_gradient() {
        let mut net = tiny();
        let mut opt = Sgd { eta: 0.1 };
        opt.step(&mut net, &grads(2.0, -1.0));
        // w = 1 − 0.1·2 = 0.8; b = 0.5 − 0.1·(−1) = 0.6
        assert!((net.w(1)[(0, 0)] - 0.8).abs() < 1e-15);
        assert!((net.b(1)[0] - 0.6).abs() < 1e-15);
    }

    #[test]
    fn momentum_carries_its_velocity_between_steps() {
        let mut net = tiny();
        let mut opt = Momentum::new(0.1, 0.9);
        opt.step(&mut net, &grads(2.0, 0.0));
        // v = 2, w = 1 − 0.2 = 0.8
        assert!((net.w(1)[(0, 0)] - 0.8).abs() < 1e-15);
        opt.step(&mut net, &grads(1.0, 0.0));
        // v = 0.9·2 + 1 = 2.8, w = 0.8 − 0.28 = 0.52
        assert!((net.w(1)[(0, 0)] - 0.52).abs() < 1e-15);
    }
}
