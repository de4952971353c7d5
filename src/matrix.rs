//! Dense row-major matrices, the element type [`Scalar`] (f32 or f64), and the one GEMM
//! contract every product in nabla goes through: `C ← α A B` or `C ← α A B + C`.
//!
//! The products run on [faer](https://docs.rs/faer)'s kernels, chosen by measurement at
//! nabla's shapes (batch 1 to 256, layers 10 to 1024 wide): faer had the best geometric mean
//! over the 72 MLP products at one thread, was strongest at the small batches mini-batch SGD
//! uses, and stays fast in debug builds because its x86 kernels are generated assembly.
//! Transposes are strided views: [`Matrix::t`] never copies.

use std::fmt::{Debug, Display};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use faer::{Accum, MatMut, MatRef as FaerRef, Par};

use crate::workers::{Jobs, Workers};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// The element type: `f32` (fast, the default) or `f64` (for exact checks).
///
/// Sealed: one code path serves both, and the GEMM backend is named here.
pub trait Scalar:
    num_traits::Float
    + num_traits::FromPrimitive
    + num_traits::ToPrimitive
    + std::iter::Sum
    + Debug
    + Display
    + Default
    + Send
    + Sync
    + 'static
    + sealed::Sealed
{
    /// The name used in model files and on the command line ("f32" or "f64").
    const NAME: &'static str;

    /// The kernel for an m × k by k × n product. Chosen once per [`gemm`] call, for the
    /// whole product, so that the blocks threads compute all use the same kernel.
    #[doc(hidden)]
    fn kernel_for(_m: usize, _n: usize, _k: usize) -> GemmKernel {
        GemmKernel::Faer
    }

    /// `dst ← alpha · lhs · rhs` (replace) or `dst ← dst + alpha · lhs · rhs` (add), single-threaded.
    #[doc(hidden)]
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
    #[doc(hidden)]
    fn one_row_sparse(_c: &mut [Self], _a: &[Self], _wt: &[Self]) -> bool {
        false
    }

    /// `e^x` for the activations. f64: the standard library's `exp`, exact to the last bit
    /// for the gradient checks. f32: a branch-free polynomial (see [`exp_f32`]) that the
    /// compiler vectorises, within 3·ε relative error of `f32::exp` (tested).
    fn exp_fast(self) -> Self;

    /// Converts an `f64` constant (exactly representable, or rounded for f32).
    fn c(value: f64) -> Self {
        Self::from_f64(value).expect("every f64 converts to f32 and f64")
    }

    /// Converts a count (a batch size, a number of examples) to the scalar type.
    fn from_count(n: usize) -> Self {
        Self::from_usize(n).expect("a count converts to f32 and f64")
    }
}

/// Which kernel runs a product (an implementation detail of [`gemm`]).
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
/// set, W2's (2·10⁶ to 1.3·10⁷) 1.05×. Below 2²¹ (W1's products, the 10-wide output layers) faer's small-matrix
/// kernels are the better choice.
pub const AVX512_MIN_MNK: usize = 1 << 21;

/// f32 products of one row (batch 1) with `N·K` at least this run on nabla's AVX-512
/// matrix-vector loops where the CPU has them; below it, the product takes well under a
/// microsecond either way.
pub const GEMV_MIN_NK: usize = 1 << 10;

impl Scalar for f32 {
    const NAME: &'static str = "f32";
    #[inline(always)]
    fn exp_fast(self) -> f32 {
        exp_f32(self)
    }
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
        let dense_split =
            threads() > 1 && large_enough_to_split(1, n, k) && blocks_of(n, threads()).is_some();
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

impl Scalar for f64 {
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn exp_fast(self) -> f64 {
        self.exp()
    }
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

/// `e^x` in f32 without a libm call, so that loops over activations vectorise.
///
/// Cody–Waite reduction `x = n ln2 + r` with |r| ≤ ln2/2, then the degree-6 Taylor
/// polynomial of `e^r` (truncation below 1.2e-7 relative) and `2^n` built from its bits.
/// x is clamped to [−87, 88] so `2^n` stays a normal float: results below e^−87 come out
/// as e^−87 ≈ 1.6e-38 instead of a subnormal (subnormals cost a microcode assist per call).
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 · 2^23: adding and subtracting it rounds to the nearest integer (SSE2-friendly).
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * LOG2E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // 2^n: `shifted` = 1.5·2^23 + n holds n in its low bits (its bits are 0x4B40_0000 + n),
    // so the exponent field n + 127 comes from a bit cast, which vectorises; `n as i32`
    // would not (a saturating conversion, done one lane at a time).
    let scale = f32::from_bits(shifted.to_bits().wrapping_sub(0x4B40_0000 - 127) << 23);
    p * scale
}

/// Runs `f` compiled for the widest vector instructions of this CPU (AVX-512 or AVX2+FMA on
/// x86-64, detected once at run time by pulp, faer's SIMD layer), so that the plain
/// element-wise loops written inside `f` vectorise to 256 or 512 bits instead of the
/// 128-bit SSE2 of a portable build. The loops stay ordinary Rust: lanes hold independent
/// elements, sums keep their order and nothing is fused into a multiply-add, so the results
/// are bit for bit those of the scalar loop.
#[inline(always)]
pub(crate) fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

/// A dense row-major matrix: entry (i, j) is `data[i * cols + j]`.
///
/// Batches hold one example per row, so `a^[l]` for m examples is an m × n_l matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix<T = f32> {
    rows: usize,
    cols: usize,
    data: Aligned<T>,
}

