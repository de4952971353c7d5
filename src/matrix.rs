//! Dense row-major matrices and the one GEMM contract every product in nabla goes through:
//! `C ← α A B` or `C ← α A B + C` ([`gemm`]), with its shape checks.
//!
//! Transposes are strided views: [`Matrix::t`] never copies. Which kernel runs a product
//! (faer's, or nabla's own AVX-512 loops for the large f32 products and for batch 1) is
//! chosen in [`crate::kernels`]; how a large product is cut over the threads, in
//! [`crate::parallel`]. Neither changes the bits of a result.

use std::fmt::Debug;

use faer::{MatMut, MatRef as FaerRef};

use crate::kernels::GemmKernel;
use crate::parallel::{gemm_split, large_enough_to_split, threads, Cut};
use crate::scalar::vectorized;
pub use crate::scalar::Scalar;

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
/// and `parallel::for_row_blocks` gives the optimizer the same rows, so each thread updates the
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
/// them when `kernel` is [`crate::kernels::Kernels::kernel_for`] of the larger product's shape.
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
