//! The cost `c_x` of one example, its mean `C = (1/n) Σ_x c_x`, and BP1, the output error
//! `e^[L] = ∂c/∂a^[L] ⊙ g'(z^[L])` that starts backpropagation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::activation::Activation;
use crate::matrix::{Matrix, Scalar};
use crate::scalar::vectorized;
use crate::setting::Setting;

/// The cost function `c_x` of one example x with target y.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cost {
    /// `c_x = ½ ‖y − a^[L]‖²`, the tutorial's; `∂c/∂a^[L] = a^[L] − y`.
    Quadratic,
    /// Cross-entropy. With sigmoid outputs (binary or multi-label):
    /// `c_x = −Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)]`, and BP1 simplifies to `e = a − y`
    /// because `g' = a(1 − a)` cancels the denominator of `∂c/∂a`.
    /// With softmax outputs (categorical): `c_x = −Σ_j y_j ln a_j`, and `e = a − y` for
    /// one-hot y (in general `e_j = a_j Σ_k y_k − y_j`).
    /// Computed from `z` (log-sum-exp, softplus), so it is finite even when `a` rounds to 0 or 1.
    CrossEntropy,
}

impl Cost {
    /// Both costs, in the order the CLI lists them.
    pub const ALL: [Cost; 2] = [Cost::Quadratic, Cost::CrossEntropy];

    /// The command-line and model-file name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Quadratic => "quadratic",
            Self::CrossEntropy => "cross-entropy",
        }
    }

    /// Checks that this cost can be used with output activation `g`.
    ///
    /// # Errors
    /// [`crate::Error::InvalidConfig`] for cross-entropy with an output that is not sigmoid or
    /// softmax (its `ln a` needs `0 < a < 1`).
    pub fn check_output(self, g: Activation) -> crate::Result<()> {
        if self == Self::CrossEntropy && !matches!(g, Activation::Sigmoid | Activation::Softmax) {
            return Err(crate::Error::config(
                Setting::Cost,
                format!("cross-entropy needs a sigmoid or softmax output layer, not {g}"),
            ));
        }
        Ok(())
    }

    /// `c_x` for one example, from its output layer's `z^[L]` and `a^[L]` and its target `y`.
    pub fn c_x<T: Scalar>(self, g: Activation, z: &[T], a: &[T], y: &[T]) -> T {
        let half = T::c(0.5);
        match (self, g) {
            (Self::Quadratic, _) => a
                .iter()
                .zip(y)
                .map(|(&a, &y)| half * (y - a) * (y - a))
                .sum(),
            // −Σ y_j (z_j − lse(z)) = lse(z) Σ y − Σ y z
            (Self::CrossEntropy, Activation::Softmax) => {
                let max = z.iter().copied().fold(T::neg_infinity(), T::max);
                let lse = max + z.iter().map(|&z| (z - max).exp()).sum::<T>().ln();
                z.iter().zip(y).map(|(&z, &y)| y * (lse - z)).sum()
            }
            // −[y ln σ(z) + (1 − y) ln(1 − σ(z))] = softplus(z) − y z
            (Self::CrossEntropy, _) => z.iter().zip(y).map(|(&z, &y)| softplus(z) - y * z).sum(),
        }
    }

    /// `C = (1/m) Σ_x c_x` over a batch (one example per row).
    ///
    /// # Panics
    /// If z, a and y do not all have the same shape.
    pub fn mean<T: Scalar>(self, g: Activation, z: &Matrix<T>, a: &Matrix<T>, y: &Matrix<T>) -> T {
        self.total(g, z, a, y) / T::from_count(z.rows().max(1))
    }

    /// `Σ_x c_x` over a batch (one example per row).
    pub fn total<T: Scalar>(self, g: Activation, z: &Matrix<T>, a: &Matrix<T>, y: &Matrix<T>) -> T {
        (0..z.rows())
            .map(|i| self.c_x(g, z.row(i), a.row(i), y.row(i)))
            .sum()
    }

    /// `∂c/∂a^[L]` for one example, written into `out`.
    pub fn dc_da_into<T: Scalar>(self, a: &[T], y: &[T], out: &mut [T]) {
        for ((o, &a), &y) in out.iter_mut().zip(a).zip(y) {
            *o = match self {
                Self::Quadratic => a - y,
                // −y/a + (1 − y)/(1 − a); infinite when a rounds to 0 or 1, which is why BP1
                // below never goes through it for cross-entropy.
                Self::CrossEntropy => (a - y) / (a * (T::one() - a)),
            };
        }
    }

    /// BP1: `e^[L] = ∂c/∂a^[L] ⊙ g'(z^[L])` for a batch, written into `e`.
    ///
    /// For softmax outputs g' is a Jacobian `J_jk = a_j (δ_jk − a_k)`, and BP1 reads
    /// `e = Jᵀ ∂c/∂a`, i.e. `e_j = a_j (∂c/∂a_j − Σ_k a_k ∂c/∂a_k)`.
    pub fn output_error_into<T: Scalar>(
        self,
        g: Activation,
        z: &Matrix<T>,
        a: &Matrix<T>,
        y: &Matrix<T>,
        e: &mut Matrix<T>,
    ) {
        debug_assert_eq!(a.shape(), y.shape());
        debug_assert_eq!(a.shape(), e.shape());
        match (self, g) {
            // The g' (or Jacobian) cancels: e = a Σy − y (= a − y for targets that sum to 1 or are 0/1 per output).
            (Self::CrossEntropy, Activation::Softmax) => {
                for i in 0..a.rows() {
                    let sum_y: T = y.row(i).iter().copied().sum();
                    for ((e, &a), &y) in e.row_mut(i).iter_mut().zip(a.row(i)).zip(y.row(i)) {
                        *e = a * sum_y - y;
                    }
                }
            }
            (Self::CrossEntropy, _) => {
                for ((e, &a), &y) in e
                    .as_mut_slice()
                    .iter_mut()
                    .zip(a.as_slice())
                    .zip(y.as_slice())
                {
                    *e = a - y;
                }
            }
            (Self::Quadratic, Activation::Softmax) => {
                for i in 0..a.rows() {
                    let (a, y) = (a.row(i), y.row(i));
                    let dot: T = a.iter().zip(y).map(|(&a, &y)| a * (a - y)).sum();
                    for ((e, &a), &y) in e.row_mut(i).iter_mut().zip(a).zip(y) {
                        *e = a * ((a - y) - dot);
                    }
                }
            }
            // BP1 in one pass for sigmoid outputs (Nielsen's network): e = (a − y) ⊙ a (1 − a)
            (Self::Quadratic, Activation::Sigmoid) => vectorized(
                #[inline(always)]
                || {
                    for ((e, &a), &y) in e
                        .as_mut_slice()
                        .iter_mut()
                        .zip(a.as_slice())
                        .zip(y.as_slice())
                    {
                        *e = (a - y) * a * (T::one() - a);
                    }
                },
            ),
            (Self::Quadratic, _) => {
                for ((e, &a), &y) in e
                    .as_mut_slice()
                    .iter_mut()
                    .zip(a.as_slice())
                    .zip(y.as_slice())
                {
                    *e = a - y;
                }
                g.hadamard_g_prime_assign(e, z, a);
            }
        }
    }
}