/// Storage whose first entry sits on a 64-byte boundary, so that the 64-byte vector loads
/// of the kernels (`sgemm.rs`) touch one cache line each, not two. The allocator only
/// promises 16 bytes, and which it gives decided whether batch 1 took 9.5 or 14.7 µs
/// (BENCHMARKS.md, "Threads"). A `Vec` with 64 bytes to spare, used from the first aligned
/// entry on; alignment changes speed only, never results.
struct Aligned<T> {
    buffer: Vec<T>,
    start: usize,
    len: usize,
}

impl<T> Aligned<T> {
    fn as_slice(&self) -> &[T] {
        &self.buffer[self.start..self.start + self.len]
    }

    fn as_mut_slice(&mut self) -> &mut [T] {
        &mut self.buffer[self.start..self.start + self.len]
    }
}

impl<T: Clone> Aligned<T> {
    const SIZE: usize = if std::mem::size_of::<T>() == 0 {
        1
    } else {
        std::mem::size_of::<T>()
    };
    const SPARE: usize = 64 / Self::SIZE;

    fn filled(len: usize, value: T) -> Self {
        let buffer = vec![value; len + Self::SPARE];
        let misaligned = buffer.as_ptr() as usize % 64;
        // The allocator aligns f32 and f64 to at least 16 bytes: the gap is whole entries.
        let start = ((64 - misaligned) % 64 / Self::SIZE).min(Self::SPARE);
        Aligned { buffer, start, len }
    }

    fn from_slice(values: &[T]) -> Self {
        let Some(first) = values.first() else {
            return Aligned {
                buffer: Vec::new(),
                start: 0,
                len: 0,
            };
        };
        let mut aligned = Self::filled(values.len(), first.clone());
        aligned.as_mut_slice().clone_from_slice(values);
        aligned
    }

    /// Like `Vec::resize`: new entries are `value`. Reuses the buffer when it is large
    /// enough (no allocation).
    fn resize(&mut self, len: usize, value: T) {
        if self.start + len <= self.buffer.len() {
            if len > self.len {
                self.buffer[self.start + self.len..self.start + len].fill(value);
            }
            self.len = len;
        } else {
            let mut grown = Self::filled(len, value);
            grown.as_mut_slice()[..self.len].clone_from_slice(self.as_slice());
            *self = grown;
        }
    }
}

impl<T: Clone> Clone for Aligned<T> {
    fn clone(&self) -> Self {
        Self::from_slice(self.as_slice())
    }
}

impl<T: PartialEq> PartialEq for Aligned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: Debug> Debug for Aligned<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_slice().fmt(f)
    }
}

/// A read-only view of a [`Matrix`], possibly transposed (a transpose is a view, not a copy).
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    data: &'a [T],
    /// Rows of the view (after any transpose).
    rows: usize,
    /// Columns of the view (after any transpose).
    cols: usize,
    transposed: bool,
}

impl<'a, T: Scalar> MatRef<'a, T> {
    /// Rows of the view.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Columns of the view.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// The transpose of this view.
    pub fn t(self) -> MatRef<'a, T> {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            transposed: !self.transposed,
        }
    }
    fn faer(self) -> FaerRef<'a, T> {
        if self.transposed {
            FaerRef::from_row_major_slice(self.data, self.cols, self.rows).transpose()
        } else {
            FaerRef::from_row_major_slice(self.data, self.rows, self.cols)
        }
    }
}

