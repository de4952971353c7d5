//! The activation functions g and their derivatives g': `a^[l] = g(z^[l])` (FF), and the
//! factor `g'(z^[l])` in BP1 and BP2.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::matrix::{Matrix, Scalar};
use crate::scalar::vectorized;

/// The activation function g, applied element-wise (softmax: row-wise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// `g(z) = 1 / (1 + e^(−z))`, the tutorial's; `g' = g (1 − g)`.
    Sigmoid,
    /// `g(z) = tanh(z)`; `g' = 1 − tanh²(z)`.
    Tanh,
    /// `g(z) = max(0, z)`; `g'(z) = 1` for z > 0, else 0 (taken as 0 at the kink z = 0).
    Relu,
    /// `g(z) = z` for z > 0, else `0.01 z`; `g'` = 1 or 0.01.
    LeakyRelu,
    /// `g(z) = z`; `g' = 1` (regression outputs).
    Identity,
    /// `a_j = e^(z_j) / Σ_k e^(z_k)` over one example's outputs; output layer only. Its
    /// Jacobian is not diagonal, so BP1 uses `e = J^T ∂c/∂a` (see [`crate::Cost`]).
    Softmax,
}

/// The slope of [`Activation::LeakyRelu`] for z < 0.
pub const LEAKY_SLOPE: f64 = 0.01;

impl Activation {
    /// All activations, in the order the CLI lists them.
    pub const ALL: [Activation; 6] = [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::LeakyRelu,
        Activation::Identity,
        Activation::Softmax,
    ];

    /// `g(z)` for the element-wise activations.
    ///
    /// # Panics
    /// For [`Activation::Softmax`], which is not element-wise: use [`Activation::apply`].
    pub fn g<T: Scalar>(self, z: T) -> T {
        match self {
            Self::Sigmoid => sigmoid(z),
            Self::Tanh => z.tanh(),
            Self::Relu => relu(z),
            Self::LeakyRelu => {
                if z > T::zero() {
                    z
                } else {
                    T::c(LEAKY_SLOPE) * z
                }
            }
            Self::Identity => z,
            Self::Softmax => panic!("softmax is not element-wise; use Activation::apply"),
        }
    }

    /// `g'(z)` for the element-wise activations.
    ///
    /// # Panics
    /// For [`Activation::Softmax`], whose derivative is a Jacobian (handled in BP1).
    pub fn g_prime<T: Scalar>(self, z: T) -> T {
        self.g_prime_from(z, if self == Self::Softmax { z } else { self.g(z) })
    }

    /// `g'(z)` given `a = g(z)` too, so sigmoid and tanh need no second `exp`.
    #[inline]
    pub(crate) fn g_prime_from<T: Scalar>(self, z: T, a: T) -> T {
        match self {
            // g' = g (1 − g)
            Self::Sigmoid => a * (T::one() - a),
            // tanh' = 1 − tanh²
            Self::Tanh => T::one() - a * a,
            // ReLU has no derivative at 0; we take 0 there, as PyTorch does.
            Self::Relu => {
                if z > T::zero() {
                    T::one()
                } else {
                    T::zero()
                }
            }
            Self::LeakyRelu => {
                if z > T::zero() {
                    T::one()
                } else {
                    T::c(LEAKY_SLOPE)
                }
            }
            Self::Identity => T::one(),
            Self::Softmax => panic!("softmax has a Jacobian, not an element-wise g'"),
        }
    }

    /// FF, second half: `a = g(z)` for a whole batch (one example per row).
    ///
    /// # Panics
    /// If z and a do not have the same shape.
    #[track_caller]
    pub fn apply<T: Scalar>(self, z: &Matrix<T>, a: &mut Matrix<T>) {
        assert_eq!(
            z.shape(),
            a.shape(),
            "Activation::apply: z and a differ in shape"
        );
        if self == Self::Softmax {
            vectorized(
                #[inline(always)]
                || {
                    for i in 0..z.rows() {
                        softmax_row(z.row(i), a.row_mut(i));
                    }
                },
            );
        } else {
            let g = self;
            vectorized(
                #[inline(always)]
                || g.apply_slice(z.as_slice(), a.as_mut_slice()),
            );
        }
    }

