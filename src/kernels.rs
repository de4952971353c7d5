//! Which kernel runs a product, and the kernels themselves: [faer](https://docs.rs/faer)'s,
//! and nabla's own AVX-512 loops (`sgemm.rs`) for the large f32 products and for f32
//! products of one row.
//!
//! faer was chosen by measurement at nabla's shapes (batch 1 to 256, layers 10 to 1024
//! wide): it had the best geometric mean over the 72 MLP products at one thread, was
//! strongest at the small batches mini-batch SGD uses, and stays fast in debug builds
//! because its x86 kernels are generated assembly. It runs every f64 product, the small
//! f32 ones, and everything on CPUs without AVX-512. The f32 products large enough to fill
//! the own kernel's 8 × 32 tile ([`AVX512_MIN_MNK`]) and the one-row products of batch 1
//! ([`GEMV_MIN_NK`]) run on nabla's own loops, which were faster there (BENCHMARKS.md,
//! "GEMM" and "Batch 1").
//!
//! The kernel is chosen once per product, for the whole of it ([`Kernels::kernel_for`]),
//! so that the blocks threads compute ([`crate::parallel`]) all sum in the same order.

use faer::{Accum, MatMut, MatRef as FaerRef, Par};

use crate::parallel::{blocks_of, large_enough_to_split, threads};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// Which kernel runs a product (an implementation detail of [`crate::gemm`]).
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GemmKernel {
    /// faer's kernels: f64, small products, CPUs without AVX-512.
    Faer,
    /// nabla's own blocked AVX-512 kernel (`sgemm.rs`): large f32 products.
    Avx512,
    /// nabla's AVX-512 matrix-vector loops (`sgemm.rs`): f32 products of one row. Chosen
    /// for the whole product, never for a one-row block of a larger one, whose entries
    /// must be summed in the blocked kernel's order.
    Avx512OneRow,
}

/// f32 products with `M·N·K` at least this run on nabla's AVX-512 kernel where the CPU has
/// it. Measured in one process, alternating with faer (`cargo bench --bench gemm_ab`,
/// BENCHMARKS.md "GEMM"): W3's products (1.3·10⁸ to 2.7·10⁸) run 1.1-1.35× faster as a
/// set, W2's (2·10⁶ to 1.3·10⁷) 1.05×. Below 2²¹ (W1's products, the 10-wide output
/// layers) faer's small-matrix kernels are the better choice.
pub const AVX512_MIN_MNK: usize = 1 << 21;

/// f32 products of one row (batch 1) with `N·K` at least this run on nabla's AVX-512
/// matrix-vector loops where the CPU has them; below it, the product takes well under a
/// microsecond either way.
pub const GEMV_MIN_NK: usize = 1 << 10;

/// The kernels of a [`crate::Scalar`] type (sealed: f32 and f64). Hidden: the choice is
/// [`crate::gemm`]'s, not the caller's.
#[doc(hidden)]
pub trait Kernels: Sized + sealed::Sealed {
    /// The kernel for an m × k by k × n product. Chosen once per [`crate::gemm`] call, for
    /// the whole product, so that the blocks threads compute all use the same kernel.
    fn kernel_for(_m: usize, _n: usize, _k: usize) -> GemmKernel {
        GemmKernel::Faer
    }

    /// `dst ← alpha · lhs · rhs` (replace) or `dst ← dst + alpha · lhs · rhs` (add),
    /// single-threaded.
    fn matmul(
        kernel: GemmKernel,
        dst: MatMut<'_, Self>,
        accumulate: bool,
        lhs: FaerRef<'_, Self>,
        rhs: FaerRef<'_, Self>,
        alpha: Self,
    );

    /// Batch 1's product `c ← a Wᵀ` read from `wt` = Wᵀ (k × n, row-major), skipping the
    /// rows of wt whose `a_p` is 0 ([`crate::Predictor`]'s sparse route). False, with c
    /// untouched, when this type has no such route or a has too few zeros.
    fn one_row_sparse(_c: &mut [Self], _a: &[Self], _wt: &[Self]) -> bool {
        false
    }
}

impl Kernels for f32 {
    fn kernel_for(m: usize, n: usize, k: usize) -> GemmKernel {
        if !crate::sgemm::available() {
            GemmKernel::Faer
        } else if m == 1 && n * k >= GEMV_MIN_NK {
            GemmKernel::Avx512OneRow
        } else if m * n * k >= AVX512_MIN_MNK && m >= 16 && n >= 32 && k >= 16 {
            // (Narrower products, like a 10-wide output layer's, would fill a fraction of
            // the kernel's 8 × 32 tile or reload it every few steps of k.)
            GemmKernel::Avx512
        } else {
            GemmKernel::Faer
        }
    }
    fn one_row_sparse(c: &mut [f32], a: &[f32], wt: &[f32]) -> bool {
        // On one thread whatever `threads` says: at W4's shapes the sparse product takes
        // 1-2 µs, and cutting it over two cores was slower (BENCHMARKS.md, "Batch 1"). Where
        // the dense loops would be split over the threads, they win at a lower density.
        let (k, n) = (a.len(), c.len());
        let threads = threads();
        let dense_split =
            threads > 1 && large_enough_to_split(1, n, k) && blocks_of(n, threads).is_some();
        let fraction = if dense_split {
            crate::sgemm::SPARSE_MAX_NONZERO_THREADS
        } else {
            crate::sgemm::SPARSE_MAX_NONZERO
        };
        let max_nonzero = (fraction * a.len() as f64) as usize;
        crate::sgemm::available() && crate::sgemm::matmul_one_row_sparse(c, a, wt, max_nonzero)
    }
    fn matmul(
        kernel: GemmKernel,
        dst: MatMut<'_, f32>,
        accumulate: bool,
        lhs: FaerRef<'_, f32>,
        rhs: FaerRef<'_, f32>,
        alpha: f32,
    ) {
        match kernel {
            GemmKernel::Avx512 => crate::sgemm::matmul(dst, accumulate, lhs, rhs, alpha),
            GemmKernel::Avx512OneRow => {
                crate::sgemm::matmul_one_row(dst, accumulate, lhs, rhs, alpha)
            }
            GemmKernel::Faer => faer_matmul(dst, accumulate, lhs, rhs, alpha),
        }
    }
}

impl Kernels for f64 {
    fn matmul(
        _kernel: GemmKernel,
        dst: MatMut<'_, f64>,
        accumulate: bool,
        lhs: FaerRef<'_, f64>,
        rhs: FaerRef<'_, f64>,
        alpha: f64,
    ) {
        faer_matmul(dst, accumulate, lhs, rhs, alpha);
    }
}

/// faer's product on one thread, for both scalar types.
fn faer_matmul<T: faer::traits::ComplexField>(
    dst: MatMut<'_, T>,
    accumulate: bool,
    lhs: FaerRef<'_, T>,
    rhs: FaerRef<'_, T>,
    alpha: T,
) {
    let accum = if accumulate {
        Accum::Add
    } else {
        Accum::Replace
    };
    faer::linalg::matmul::matmul(dst, accum, lhs, rhs, alpha, Par::Seq);
}