impl<'a, T: Scalar> MatRef<'a, T> {
    /// A `rows × cols` view of row-major entries (`data.len() == rows * cols`).
    pub(crate) fn from_row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        debug_assert_eq!(data.len(), rows * cols);
        MatRef {
            data,
            rows,
            cols,
            transposed: false,
        }
    }
}

impl<'a, T: Scalar> From<&'a Matrix<T>> for MatRef<'a, T> {
    fn from(m: &'a Matrix<T>) -> Self {
        m.view()
    }
}

impl<T: Scalar> Matrix<T> {
    /// An all-zero `rows × cols` matrix.
    ///
    /// # Panics
    /// If `rows × cols` overflows `usize` (as `Vec::with_capacity` panics on a capacity
    /// overflow).
    pub fn zeros(rows: usize, cols: usize) -> Self {
        let len = rows
            .checked_mul(cols)
            .unwrap_or_else(|| panic!("Matrix::zeros: {rows} × {cols} entries overflow usize"));
        Matrix {
            rows,
            cols,
            data: Aligned::filled(len, T::zero()),
        }
    }

    /// A matrix from row-major data.
    ///
    /// # Errors
    /// [`crate::Error::Shape`] when `data.len() != rows * cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<T>) -> crate::Result<Self> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(crate::Error::shape(
                "matrix data",
                format!("{rows} × {cols} values"),
                format!("{} values", data.len()),
            ));
        }
        Ok(Matrix {
            rows,
            cols,
            data: Aligned::from_slice(&data),
        })
    }

    /// A matrix from rows of equal length.
    ///
    /// # Errors
    /// [`crate::Error::Shape`] when the rows are ragged.
    pub fn from_rows(rows: &[Vec<T>]) -> crate::Result<Self> {
        let cols = rows.first().map_or(0, Vec::len);
        let mut data = Vec::with_capacity(rows.len() * cols);
        for (i, row) in rows.iter().enumerate() {
            if row.len() != cols {
                return Err(crate::Error::shape(
                    format!("row {i}"),
                    format!("{cols} columns"),
                    format!("{} columns", row.len()),
                ));
            }
            data.extend_from_slice(row);
        }
        Ok(Matrix {
            rows: rows.len(),
            cols,
            data: Aligned::from_slice(&data),
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }
    /// The row-major data.
    pub fn as_slice(&self) -> &[T] {
        self.data.as_slice()
    }
    /// The row-major data, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.data.as_mut_slice()
    }
    /// Consumes the matrix and returns its row-major data.
    pub fn into_vec(self) -> Vec<T> {
        self.data.as_slice().to_vec()
    }
    /// Row `i`.
    #[track_caller]
    pub fn row(&self, i: usize) -> &[T] {
        &self.as_slice()[i * self.cols..(i + 1) * self.cols]
    }
    /// Row `i`, mutable.
    #[track_caller]
    pub fn row_mut(&mut self, i: usize) -> &mut [T] {
        let cols = self.cols;
        &mut self.as_mut_slice()[i * cols..(i + 1) * cols]
    }
    /// The whole matrix as a view.
    pub fn view(&self) -> MatRef<'_, T> {
        MatRef {
            data: self.as_slice(),
            rows: self.rows,
            cols: self.cols,
            transposed: false,
        }
    }
    /// The transpose, as a view (no copy).
    pub fn t(&self) -> MatRef<'_, T> {
        self.view().t()
    }

    /// Changes the number of rows, keeping the columns. Reuses the allocation when it is
    /// large enough, so a buffer sized for the largest batch serves every smaller one.
    pub fn set_rows(&mut self, rows: usize) {
        self.rows = rows;
        self.data.resize(rows * self.cols, T::zero());
    }

    /// Converts every element to another scalar type.
    pub fn cast<U: Scalar>(&self) -> Matrix<U> {
        Matrix {
            rows: self.rows,
            cols: self.cols,
            data: Aligned::from_slice(
                &self
                    .as_slice()
                    .iter()
                    .map(|&v| U::from(v).expect("f32 and f64 convert"))
                    .collect::<Vec<U>>(),
            ),
        }
    }

    /// The first non-finite entry as `(row, column, value)`, if any.
    pub fn find_non_finite(&self) -> Option<(usize, usize, T)> {
        let cols = self.cols.max(1);
        let data = self.as_slice();
        first_non_finite(data).map(|i| (i / cols, i % cols, data[i]))
    }
}

