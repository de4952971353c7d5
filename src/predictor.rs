//! Batch-1 inference for serving one example at a time: [`Predictor`].
//!
//! At batch 1 the forward pass is bound by reading the weights (W4's network holds
//! 0.94 MB of them for 0.47 MFLOP), not by arithmetic. Most inputs have many exact zeros,
//! though: an MNIST digit is ~80% background, and a ReLU layer's output ~50% zeros. A
//! term `w_jk a_k` with `a_k = 0` adds nothing, so a product that reads only the weights
//! of the nonzero `a_k` does a fraction of the work. Those weights are column k of W,
//! scattered across its rows; the predictor therefore keeps a copy of each layer's
//! `Wᵀ`, whose row k is that column, made once when it is built.
//!
//! The sums are the dense product's, term for term and in the same order, less the zero
//! terms, which with finite weights change no bit: the outputs have the bits of
//! [`Network::infer`]'s at batch 1, whatever the input (tested).

use std::borrow::Borrow;

use crate::error::{Error, Result};
use crate::kernels::GemmKernel;
use crate::matrix::{first_non_finite, gemm, Accumulate, MatRef, Matrix, Scalar};
use crate::network::Network;

/// Layers with fewer weights than this keep the dense batch-1 loops: their weights stay
/// in L1 from one call to the next, and grouping the nonzero inputs would cost more than
/// it saves. Measured on W4's 128 × 10 output layer (BENCHMARKS.md, "Batch 1").
pub const SPARSE_MIN_WEIGHTS: usize = 1 << 14;

/// A [`Network`] made ready to answer one example at a time, as a server would.
///
/// Building it copies each layer's `W^[l]` transposed (the same memory again as the
/// weights) where that layer's batch-1 product can skip zero inputs: f32 on a CPU with
/// AVX-512, at least [`SPARSE_MIN_WEIGHTS`] weights, all finite. Such a layer skips its
/// zero inputs when at most 75% of them are nonzero (55% at two threads or more, when
/// its dense loops would be split over the cores); otherwise, and in every other layer, it
/// runs the network's own batch-1 product. Either way the outputs are bit for bit those
/// of [`Network::infer`] with one row, at any thread count; the predictor only borrows
/// the network, so the weights cannot change under it.
///
/// A [`crate::Model`] trained on CSV data holds a [`crate::data::Scaling`]: its network
/// expects inputs scaled by it (`x'_k = (x_k − offset_k) · factor_k`; use
/// [`crate::data::Scaling::apply_row`] on each example), here as in [`Network::infer`].
/// Standardised inputs have few exact zeros, so such a network mostly takes the dense
/// route. For a class, take [`crate::metrics::argmax`] of the outputs (and
/// `model.classes[k]` for its name).
///
/// The predictor keeps the network as you give it: borrowed (`&Network`), owned, or
/// shared (`Arc<Network>`, for a server that keeps both). `predict` takes `&mut self`
/// (its buffers); for several threads, clone it (each clone copies the transposed
/// weights).
///
/// ```
/// use nabla::{Activation, Architecture, Cost, Init, Network, Predictor};
/// let arch = Architecture::new(&[4, 8, 3], Activation::Relu, Activation::Softmax, Cost::CrossEntropy)?;
/// let network: Network<f32> = Network::new(arch, Init::He, 7)?;
/// let mut predictor = Predictor::new(&network);
/// let a = predictor.predict(&[0.0, 0.5, 0.0, 1.0])?;
/// assert_eq!(a.len(), 3);
/// # Ok::<(), nabla::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Predictor<N, T: Scalar = f32> {
    network: N,
    /// `Wᵀ^[l]` at index l − 1 (n_(l-1) × n_l: row k holds the weights out of input k),
    /// for the layers that take the sparse route.
    transposed: Vec<Option<Matrix<T>>>,
    /// `z^[l]` and `a^[l]` at index l, one row each (index 0 unused: x is read in place).
    z: Vec<Matrix<T>>,
    a: Vec<Matrix<T>>,
}

