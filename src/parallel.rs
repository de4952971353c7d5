//! The parallel runtime: how many threads the products may use, and how a product (or a
//! loop over the rows of the layers) is cut over them.
//!
//! The thread count is a value of the calling thread, not of the process:
//! [`with_threads`] sets it for the duration of a closure, [`threads`] reads it, and where
//! nothing is set it is [`available`] (all cores). Small products stay on one thread
//! whatever the count ([`PARALLEL_MIN_MNK`], [`PARALLEL_MIN_NK_ONE_ROW`]).
//!
//! The split is fixed (the output's longer side, or its rows, cut into at most `threads`
//! blocks of at least 16 rows or columns, each computed exactly as the whole product would
//! compute it, by the kernel chosen for the whole product) and nothing is reduced across
//! threads, so every entry gets the same bits at any thread count: threads change speed,
//! never results (tested).
//!
//! The blocks run on a persistent pool of spinning workers (`workers.rs`), shared by every
//! caller thread: one caller uses it at a time, and a second caller meanwhile runs its
//! whole product itself (same bits).

mod workers;

use std::cell::Cell;
use std::sync::{Arc, Mutex, OnceLock};

use faer::{MatMut, MatRef as FaerRef};

use crate::kernels::GemmKernel;
use crate::scalar::Scalar;
use workers::{Jobs, Workers};

/// The most threads [`with_threads`] takes (larger counts are capped): far more than the
/// products of these networks can use, and few enough to start.
pub const MAX_THREADS: usize = 256;

thread_local! {
    /// The count set by [`with_threads`] on this thread, if any.
    static THREADS: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The cores this process may run on (`std::thread::available_parallelism`, 1 where it is
/// unknown), at most [`MAX_THREADS`]: the thread count where none is set. Asked once.
pub fn available() -> usize {
    static AVAILABLE: OnceLock<usize> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, MAX_THREADS)
    })
}

/// The threads [`crate::gemm`], batch inference and the optimizers' updates may use on
/// this thread: the count of the innermost [`with_threads`], else [`available`].
pub fn threads() -> usize {
    THREADS.with(Cell::get).unwrap_or_else(available)
}

/// Runs `f` with the thread count `n` (clamped to 1..=[`MAX_THREADS`]) on the calling
/// thread, and restores the count it had before when `f` returns or unwinds. Threads `f`
/// starts do not inherit the count.
///
/// ```
/// use nabla::parallel::{threads, with_threads};
/// let outside = threads();
/// assert_eq!(with_threads(1, threads), 1);
/// assert_eq!(with_threads(3, || with_threads(2, threads)), 2);
/// assert_eq!(threads(), outside);
/// ```
pub fn with_threads<R>(n: usize, f: impl FnOnce() -> R) -> R {
    /// Puts the previous count back, also while unwinding.
    struct Restore(Option<usize>);
    impl Drop for Restore {
        fn drop(&mut self) {
            THREADS.with(|threads| threads.set(self.0));
        }
    }
    let previous = THREADS.with(|threads| threads.replace(Some(n.clamp(1, MAX_THREADS))));
    let _restore = Restore(previous);
    f()
}

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

/// Whether a whole `rows × k` by `k × cols` product is large enough for [`crate::gemm`] to
/// cut it over the threads (when there are several).
pub(crate) fn large_enough_to_split(rows: usize, cols: usize, k: usize) -> bool {
    rows * cols * k >= PARALLEL_MIN_MNK || (rows == 1 && cols * k >= PARALLEL_MIN_NK_ONE_ROW)
}

/// Which side of C [`gemm_split`] cuts into blocks.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// The longer side.
    LongerSide,
    /// The rows, where there are enough for two blocks (BP4's `∂C/∂W^[l]`).
    Rows,
}

/// `dst ← (dst +) α lhs rhs` with dst cut into up to [`threads`] blocks along its longer
/// side (or by rows, for `matrix::gemm_cut_by_rows`), one per thread of a persistent pool
/// (the calling thread takes the last block). Each block is an ordinary product of a slice
/// of lhs (or rhs) with the other factor whole, so the sum over k for every entry runs in
/// the same order as without the split.
pub(crate) fn gemm_split<T: Scalar>(
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
pub(crate) fn blocks_of(len: usize, threads: usize) -> Option<(usize, usize)> {
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
/// The workers that [`gemm_split`] and [`for_row_blocks`] hand blocks to: one pool for
/// the process, started on first use with `threads - 1` workers and kept (see
/// `workers.rs` for why they spin). A caller with a larger count starts a larger pool in
/// its place; a caller with a smaller one uses the first `threads - 1` workers of the
/// pool. A replaced pool lives on until its last caller is done with it (each caller holds
/// an `Arc`). `None` if the threads cannot be started; the product then runs on the
/// calling thread.
fn worker_pool(threads: usize) -> Option<Arc<Workers>> {
    static POOL: Mutex<Option<Arc<Workers>>> = Mutex::new(None);
    let mut pool = POOL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(workers) = pool.as_ref() {
        if workers.count() >= threads - 1 {
            return Some(Arc::clone(workers));
        }
    }
    let started = Arc::new(Workers::start(threads - 1)?);
    let replaced = pool.replace(Arc::clone(&started));
    drop(pool);
    // (Joins the replaced pool's threads, if no caller uses it, outside the lock.)
    drop(replaced);
    Some(started)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::{gemm, gemm_cut_by_rows, Accumulate, Matrix};

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
                    with_threads(threads, || {
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
                        (z, dw, da)
                    })
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
    fn with_threads_sets_the_count_of_this_thread_and_restores_it() {
        let outside = threads();
        assert_eq!(outside, available());
        assert!((1..=MAX_THREADS).contains(&available()));
        with_threads(3, || {
            assert_eq!(threads(), 3);
            // Other threads keep their own count.
            std::thread::scope(|scope| {
                let other = scope.spawn(|| with_threads(2, threads));
                assert_eq!(other.join().unwrap(), 2);
            });
            assert_eq!(threads(), 3);
            assert_eq!(with_threads(0, threads), 1);
            assert_eq!(with_threads(usize::MAX, threads), MAX_THREADS);
            let unwound = std::panic::catch_unwind(|| with_threads(5, || panic!("inside")));
            assert!(unwound.is_err());
            assert_eq!(threads(), 3, "restored after a panic");
        });
        assert_eq!(threads(), outside);
    }

    /// Callers on several threads at once, each with its own count, share the pool (one at
    /// a time, the others computing their products themselves, a larger count replacing
    /// the pool under callers of a smaller one): every product keeps the bits of one thread.
    #[test]
    fn callers_with_different_counts_share_the_pool() {
        let fill = |r: usize, c: usize, s: usize| {
            let data = (0..r * c)
                .map(|i| ((i * 2_654_435_761 + s) % 1000) as f32 / 500.0 - 1.0)
                .collect();
            Matrix::from_vec(r, c, data).unwrap()
        };
        let (a, w) = (fill(64, 784, 1), fill(256, 784, 2));
        let product = || {
            let mut z = Matrix::zeros(64, 256);
            gemm(&mut z, Accumulate::Replace, &a, w.t(), 1.0);
            z
        };
        let want = with_threads(1, product);
        std::thread::scope(|scope| {
            for count in [2, 3, 4, 2, 5, 3] {
                let (product, want) = (&product, &want);
                scope.spawn(move || {
                    with_threads(count, || {
                        for _ in 0..30 {
                            assert!(product() == *want, "{count} threads");
                        }
                    })
                });
            }
        });
    }
}