/// The index of the first NaN or infinite entry of `data`.
pub(crate) fn first_non_finite<T: Scalar>(data: &[T]) -> Option<usize> {
    // Blocks checked without an early exit vectorise; only a bad block is searched.
    const BLOCK: usize = 256;
    let bad_block = vectorized(
        #[inline(always)]
        || {
            data.chunks(BLOCK).position(|block| {
                !block
                    .iter()
                    .fold(true, |finite, v| finite & (v.abs() <= T::max_value()))
            })
        },
    )?;
    let start = bad_block * BLOCK;
    data[start..]
        .iter()
        .position(|v| !v.is_finite())
        .map(|i| start + i)
}

impl<T: Scalar> std::ops::Index<(usize, usize)> for Matrix<T> {
    type Output = T;
    #[track_caller]
    fn index(&self, (i, j): (usize, usize)) -> &T {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of a {}×{} matrix",
            self.rows,
            self.cols
        );
        &self.as_slice()[i * self.cols + j]
    }
}

impl<T: Scalar> std::ops::IndexMut<(usize, usize)> for Matrix<T> {
    #[track_caller]
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut T {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) out of a {}×{} matrix",
            self.rows,
            self.cols
        );
        let cols = self.cols;
        &mut self.as_mut_slice()[i * cols + j]
    }
}

/// Whether [`gemm`] overwrites C or adds to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accumulate {
    /// `C ← α A B`
    Replace,
    /// `C ← C + α A B`
    Add,
}

/// `C ← α A B` or `C ← C + α A B`, in place. A and B may be transposed views (`w.t()`).
///
/// # Panics
/// If A is m × k and B is not k × n, or C is not m × n (a bug in the caller: public entry
/// points check shapes and return errors before any product runs).
#[track_caller]
pub fn gemm<'a, 'b, T: Scalar>(
    c: &mut Matrix<T>,
    accumulate: Accumulate,
    a: impl Into<MatRef<'a, T>>,
    b: impl Into<MatRef<'b, T>>,
    alpha: T,
) {
    gemm_cut(c, accumulate, a.into(), b.into(), alpha, Cut::LongerSide);
}

/// [`gemm`], with C cut over the threads by rows whatever its shape. For `∂C/∂W^[l]`
/// (BP4): its rows are the neurons j of layer l, as FF's blocks of `Z^[l]`'s columns are,
/// and [`for_row_blocks`] gives the optimizer the same rows, so each thread updates the
/// rows of `W^[l]` it computed the gradient of (in its own core's cache) and that it
/// multiplies with in the next FF.
#[track_caller]
pub(crate) fn gemm_cut_by_rows<'a, 'b, T: Scalar>(
    c: &mut Matrix<T>,
    accumulate: Accumulate,
    a: impl Into<MatRef<'a, T>>,
    b: impl Into<MatRef<'b, T>>,
    alpha: T,
) {
    gemm_cut(c, accumulate, a.into(), b.into(), alpha, Cut::Rows);
}

/// `C ← α A B` on the calling thread with a given kernel, C being `c` (row-major, A's rows
/// × B's columns): a block of rows of a larger product, computed as that product computes
/// them when `kernel` is [`Scalar::kernel_for`] of the larger product's shape.
#[track_caller]
pub(crate) fn gemm_block<T: Scalar>(
    kernel: GemmKernel,
    c: &mut [T],
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    alpha: T,
) {
    let shape = (c.len() / b.cols.max(1), b.cols);
    product(c, shape, false, a, b, alpha, Run::Block(kernel));
}

/// Which side of C [`gemm_split`] cuts into blocks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cut {
    LongerSide,
    Rows,
}

#[track_caller]
fn gemm_cut<T: Scalar>(
    c: &mut Matrix<T>,
    accumulate: Accumulate,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    alpha: T,
    cut: Cut,
) {
    let shape = c.shape();
    let add = accumulate == Accumulate::Add;
    product(c.as_mut_slice(), shape, add, a, b, alpha, Run::Whole(cut));
}

/// How [`product`] runs: a whole product (its kernel chosen by its shape, cut over the
/// threads when large), or a block of a larger one with that product's kernel, on the
/// calling thread.
#[derive(Clone, Copy)]
enum Run {
    Whole(Cut),
    Block(GemmKernel),
}