impl<T: Scalar, N: Borrow<Network<T>>> Predictor<N, T> {
    /// Prepares `network` for batch-1 inference (copies the weights transposed where the
    /// sparse route applies; see the type's documentation).
    pub fn new(network: N) -> Self {
        let net = network.borrow();
        let sizes = net.sizes();
        let transposed = (1..=net.last())
            .map(|l| {
                let w = &net.layer(l).w;
                let (n, k) = w.shape();
                let sparse = T::kernel_for(1, n, k) == GemmKernel::Avx512OneRow
                    && n * k >= SPARSE_MIN_WEIGHTS
                    && w.find_non_finite().is_none();
                sparse.then(|| transpose(w))
            })
            .collect();
        let z = sizes.iter().map(|&n| Matrix::zeros(1, n)).collect();
        let a = sizes.iter().map(|&n| Matrix::zeros(1, n)).collect();
        Predictor {
            network,
            transposed,
            z,
            a,
        }
    }

    /// The network this predictor serves.
    pub fn network(&self) -> &Network<T> {
        self.network.borrow()
    }

    /// The network as it was given to [`Predictor::new`].
    pub fn into_inner(self) -> N {
        self.network
    }

    /// The outputs `a^[L]` for one example x (n_0 values): FF through every layer, the
    /// bits of [`Network::infer`] with x as its one row.
    ///
    /// # Errors
    /// [`Error::Shape`] when x does not have n_0 values, [`Error::NonFinite`] when one of
    /// them is NaN or infinite.
    pub fn predict(&mut self, x: &[T]) -> Result<&[T]> {
        let network = self.network.borrow();
        let n_0 = network.sizes()[0];
        if x.len() != n_0 {
            return Err(Error::shape(
                "input x",
                format!("{n_0} features (n_0)"),
                format!("{} features", x.len()),
            ));
        }
        if let Some(column) = first_non_finite(x) {
            return Err(Error::NonFinite {
                what: "input x".into(),
                row: 0,
                column,
                value: x[column].to_string(),
            });
        }
        for l in 1..=network.last() {
            let layer = network.layer(l);
            let a_prev = if l == 1 { x } else { self.a[l - 1].as_slice() };
            let z = &mut self.z[l];
            // FF: z^[l] = W^[l] a^[l-1], skipping the a_k = 0 where the layer can.
            let sparse = self.transposed[l - 1]
                .as_ref()
                .is_some_and(|wt| T::one_row_sparse(z.as_mut_slice(), a_prev, wt.as_slice()));
            if !sparse {
                let a_prev = MatRef::from_row_major(a_prev, 1, a_prev.len());
                gemm(z, Accumulate::Replace, a_prev, layer.w.t(), T::one());
            }
            // + b^[l] and a^[l] = g(z^[l]) in one pass
            layer
                .g
                .add_bias_and_apply(&layer.b, z.as_mut_slice(), self.a[l].as_mut_slice());
        }
        Ok(self.a[network.last()].as_slice())
    }
}