/// `ln(1 + e^z)`, without overflow for large z or loss of precision for very negative z.
fn softplus<T: Scalar>(z: T) -> T {
    z.max(T::zero()) + (-z.abs()).exp().ln_1p()
}

impl fmt::Display for Cost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Cost {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "quadratic" | "mse" | "squared" => Ok(Self::Quadratic),
            "cross-entropy" | "crossentropy" | "ce" | "log-loss" => Ok(Self::CrossEntropy),
            _ => Err(crate::Error::config(
                crate::Setting::Cost,
                format!("unknown cost '{s}' (expected quadratic or cross-entropy)"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_entropy_from_z_equals_the_textbook_formula() {
        let z = [0.3f64, -1.2, 2.0];
        let a: Vec<f64> = z.iter().map(|&z| Activation::Sigmoid.g(z)).collect();
        let y = [1.0, 0.0, 1.0];
        let textbook: f64 = a
            .iter()
            .zip(&y)
            .map(|(&a, &y)| -(y * a.ln() + (1.0 - y) * (1.0 - a).ln()))
            .sum();
        assert!((Cost::CrossEntropy.c_x(Activation::Sigmoid, &z, &a, &y) - textbook).abs() < 1e-12);

        let mut s = Matrix::zeros(1, 3);
        let zm = Matrix::from_vec(1, 3, z.to_vec()).unwrap();
        Activation::Softmax.apply(&zm, &mut s);
        let y = [0.0, 0.0, 1.0];
        let textbook = -s[(0, 2)].ln();
        assert!(
            (Cost::CrossEntropy.c_x(Activation::Softmax, &z, s.row(0), &y) - textbook).abs()
                < 1e-12
        );
    }

    #[test]
    fn cross_entropy_stays_finite_when_the_output_saturates() {
        let c = Cost::CrossEntropy.c_x(Activation::Sigmoid, &[-800.0f64], &[0.0], &[1.0]);
        assert!((c - 800.0).abs() < 1e-9, "{c}");
    }

    #[test]
    fn cross_entropy_needs_a_probability_output() {
        assert!(Cost::CrossEntropy
            .check_output(Activation::Identity)
            .is_err());
        assert!(Cost::CrossEntropy.check_output(Activation::Softmax).is_ok());
        assert!(Cost::Quadratic.check_output(Activation::Identity).is_ok());
    }
}