/// `C ← α A B` (or `C + α A B` with `add`) for C's entries `c`, `rows × cols` row-major:
/// the shape checks and the empty and k = 0 cases shared by [`gemm`] and [`gemm_block`].
#[track_caller]
fn product<T: Scalar>(
    c: &mut [T],
    (rows, cols): (usize, usize),
    add: bool,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    alpha: T,
    run: Run,
) {
    if a.cols != b.rows || (rows, cols) != (a.rows, b.cols) || c.len() != rows * cols {
        shape_error((a.rows, a.cols), (b.rows, b.cols), (rows, cols));
    }
    if rows == 0 || cols == 0 {
        return;
    }
    if a.cols == 0 {
        if !add {
            c.fill(T::zero());
        }
        return;
    }
    let dst = MatMut::from_row_major_slice_mut(c, rows, cols);
    match run {
        Run::Block(kernel) => T::matmul(kernel, dst, add, a.faer(), b.faer(), alpha),
        Run::Whole(cut) => {
            let kernel = T::kernel_for(rows, cols, a.cols);
            if threads() > 1 && large_enough_to_split(rows, cols, a.cols) {
                gemm_split(kernel, dst, add, a.faer(), b.faer(), alpha, cut);
            } else {
                T::matmul(kernel, dst, add, a.faer(), b.faer(), alpha);
            }
        }
    }
}

/// The number of threads [`gemm`] may use (1 by default). See [`set_threads`].
static THREADS: AtomicUsize = AtomicUsize::new(1);

/// Products with `M·N·K` below this run on one thread whatever [`threads`] says. Measured
/// on the 2-core machine (BENCHMARKS.md, "Threads"): with workers that spin between jobs
/// (`workers.rs`), W2's products (64·784·256 ≈ 1.3·10⁷ and 64·256·128 = 2²¹) gain from a
/// second thread once each thread keeps its own rows of W (BP4 and the optimizer cut by
/// rows): W2 at 2 threads 0.063 s per epoch (median of 5, alternately) against 0.071 s
/// with the cut-off at 2²². With rayon's sleeping workers the cut-off was 2²⁴.
pub const PARALLEL_MIN_MNK: usize = 1 << 21;

/// One-row products (batch 1) with `N·K` at least this are split over the threads too:
/// their cost is reading the weights, and each thread then reads its own share, which
/// stays in its own core's cache from one call to the next. At 2¹⁵ W2's second layer
/// (128·256) is split as well as its first: 1.4 against 2.3 µs for that product at 2
/// threads, 7-9 against 10 µs for the whole batch-1 pass (same phase of the host).
pub const PARALLEL_MIN_NK_ONE_ROW: usize = 1 << 15;

/// Whether a whole `rows × k` by `k × cols` product is large enough for [`gemm`] to cut
/// it over the threads (when there are several).
fn large_enough_to_split(rows: usize, cols: usize, k: usize) -> bool {
    rows * cols * k >= PARALLEL_MIN_MNK || (rows == 1 && cols * k >= PARALLEL_MIN_NK_ONE_ROW)
}

/// Lets [`gemm`] split products of at least [`PARALLEL_MIN_MNK`] multiply-adds over `n`
/// threads (0 or 1: one thread, the default; at most [`MAX_THREADS`]). Process-wide, like a BLAS thread count.
///
/// The split is fixed (the output's longer side cut into at most `n` blocks of at least 16
/// rows or columns, each computed exactly as the whole product would compute it, by the
/// kernel chosen for the whole product) and nothing is reduced across
/// threads, so every entry of C gets the same bits at any thread count: threads change
/// speed, never results (tested).
pub fn set_threads(n: usize) {
    THREADS.store(n.clamp(1, MAX_THREADS), Ordering::Relaxed);
}

/// The most threads [`set_threads`] takes (larger counts are capped): far more than the
/// products of these networks can use, and few enough to start.
pub const MAX_THREADS: usize = 256;

/// The thread count set by [`set_threads`].
pub fn threads() -> usize {
    THREADS.load(Ordering::Relaxed)
}