/// `Wᵀ` stored row-major, copied in 16 × 16 tiles (each tile's rows and columns stay in
/// cache; a plain loop writes one cache line per entry).
fn transpose<T: Scalar>(w: &Matrix<T>) -> Matrix<T> {
    const TILE: usize = 16;
    let (n, k) = w.shape();
    let mut wt = Matrix::zeros(k, n);
    let (from, to) = (w.as_slice(), wt.as_mut_slice());
    for j0 in (0..n).step_by(TILE) {
        for p0 in (0..k).step_by(TILE) {
            for j in j0..(j0 + TILE).min(n) {
                for p in p0..(p0 + TILE).min(k) {
                    to[p * n + j] = from[j * k + p];
                }
            }
        }
    }
    wt
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Pass;
    use crate::parallel::with_threads;
    use crate::{Activation, Architecture, Cost, Init};

    fn bits<T: Scalar>(values: &[T]) -> Vec<u64> {
        values
            .iter()
            .map(|v| v.to_f64().unwrap().to_bits())
            .collect()
    }

    /// `Network::infer` with x as its one row: what the predictor must reproduce.
    fn infer_one<T: Scalar>(network: &Network<T>, x: &[T]) -> Vec<u64> {
        let x = Matrix::from_vec(1, x.len(), x.to_vec()).unwrap();
        let mut pass = Pass::new(network.sizes(), 1);
        bits(network.infer(&x, &mut pass).unwrap().as_slice())
    }

    /// Inputs from dense to all zeros, with -0 entries, for a network of these sizes.
    fn inputs<T: Scalar>(n_0: usize) -> Vec<Vec<T>> {
        let value = |p: usize, seed: usize| T::c(((p * 37 + seed * 11) % 255) as f64 / 255.0);
        (0..8)
            .map(|pattern| {
                (0..n_0)
                    .map(|p| match pattern {
                        0 => value(p, 1),
                        1 if p % 2 == 0 => T::zero(),
                        2 if p % 5 != 0 => T::zero(),
                        3 if p % 9 != 1 => -T::zero(),
                        4 => T::zero(),
                        5 if (p / 28) % 3 != 1 => T::zero(),
                        6 if p % 3 == 0 => -value(p, 2),
                        6 => T::zero(),
                        7 if p % 4 != 0 => T::zero(),
                        // Subnormal in f32: its products with the weights underflow.
                        7 => T::c(1e-44),
                        _ => value(p, pattern),
                    })
                    .collect()
            })
            .collect()
    }

    fn agrees_with_infer<T: Scalar>(sizes: &[usize], hidden: Activation, output: Activation) {
        let cost = if output == Activation::Softmax {
            Cost::CrossEntropy
        } else {
            Cost::Quadratic
        };
        let arch = Architecture::new(sizes, hidden, output, cost).unwrap();
        let network: Network<T> = Network::new(arch, Init::He, 3).unwrap();
        let mut predictor = Predictor::new(&network);
        if T::NAME == "f32"
            && crate::sgemm::available()
            && sizes[0] * sizes[1] >= SPARSE_MIN_WEIGHTS
        {
            // The test is of the sparse route: the first layer must take it.
            assert!(predictor.transposed[0].is_some(), "{sizes:?}");
        }
        for x in inputs::<T>(sizes[0]) {
            let want = with_threads(1, || infer_one(&network, &x));
            for threads in [1, 2] {
                let got = with_threads(threads, || predictor.predict(&x).map(bits));
                assert_eq!(got.unwrap(), want, "{sizes:?}, {threads} threads");
            }
        }
    }

    #[test]
    fn predictions_have_the_bits_of_infer() {
        for sizes in [
            &[784, 256, 128, 10][..],
            &[784, 30, 10],
            &[1030, 40, 3],
            &[300, 70, 33, 5],
            &[17, 300, 2],
            &[3, 4, 2],
        ] {
            agrees_with_infer::<f32>(sizes, Activation::Relu, Activation::Softmax);
            agrees_with_infer::<f32>(sizes, Activation::Sigmoid, Activation::Identity);
            agrees_with_infer::<f64>(sizes, Activation::Relu, Activation::Softmax);
        }
    }

    /// A [784, 32] network with a linear output, large enough for the sparse route.
    fn linear_784_32() -> Network<f32> {
        let arch = Architecture::new(
            &[784, 32],
            Activation::Relu,
            Activation::Identity,
            Cost::Quadratic,
        )
        .unwrap();
        Network::new(arch, Init::He, 1).unwrap()
    }

    /// An output that is exactly zero keeps the sign `infer` gives it: the sum's one
    /// nonzero term underflows to -0, the zero inputs' terms that the sparse route skips
    /// are +0, and a bias of -0 passes the sign of z through to a linear output.
    #[test]
    fn a_zero_output_keeps_its_sign() {
        let mut network = linear_784_32();
        network.w_mut(1).as_mut_slice().fill(1.0);
        // Every lane's one nonzero term is -1e-60, which rounds to -0.
        for j in 0..32 {
            for k in 0..16 {
                network.w_mut(1)[(j, k)] = -1e-30;
            }
        }
        network.b_mut(1).fill(-0.0);
        let mut x = vec![0.0f32; 784];
        x[..16].fill(1e-30);
        let want = infer_one(&network, &x);
        assert!(want.iter().all(|&b| b == 0), "infer gives +0");
        let mut predictor = Predictor::new(&network);
        if crate::sgemm::available() {
            assert!(
                predictor.transposed[0].is_some(),
                "the sparse route is tested"
            );
        }
        assert_eq!(bits(predictor.predict(&x).unwrap()), want);
    }

    /// Weights that are not finite keep the dense route, where `0 · ∞` is NaN as it must be.
    #[test]
    fn infinite_weights_keep_the_dense_route() {
        let mut network = linear_784_32();
        if crate::sgemm::available() {
            assert!(
                Predictor::new(&network).transposed[0].is_some(),
                "sparse when finite"
            );
        }
        network.w_mut(1)[(5, 3)] = f32::INFINITY;
        let x = vec![0.0f32; 784];
        let mut predictor = Predictor::new(&network);
        assert!(predictor.transposed[0].is_none());
        let a = predictor.predict(&x).unwrap().to_vec();
        assert!(a[5].is_nan());
        assert_eq!(bits(&a), infer_one(&network, &x));
    }

    /// The predictor owns its network or shares it (`Arc`) as well as it borrows it, and
    /// clones answer from other threads; a scaled row (`Scaling::apply_row`) is what
    /// `Scaling::apply` makes of it.
    #[test]
    fn owned_shared_and_cloned_predictors_agree() {
        use std::sync::Arc;
        let arch = Architecture::new(
            &[784, 64, 10],
            Activation::Relu,
            Activation::Softmax,
            Cost::CrossEntropy,
        )
        .unwrap();
        let network: Network<f32> = Network::new(arch, Init::He, 9).unwrap();
        let xs = inputs::<f32>(784);
        let want: Vec<Vec<u64>> = xs.iter().map(|x| infer_one(&network, x)).collect();
        let mut owned = Predictor::new(network.clone());
        let shared = Predictor::new(Arc::new(network.clone()));
        for (x, want) in xs.iter().zip(&want) {
            assert_eq!(&bits(owned.predict(x).unwrap()), want);
        }
        std::thread::scope(|scope| {
            for _ in 0..2 {
                let mut mine = shared.clone();
                let (xs, want) = (&xs, &want);
                scope.spawn(move || {
                    for (x, want) in xs.iter().zip(want) {
                        assert_eq!(&bits(mine.predict(x).unwrap()), want);
                    }
                });
            }
        });
        assert!(owned.into_inner() == network);

        let x = Matrix::from_vec(2, 784, [xs[0].clone(), xs[6].clone()].concat()).unwrap();
        let scaling = crate::data::Scaling::standardize(&x);
        let mut scaled = x.clone();
        scaling.apply(&mut scaled).unwrap();
        let mut row = xs[6].clone();
        scaling.apply_row(&mut row).unwrap();
        assert_eq!(bits(&row), bits(scaled.row(1)));
        assert!(scaling.apply_row(&mut row[..5]).is_err());
    }

    #[test]
    fn bad_inputs_are_errors() {
        let arch = Architecture::new(
            &[4, 3],
            Activation::Relu,
            Activation::Identity,
            Cost::Quadratic,
        )
        .unwrap();
        let network: Network<f32> = Network::new(arch, Init::He, 1).unwrap();
        let mut predictor = Predictor::new(&network);
        assert!(matches!(
            predictor.predict(&[1.0, 2.0]),
            Err(Error::Shape { .. })
        ));
        match predictor.predict(&[1.0, 2.0, f32::NAN, f32::INFINITY]) {
            Err(Error::NonFinite {
                row: 0, column: 2, ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }
}