    /// FF for one layer after its product: `z ← z + 1 bᵀ` (the bias of each neuron added
    /// to every example's row), then `a = g(z)`, in one pass over z.
    /// z and a hold whole rows of `b.len()` entries each (row-major).
    pub(crate) fn add_bias_and_apply<T: Scalar>(self, b: &[T], z: &mut [T], a: &mut [T]) {
        debug_assert_eq!(z.len(), a.len());
        debug_assert!(b.is_empty() || z.len().is_multiple_of(b.len()));
        let g = self;
        vectorized(
            #[inline(always)]
            || {
                for (z, a) in z.chunks_exact_mut(b.len()).zip(a.chunks_exact_mut(b.len())) {
                    z.iter_mut().zip(b).for_each(|(z, &b)| *z = *z + b);
                    if g == Self::Softmax {
                        softmax_row(z, a);
                    } else {
                        g.apply_slice(z, a);
                    }
                }
            },
        );
    }

    /// `a = g(z)` element-wise: one tight loop per activation (the match hoisted out) so
    /// that each vectorises.
    #[inline(always)]
    fn apply_slice<T: Scalar>(self, z: &[T], a: &mut [T]) {
        match self {
            Self::Sigmoid => a.iter_mut().zip(z).for_each(|(a, &z)| *a = sigmoid(z)),
            Self::Tanh => a.iter_mut().zip(z).for_each(|(a, &z)| *a = z.tanh()),
            Self::Relu => a.iter_mut().zip(z).for_each(|(a, &z)| *a = relu(z)),
            Self::LeakyRelu => a.iter_mut().zip(z).for_each(|(a, &z)| {
                *a = if z > T::zero() {
                    z
                } else {
                    T::c(LEAKY_SLOPE) * z
                }
            }),
            Self::Identity => a.copy_from_slice(z),
            Self::Softmax => unreachable!("softmax is applied row by row"),
        }
    }

    /// `e ← e ⊙ g'(z)`, the Hadamard factor of BP1 and BP2, given `a = g(z)`.
    pub(crate) fn hadamard_g_prime_assign<T: Scalar>(
        self,
        e: &mut Matrix<T>,
        z: &Matrix<T>,
        a: &Matrix<T>,
    ) {
        debug_assert!(self != Self::Softmax);
        if self == Self::Identity {
            return;
        }
        let (e, z, a) = (e.as_mut_slice(), z.as_slice(), a.as_slice());
        let g = self;
        // One tight loop per activation so that each vectorises.
        vectorized(
            #[inline(always)]
            || match g {
                // g' = a (1 − a)
                Self::Sigmoid => e
                    .iter_mut()
                    .zip(a)
                    .for_each(|(e, &a)| *e = *e * a * (T::one() - a)),
                Self::Tanh => e
                    .iter_mut()
                    .zip(a)
                    .for_each(|(e, &a)| *e = *e * (T::one() - a * a)),
                // g' = 1 for z > 0, else 0: a select, not a multiply by 0 (which would turn
                // an infinite e into NaN where the neuron is off).
                Self::Relu => e
                    .iter_mut()
                    .zip(z)
                    .for_each(|(e, &z)| *e = if z > T::zero() { *e } else { *e * T::zero() }),
                _ => e
                    .iter_mut()
                    .zip(z)
                    .zip(a)
                    .for_each(|((e, &z), &a)| *e = *e * g.g_prime_from(z, a)),
            },
        );
    }

    /// The command-line and model-file name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sigmoid => "sigmoid",
            Self::Tanh => "tanh",
            Self::Relu => "relu",
            Self::LeakyRelu => "leaky-relu",
            Self::Identity => "identity",
            Self::Softmax => "softmax",
        }
    }
}

/// ReLU, `max(z, 0)`.
#[inline(always)]
fn relu<T: Scalar>(z: T) -> T {
    // max(z, 0), with NaN passed through (`f32::max` would turn it into 0).
    if z > T::zero() {
        z
    } else if z <= T::zero() {
        T::zero()
    } else {
        z
    }
}