/// `dst ← (dst +) α lhs rhs` with dst cut into up to [`threads`] blocks along its longer
/// side (or by rows, for [`gemm_cut_by_rows`]), one per thread of a persistent pool (the calling thread takes the last block). Each
/// block is an ordinary product of a slice of lhs (or rhs) with the other factor whole, so
/// the sum over k for every entry runs in the same order as without the split.
fn gemm_split<T: Scalar>(
    kernel: GemmKernel,
    dst: MatMut<'_, T>,
    add: bool,
    lhs: FaerRef<'_, T>,
    rhs: FaerRef<'_, T>,
    alpha: T,
    cut: Cut,
) {
    let threads = threads();
    // Rows when asked and there are enough of them for two blocks (a gradient of a layer of
    // fewer than 32 neurons is cut by columns, as any product by its longer side).
    let rows_cut = cut == Cut::Rows && blocks_of(dst.nrows(), threads).is_some();
    let by_rows = rows_cut || dst.nrows() >= dst.ncols();
    let len = if by_rows { dst.nrows() } else { dst.ncols() };
    let Some((blocks, step)) = blocks_of(len, threads) else {
        return T::matmul(kernel, dst, add, lhs, rhs, alpha);
    };
    let Some(workers) = worker_pool(threads) else {
        return T::matmul(kernel, dst, add, lhs, rhs, alpha);
    };
    let (mut dst, mut lhs, mut rhs) = (dst, lhs, rhs);
    let mut parts = Jobs::new();
    for _ in 1..blocks {
        let part;
        if by_rows {
            let (head, tail) = dst.split_at_row_mut(step);
            let (lhs_head, lhs_tail) = lhs.split_at_row(step);
            part = (head, lhs_head, rhs);
            (dst, lhs) = (tail, lhs_tail);
        } else {
            let (head, tail) = dst.split_at_col_mut(step);
            let (rhs_head, rhs_tail) = rhs.split_at_col(step);
            part = (head, lhs, rhs_head);
            (dst, rhs) = (tail, rhs_tail);
        }
        parts.push(move || T::matmul(kernel, part.0, add, part.1, part.2, alpha));
    }
    workers.run(parts, || T::matmul(kernel, dst, add, lhs, rhs, alpha));
}

/// How `len` rows (or columns) are cut over `threads`: `(blocks, step)`, the first
/// `blocks - 1` blocks `step` long and the last one taking the rest; `None` for one block.
/// Blocks are whole multiples of 16 rows/columns (a register tile): never a block narrower
/// than 16, whose product a kernel might sum in another order (faer's matrix-vector path
/// for one row, say).
fn blocks_of(len: usize, threads: usize) -> Option<(usize, usize)> {
    let blocks = threads.min(len / 16);
    (blocks > 1).then(|| (blocks, (len / blocks) / 16 * 16))
}

/// Tensors of at least this many entries are updated by the optimizers on all the
/// threads ([`for_row_blocks`]): W2's `W^[1]` and `W^[2]` (32 768), whose BP4 products
/// (at least 2²¹ multiply-adds) are cut by rows too, and W3's hidden layers.
pub(crate) const PARALLEL_MIN_ENTRIES: usize = 1 << 15;

/// Row-major tensors (or tuples, arrays and vectors of them) that hold the same number of
/// rows and can be cut between two rows.
pub(crate) trait SplitRows: Sized + Send {
    /// `(rows 0..at, rows at..)` of a value that holds `rows` rows.
    fn split_rows(self, at: usize, rows: usize) -> (Self, Self);
}

impl<T: Send> SplitRows for &mut [T] {
    fn split_rows(self, at: usize, rows: usize) -> (Self, Self) {
        let width = self.len() / rows.max(1);
        self.split_at_mut(at * width)
    }
}

impl<T: Sync> SplitRows for &[T] {
    fn split_rows(self, at: usize, rows: usize) -> (Self, Self) {
        let width = self.len() / rows.max(1);
        self.split_at(at * width)
    }
}

impl<A: SplitRows, B: SplitRows> SplitRows for (A, B) {
    fn split_rows(self, at: usize, rows: usize) -> (Self, Self) {
        let ((a_head, a_tail), (b_head, b_tail)) =
            (self.0.split_rows(at, rows), self.1.split_rows(at, rows));
        ((a_head, b_head), (a_tail, b_tail))
    }
}

impl<A: SplitRows + Default, const N: usize> SplitRows for [A; N] {
    fn split_rows(self, at: usize, rows: usize) -> (Self, Self) {
        let mut cut = self.map(|part| part.split_rows(at, rows));
        let heads = cut.each_mut().map(|(head, _)| std::mem::take(head));
        (heads, cut.map(|(_, tail)| tail))
    }
}

/// The indices of rows: `first..end` splits into `first..first + at` and the rest.
impl SplitRows for std::ops::Range<usize> {
    fn split_rows(self, at: usize, _rows: usize) -> (Self, Self) {
        (self.start..self.start + at, self.start + at..self.end)
    }
}

impl<A: SplitRows> SplitRows for Vec<A> {
    fn split_rows(self, at: usize, rows: usize) -> (Self, Self) {
        self.into_iter()
            .map(|part| part.split_rows(at, rows))
            .unzip()
    }
}

/// Runs `f(block, rows_in_block)` on blocks of the rows of `parts` (each of which holds
/// `rows` rows), one block per thread, cut as [`gemm_cut_by_rows`] cuts the rows of C (so
/// that, for the optimizers, each thread works on the rows of W it computed the gradient
/// of). With `split` false, one thread, or too few rows, runs `f(parts, rows)` once.
/// Nothing is summed across rows here, so the results are the same at any thread count.
pub(crate) fn for_row_blocks<P: SplitRows>(
    split: bool,
    rows: usize,
    parts: P,
    f: impl Fn(P, usize) + Sync,
) {
    let threads = threads();
    let blocks = (split && threads > 1)
        .then(|| blocks_of(rows, threads))
        .flatten();
    let Some(((blocks, step), workers)) = blocks.and_then(|b| Some((b, worker_pool(threads)?)))
    else {
        return f(parts, rows);
    };
    let f = &f;
    let (mut parts, mut left) = (parts, rows);
    let mut jobs = Jobs::new();
    for _ in 1..blocks {
        let (head, tail) = parts.split_rows(step, left);
        jobs.push(move || f(head, step));
        (parts, left) = (tail, left - step);
    }
    workers.run(jobs, || f(parts, left));
}

/// The `threads - 1` workers that [`gemm_split`] hands blocks to, started on first use and
/// kept (see `workers.rs` for why they spin). `None` if the threads cannot be started; the
/// product then runs on the calling thread.
fn worker_pool(threads: usize) -> Option<Arc<Workers>> {
    static POOL: Mutex<Option<Arc<Workers>>> = Mutex::new(None);
    let mut pool = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(workers) = pool.as_ref() {
        if workers.count() == threads - 1 {
            return Some(Arc::clone(workers));
        }
    }
    let started = Arc::new(Workers::start(threads - 1)?);
    *pool = Some(Arc::clone(&started));
    Some(started)
}