/// `1 / (1 + e^(−z))`, written so that it never overflows. In f32, beyond |z| = 80 the
/// result is within 2e-35 of 0 or 1; clamping there keeps `exp` out of the subnormal range,
/// where each call costs a slow microcode assist (measured: it made sigmoid layers 5×
/// slower). In f64 the cap is 700 (e^−700 is still a normal f64).
#[inline(always)]
fn sigmoid<T: Scalar>(z: T) -> T {
    // |z| is capped where σ is 1 or e^z to the precision (f32: 80, f64: 700) so that e^−z
    // stays finite; the comparisons are false for NaN, which passes through as NaN.
    let limit = T::c(if std::mem::size_of::<T>() == 8 {
        700.0
    } else {
        80.0
    });
    let z = if z < -limit {
        -limit
    } else if z > limit {
        limit
    } else {
        z
    };
    T::one() / (T::one() + (-z).exp_fast())
}

/// `a_j = e^(z_j − max z) / Σ_k e^(z_k − max z)`: shifting by the max changes nothing
/// mathematically and keeps `exp` from overflowing.
#[inline(always)]
fn softmax_row<T: Scalar>(z: &[T], a: &mut [T]) {
    let max = z.iter().copied().fold(T::neg_infinity(), T::max);
    // Two loops: the exponentials are independent and vectorise; the sum keeps its order.
    for (a, &z) in a.iter_mut().zip(z) {
        *a = (z - max).exp_fast();
    }
    let mut sum = T::zero();
    for &a in a.iter() {
        sum = sum + a;
    }
    for a in a.iter_mut() {
        *a = *a / sum;
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Activation {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        let wanted = s.trim().to_ascii_lowercase().replace('_', "-");
        let alias = match wanted.as_str() {
            "logistic" => "sigmoid",
            "linear" => "identity",
            "leakyrelu" | "leaky" => "leaky-relu",
            other => other,
        };
        Self::ALL
            .into_iter()
            .find(|g| g.name() == alias)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|g| g.name()).collect();
                crate::Error::config(
                    crate::Setting::Activation,
                    format!(
                        "unknown activation '{s}' (expected one of: {})",
                        names.join(", ")
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_prime_agrees_with_a_central_difference_away_from_kinks() {
        for g in Activation::ALL
            .into_iter()
            .filter(|&g| g != Activation::Softmax)
        {
            for &z in &[-3.0f64, -0.7, 0.3, 1.1, 4.0] {
                let h = 1e-6;
                let numeric = (g.g(z + h) - g.g(z - h)) / (2.0 * h);
                assert!(
                    (numeric - g.g_prime(z)).abs() < 1e-8,
                    "{g} at {z}: {numeric} vs {}",
                    g.g_prime(z)
                );
            }
        }
    }

    #[test]
    fn softmax_rows_sum_to_one_even_for_huge_inputs() {
        let z = Matrix::from_vec(2, 3, vec![1000.0f64, 1001.0, 999.0, -5.0, 0.0, 5.0]).unwrap();
        let mut a = Matrix::zeros(2, 3);
        Activation::Softmax.apply(&z, &mut a);
        for i in 0..2 {
            assert!((a.row(i).iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
        // e^1 / (e^0 + e^1 + e^-1) for the first row's middle entry
        let e = std::f64::consts::E;
        assert!((a[(0, 1)] - e / (1.0 + e + 1.0 / e)).abs() < 1e-12);
    }

    #[test]
    fn sigmoid_does_not_overflow() {
        assert!(Activation::Sigmoid.g(-1000.0f32) < 1e-30);
        assert_eq!(Activation::Sigmoid.g(1000.0f32), 1.0);
        assert_eq!(Activation::Sigmoid.g(0.0f64), 0.5);
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for g in Activation::ALL {
            assert_eq!(g.name().parse::<Activation>().unwrap(), g);
        }
        let err = "swish".parse::<Activation>().unwrap_err().to_string();
        assert!(err.contains("unknown activation 'swish'"), "{err}");
    }
}