#[cold]
#[inline(never)]
#[track_caller]
fn shape_error(a: (usize, usize), b: (usize, usize), c: (usize, usize)) -> ! {
    panic!(
        "gemm: {}×{} times {}×{} cannot go into {}×{}",
        a.0, a.1, b.0, b.1, c.0, c.1
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(a: &Matrix<f64>, at: bool, b: &Matrix<f64>, bt: bool) -> Matrix<f64> {
        let get =
            |m: &Matrix<f64>, t: bool, i: usize, j: usize| if t { m[(j, i)] } else { m[(i, j)] };
        let (m, k) = if at {
            (a.cols, a.rows)
        } else {
            (a.rows, a.cols)
        };
        let n = if bt { b.rows } else { b.cols };
        let mut c = Matrix::zeros(m, n);
        for i in 0..m {
            for j in 0..n {
                c[(i, j)] = (0..k).map(|p| get(a, at, i, p) * get(b, bt, p, j)).sum();
            }
        }
        c
    }

    proptest! {
        #[test]
        fn gemm_agrees_with_the_triple_loop_for_every_transpose(
            m in 1usize..9, k in 1usize..9, n in 1usize..9, at: bool, bt: bool, seed: u64, add: bool
        ) {
            let fill = |r: usize, c: usize, s: u64| {
                let data = (0..r * c).map(|i| ((i as u64 * 2654435761 + s) % 1000) as f64 / 500.0 - 1.0).collect();
                Matrix::from_vec(r, c, data).unwrap()
            };
            let a = if at { fill(k, m, seed) } else { fill(m, k, seed) };
            let b = if bt { fill(n, k, seed ^ 7) } else { fill(k, n, seed ^ 7) };
            let av = if at { a.t() } else { a.view() };
            let bv = if bt { b.t() } else { b.view() };
            let mut c = fill(m, n, 3);
            let before = c.clone();
            let acc = if add { Accumulate::Add } else { Accumulate::Replace };
            gemm(&mut c, acc, av, bv, 0.5);
            let expect = naive(&a, at, &b, bt);
            for i in 0..m { for j in 0..n {
                let want = 0.5 * expect[(i, j)] + if add { before[(i, j)] } else { 0.0 };
                prop_assert!((c[(i, j)] - want).abs() < 1e-12);
            }}
        }
    }

    #[test]
    fn exp_f32_is_within_three_epsilon_of_the_standard_library() {
        let mut worst: f32 = 0.0;
        let mut x = -87.0f32;
        while x < 88.0 {
            let (got, want) = (exp_f32(x), x.exp());
            worst = worst.max(((got - want) / want).abs() / f32::EPSILON);
            x += 0.001_37;
        }
        assert!(worst <= 3.0, "worst relative error {worst} epsilon");
    }

    fn threads_change_no_bits<T: Scalar>() {
        let fill = |r: usize, c: usize, s: usize| {
            let data = (0..r * c)
                .map(|i| T::c(((i * 2_654_435_761 + s) % 1000) as f64 / 500.0 - 1.0))
                .collect();
            Matrix::from_vec(r, c, data).unwrap()
        };
        // (m, k, n) above PARALLEL_MIN_MNK: split by rows (m ≥ n), by columns (n > m),
        // with a ragged last block, and in the three layouts of FF, BP4 and BP2.
        // (17, 65536, 16) and (33, 16384, 32): cut by rows with a ragged last block, which
        // must be summed like the others (no one-row block, no one-row loops for it).
        // (1, 65536, 300): one row, cut by columns, every block on the one-row loops.
        for &(m, k, n) in &[
            (1, 65536, 300),
            (256, 784, 1024),
            (20, 1024, 1030),
            (300, 300, 200),
            (17, 65536, 16),
            (33, 16384, 32),
        ] {
            assert!(m * k * n >= PARALLEL_MIN_MNK);
            let a = fill(m, k, 1);
            let w = fill(n, k, 2);
            let e = fill(m, n, 3);
            for add in [false, true] {
                let acc = if add {
                    Accumulate::Add
                } else {
                    Accumulate::Replace
                };
                let run = |threads: usize| {
                    set_threads(threads);
                    let mut z = fill(m, n, 4);
                    gemm(&mut z, acc, &a, w.t(), T::c(0.5));
                    let mut dw = fill(n, k, 5);
                    gemm(&mut dw, acc, e.t(), &a, T::c(0.25));
                    let mut da = fill(m, k, 6);
                    gemm(&mut da, acc, &e, &w, T::one());
                    // BP4's row cut, also where C has too few rows for it (then by columns).
                    let mut dw_rows = fill(n, k, 5);
                    gemm_cut_by_rows(&mut dw_rows, acc, e.t(), &a, T::c(0.25));
                    assert!(dw_rows == dw, "{m}x{k}x{n}: the row cut changed dC/dW");
                    set_threads(1);
                    (z, dw, da)
                };
                let one = run(1);
                for threads in [2, 3] {
                    assert!(run(threads) == one, "{m}x{k}x{n} at {threads} threads");
                }
            }
        }
    }

    #[test]
    fn threads_change_no_bits_f32() {
        threads_change_no_bits::<f32>();
    }

    #[test]
    fn threads_change_no_bits_f64() {
        threads_change_no_bits::<f64>();
    }

    #[test]
    fn find_non_finite_finds_the_first_bad_entry() {
        let mut m = Matrix::<f32>::zeros(700, 3);
        assert_eq!(m.find_non_finite(), None);
        m[(600, 2)] = f32::INFINITY;
        m[(650, 0)] = f32::NAN;
        assert_eq!(m.find_non_finite(), Some((600, 2, f32::INFINITY)));
        m[(0, 1)] = f32::NEG_INFINITY;
        assert_eq!(m.find_non_finite(), Some((0, 1, f32::NEG_INFINITY)));
        m[(0, 1)] = f32::MAX;
        assert_eq!(m.find_non_finite(), Some((600, 2, f32::INFINITY)));
    }

    #[test]
    fn storage_starts_on_a_64_byte_boundary_however_it_is_made() {
        let aligned = |m: &Matrix<f32>| (m.as_slice().as_ptr() as usize).is_multiple_of(64);
        for n in [1, 3, 17, 1000, 200_000] {
            let z = Matrix::<f32>::zeros(1, n);
            assert!(aligned(&z), "zeros 1x{n}");
            let v = Matrix::from_vec(1, n, (0..n).map(|i| i as f32).collect()).unwrap();
            assert!(aligned(&v) && aligned(&v.clone()), "from_vec / clone 1x{n}");
            assert_eq!(v.clone(), v);
            assert_eq!(v.clone().into_vec(), v.as_slice());
            let mut grown = v.clone();
            grown.set_rows(3);
            assert!(aligned(&grown), "grown 3x{n}");
            assert_eq!(grown.row(0), v.as_slice());
            assert!(grown.row(2).iter().all(|&x| x == 0.0));
            let wide = v.cast::<f64>();
            assert!(
                (wide.as_slice().as_ptr() as usize).is_multiple_of(64),
                "cast 1x{n}"
            );
        }
    }

    #[test]
    fn set_rows_reuses_the_allocation() {
        let mut m = Matrix::<f32>::zeros(10, 3);
        let ptr = m.as_slice().as_ptr();
        m.set_rows(4);
        m.set_rows(10);
        assert_eq!(ptr, m.as_slice().as_ptr());
        assert_eq!(m.shape(), (10, 3));
    }
}
