//! nabla's own f32 GEMM for x86-64 CPUs with AVX-512: `C ← α A B` or `C ← C + α A B`,
//! C row-major, A and B any strides (so transposes stay views).
//!
//! Why not faer here: on the products of W3 and W4 (M·N·K from 1.3·10⁸ to 4·10⁸) faer's
//! kernels ran at 78-117 GFLOP/s on the development machine, where MKL (through PyTorch)
//! ran at 130-155 and the core's FMA peak is ~170 (2 × 512-bit FMA per cycle). This module
//! is the classic blocked design of Goto and BLIS, sized for the 48 KiB L1 and 2 MiB L2 of
//! that core:
//!
//! - B is packed in KC × NC blocks into panels NR = 32 columns wide (two 16-lane zmm
//!   registers per k), A in MC × KC blocks into panels MR = 8 rows tall; packing
//!   transposes 16 × 16 blocks in registers when an operand is contiguous along k (the
//!   `Wᵀ` of the forward pass, the activations), so no transpose is ever materialised.
//! - A training batch's forward product `Z = A_prev Wᵀ` (at most 256 rows, W wider) runs
//!   as `Zᵀ = W A_prevᵀ` and is transposed back: W is then read in place instead of being
//!   packed every step (`sgemm_transposed`).
//! - The micro-kernel keeps an 8 × 32 tile of C in 16 zmm accumulators and runs down k:
//!   two loads of B, eight broadcasts of A, 16 FMAs per step. It adds its tile into C
//!   once per KC block, through masked loads and stores at the right and bottom edges.
//!
//! Bits: every entry of C is the same sum in the same order (k in KC blocks from 0, each
//! block summed from its first k) whatever the shape of the block of C being computed, so
//! cutting C into blocks for threads changes no bit.
//!
//! Only f32 and only AVX-512: f64 (gradient checks) and other CPUs use faer, and products
//! below [`crate::kernels`]'s cut-off stay on faer, which is faster there.

use std::cell::RefCell;

use faer::{MatMut, MatRef};

/// Whether this CPU can run [`matmul`] (AVX-512 F, detected at run time; and POPCNT and
/// BMI1, which the sparse batch-1 kernel uses and every AVX-512 CPU has, though a virtual
/// machine could hide them).
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("popcnt")
            && std::arch::is_x86_feature_detected!("bmi1")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `dst ← α lhs rhs` (`accumulate` false) or `dst ← dst + α lhs rhs`, on one thread, by
/// the blocked kernel (whatever the shape: a block of one row of a larger product must be
/// summed as the other blocks are).
///
/// # Panics
/// If [`available`] is false, dst's columns are not contiguous, the shapes disagree or k
/// is 0 (callers check all four first).
pub(crate) fn matmul(
    dst: MatMut<'_, f32>,
    accumulate: bool,
    lhs: MatRef<'_, f32>,
    rhs: MatRef<'_, f32>,
    alpha: f32,
) {
    run(dst, accumulate, lhs, rhs, alpha, false);
}

/// As [`matmul`], for a product whose A is one row (batch 1): the matrix-vector loops when
/// the layout suits them (A's row contiguous, B's rows or columns contiguous), else the
/// blocked kernel.
pub(crate) fn matmul_one_row(
    dst: MatMut<'_, f32>,
    accumulate: bool,
    lhs: MatRef<'_, f32>,
    rhs: MatRef<'_, f32>,
    alpha: f32,
) {
    run(dst, accumulate, lhs, rhs, alpha, true);
}

/// The one-row product `c ← a Wᵀ` (`c_j = Σ_p a_p w_jp`, a layer's FF at batch 1) from
/// `wt` = Wᵀ stored row-major (k × n: row p holds the weights out of input p), reading only
/// the rows p whose `a_p` is nonzero (NaN counts as nonzero; +0 and -0 do not), on the
/// calling thread. Returns false, with c untouched, when more than `max_nonzero` of a's
/// entries are nonzero.
///
/// Each `c_j` is the sum [`matmul_one_row`] forms from W, in the same order, less its
/// zero terms: with finite weights, the same bits (see `x86::gemv_sparse`).
///
/// # Panics
/// If [`available`] is false, or the lengths disagree (`wt.len() = a.len() · c.len()`).
pub(crate) fn matmul_one_row_sparse(
    c: &mut [f32],
    a: &[f32],
    wt: &[f32],
    max_nonzero: usize,
) -> bool {
    let (k, n) = (a.len(), c.len());
    assert!(available(), "sgemm needs AVX-512");
    assert_eq!(k.checked_mul(n), Some(wt.len()), "sparse product shapes");
    if n == 0 {
        return true;
    }
    #[cfg(target_arch = "x86_64")]
    return BUFFERS.with_borrow_mut(|buffers| {
        let bits = x86::Buffers::bits(buffers, 16 * k.div_ceil(1024));
        // SAFETY: AVX-512 F is present (asserted); a holds k floats, wt k × n and c n
        // (asserted); bits has room for 16 · ⌈k/1024⌉ words.
        unsafe {
            if x86::find_nonzero(a.as_ptr(), k, bits) > max_nonzero {
                return false;
            }
            x86::gemv_sparse(n, k, 1.0, a.as_ptr(), wt.as_ptr(), c.as_mut_ptr(), bits);
        }
        true
    });
    #[cfg(not(target_arch = "x86_64"))]
    unreachable!()
}

/// Batch 1 takes the sparse route ([`matmul_one_row_sparse`]) when at most this fraction
/// of the row's entries are nonzero, at one thread. Measured on a 784 × 256 first layer
/// (`cargo run --release --example batch1_sparse`, BENCHMARKS.md "Batch 1"): 6.54 µs at
/// 75% nonzero against 7.28 µs for the dense loops; the two meet near 80%.
pub(crate) const SPARSE_MAX_NONZERO: f64 = 0.75;

/// [`SPARSE_MAX_NONZERO`] where the dense loops would be split over two threads or more
/// (the sparse product never is): 4.32 µs at 51% nonzero against 4.6-4.7 µs dense at 2
/// threads; the two meet near 55%.
pub(crate) const SPARSE_MAX_NONZERO_THREADS: f64 = 0.55;

fn run(
    dst: MatMut<'_, f32>,
    accumulate: bool,
    lhs: MatRef<'_, f32>,
    rhs: MatRef<'_, f32>,
    alpha: f32,
    one_row: bool,
) {
    let (m, n, k) = (dst.nrows(), dst.ncols(), lhs.ncols());
    assert!(available(), "sgemm needs AVX-512");
    // (k = 0 never gets here: `matrix::gemm` fills or keeps C itself.)
    assert!(k > 0, "sgemm needs k ≥ 1");
    assert!(
        lhs.nrows() == m && rhs.nrows() == k && rhs.ncols() == n,
        "sgemm shapes"
    );
    assert!(dst.col_stride() == 1 || n <= 1, "sgemm writes rows of C");
    let c_rs = usize::try_from(dst.row_stride()).expect("sgemm: C's rows go forward");
    if m == 0 || n == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        let a = Strided {
            ptr: lhs.as_ptr(),
            rs: lhs.row_stride(),
            cs: lhs.col_stride(),
        };
        let b = Strided {
            ptr: rhs.as_ptr(),
            rs: rhs.row_stride(),
            cs: rhs.col_stride(),
        };
        let c = dst.as_ptr_mut();
        if one_row && m == 1 && (a.cs == 1 || k == 1) && (b.rs == 1 || b.cs == 1) {
            // SAFETY: as below; a is one row of k contiguous entries.
            return unsafe { x86::gemv(n, k, alpha, a.ptr, b, c, accumulate) };
        }
        BUFFERS.with_borrow_mut(|buffers| {
            // SAFETY: AVX-512 F is present (asserted); the views give valid pointers and
            // strides for m × k, k × n and m × n entries; C is a unique borrow, so it
            // overlaps neither A nor B.
            if x86::transposed_is_cheaper(m, n, a, b, accumulate) {
                unsafe { x86::sgemm_transposed(buffers, m, n, k, alpha, a, b, c, c_rs) }
            } else {
                unsafe { x86::sgemm(buffers, m, n, k, alpha, a, b, c, c_rs, accumulate) }
            }
        });
    }
}

#[cfg(target_arch = "x86_64")]
thread_local! {
    /// Packing buffers, one set per thread, grown once and then reused: the steady state
    /// allocates nothing.
    static BUFFERS: RefCell<x86::Buffers> = RefCell::new(x86::Buffers::default());
}

#[cfg(target_arch = "x86_64")]
use x86::Strided;

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    pub const MR: usize = 8;
    pub const NR: usize = 32;
    /// KC × NR floats of packed B (32 KiB) stay in L1 while the A panels stream past.
    pub const KC: usize = 256;
    /// MC × KC floats of packed A (96 KiB) stay in L2.
    pub const MC: usize = 12 * MR;
    /// A is read in place, not packed, when its rows run along k and C has at most this
    /// many columns: each packed panel of A would serve only a few panels of B, so packing
    /// costs more than it saves (W4's 2000 × 784 batch against 256 columns: 5-7% faster).
    pub const DIRECT_A_MAX_N: usize = 256;
    pub const NC: usize = 1024;

    #[derive(Clone, Copy)]
    #[repr(C, align(64))]
    struct Line([f32; 16]);

    #[derive(Default)]
    pub struct Buffers {
        a: Vec<Line>,
        b: Vec<Line>,
        /// Cᵀ, for [`sgemm_transposed`].
        t: Vec<Line>,
        /// The nonzero entries [`gemv_sparse`] reads, as bit sets.
        bits: Vec<u64>,
    }

    impl Buffers {
        /// Room for `count` words of bit sets.
        pub fn bits(&mut self, count: usize) -> *mut u64 {
            if self.bits.len() < count {
                self.bits.resize(count, 0);
            }
            self.bits.as_mut_ptr()
        }
    }

    /// Whether `C ← α A B` is cheaper as `Cᵀ = Bᵀ Aᵀ`, then transposed into C: the forward
    /// pass `Z = A_prev Wᵀ` of a training batch (m ≤ 256 rows, W wider than that). Directly,
    /// Wᵀ is packed (k·n entries) every step; transposed, W is read in place as the A side
    /// and only A_prevᵀ is packed (k·m) and Cᵀ transposed (n·m): W2's first layer packs 66
    /// thousand entries instead of 200, W3's 460 instead of 800 (and A_prev no longer).
    /// Replace only (C = Cᵀᵀ exactly); every entry is the same sum in the same order either
    /// way, so the bits are those of [`sgemm`] (tested).
    pub fn transposed_is_cheaper(m: usize, n: usize, a: Strided, b: Strided, add: bool) -> bool {
        !add && m <= DIRECT_A_MAX_N && n > m && a.cs == 1 && b.rs == 1 && b.cs != 1
    }

    /// `C ← α A B` as `Cᵀ ← α Bᵀ Aᵀ` into a buffer, then transposed into C (see
    /// [`transposed_is_cheaper`]).
    ///
    /// # Safety
    /// As [`sgemm`].
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f")]
    pub unsafe fn sgemm_transposed(
        buffers: &mut Buffers,
        m: usize,
        n: usize,
        k: usize,
        alpha: f32,
        a: Strided,
        b: Strided,
        c: *mut f32,
        c_rs: usize,
    ) {
        let mut t = std::mem::take(&mut buffers.t);
        let tp = lines(&mut t, n * m);
        let (bt, at) = (
            Strided {
                ptr: b.ptr,
                rs: b.cs,
                cs: b.rs,
            },
            Strided {
                ptr: a.ptr,
                rs: a.cs,
                cs: a.rs,
            },
        );
        sgemm(buffers, n, m, k, alpha, bt, at, tp, m, false);
        transpose_into(tp, n, m, c, c_rs);
        buffers.t = t;
    }

    /// `c[i][j] = t[j][i]` for the n × m matrix t (row stride m) and the m × n matrix c (row
    /// stride `c_rs`), in 16 × 16 blocks transposed in registers.
    #[target_feature(enable = "avx512f")]
    unsafe fn transpose_into(t: *const f32, n: usize, m: usize, c: *mut f32, c_rs: usize) {
        for j in (0..n).step_by(16) {
            let rows = 16.min(n - j);
            for i in (0..m).step_by(16) {
                let count = 16.min(m - i);
                let mut block = load_block(t.add(j * m + i), m as isize, rows, count);
                transpose16(&mut block);
                for (q, v) in block.iter().enumerate().take(count) {
                    _mm512_mask_storeu_ps(c.add((i + q) * c_rs + j), mask(rows), *v);
                }
            }
        }
    }

    fn lines(buffer: &mut Vec<Line>, floats: usize) -> *mut f32 {
        let needed = floats.div_ceil(16);
        if buffer.len() < needed {
            buffer.resize(needed, Line([0.0; 16]));
        }
        buffer.as_mut_ptr() as *mut f32
    }

    /// A strided read-only matrix: entry (i, j) at `ptr[i * rs + j * cs]`.
    #[derive(Clone, Copy)]
    pub struct Strided {
        pub ptr: *const f32,
        pub rs: isize,
        pub cs: isize,
    }

    /// # Safety
    /// `available()` must be true; a (m × k), b (k × n) and c (m × n, row stride `c_rs`,
    /// column stride 1) must be valid for those extents, and c must not overlap a or b.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f")]
    pub unsafe fn sgemm(
        buffers: &mut Buffers,
        m: usize,
        n: usize,
        k: usize,
        alpha: f32,
        a: Strided,
        b: Strided,
        c: *mut f32,
        c_rs: usize,
        accumulate: bool,
    ) {
        let mut jc = 0;
        while jc < n {
            let nc = NC.min(n - jc);
            let nc_panels = nc.div_ceil(NR);
            let mut pc = 0;
            while pc < k {
                let kc = KC.min(k - pc);
                let add = accumulate || pc > 0;
                let bp = lines(&mut buffers.b, nc_panels * NR * kc);
                pack_b(bp, b, pc, kc, jc, nc);
                let mut ic = 0;
                while ic < m {
                    let mc = MC.min(m - ic);
                    let mc_panels = mc.div_ceil(MR);
                    let direct = a.cs == 1 && n <= DIRECT_A_MAX_N;
                    let ap = if direct {
                        std::ptr::null_mut()
                    } else {
                        let ap = lines(&mut buffers.a, mc_panels * MR * kc);
                        pack_a(ap, a, ic, mc, pc, kc);
                        ap
                    };
                    for jr in 0..nc_panels {
                        let cols = NR.min(nc - jr * NR);
                        let (mask_lo, mask_hi) = (mask(cols), mask(cols.saturating_sub(16)));
                        let bpanel = bp.add(jr * NR * kc);
                        for ir in 0..mc_panels {
                            let rows = MR.min(mc - ir * MR);
                            let cptr = c.add((ic + ir * MR) * c_rs + jc + jr * NR);
                            let tile = Tile {
                                c: cptr,
                                c_rs,
                                rows,
                                mask_lo,
                                mask_hi,
                                alpha,
                                add,
                            };
                            if direct {
                                // Rows past the last one repeat it (in bounds, not stored).
                                let first =
                                    a.ptr.offset((ic + ir * MR) as isize * a.rs + pc as isize);
                                let rows_at: [*const f32; MR] = std::array::from_fn(|r| {
                                    first.offset(r.min(rows - 1) as isize * a.rs)
                                });
                                kernel::<true>(kc, std::ptr::null(), &rows_at, bpanel, tile);
                            } else {
                                let packed = ap.add(ir * MR * kc);
                                kernel::<false>(kc, packed, &[packed; MR], bpanel, tile);
                            }
                        }
                    }
                    ic += mc;
                }
                pc += kc;
            }
            jc += nc;
        }
    }

    /// `c ← α a B (+ c)` for one row a (k contiguous entries): the batch-1 forward pass
    /// (`B = Wᵀ`, W's rows contiguous: dot products) and BP2 (`B = W`: rows of B scaled and
    /// summed). Packing would cost more than the product here, so B is read in place.
    ///
    /// # Safety
    /// `available()` must be true; a (k floats), b (k × n) and c (n floats) must be valid
    /// for those extents, and c must not overlap a or b.
    #[allow(clippy::too_many_arguments)]
    #[target_feature(enable = "avx512f")]
    pub unsafe fn gemv(
        n: usize,
        k: usize,
        alpha: f32,
        a: *const f32,
        b: Strided,
        c: *mut f32,
        add: bool,
    ) {
        let finish = |j: usize, sum: f32| {
            let old = if add { *c.add(j) } else { 0.0 };
            *c.add(j) = alpha * sum + old;
        };
        if b.rs == 1 {
            // c_j = α Σ_p a_p B[p, j], column j of B contiguous: eight dot products at a
            // time, 16 lanes each, reduced at the end.
            const ROWS: usize = 8;
            let column = |j: usize| b.ptr.offset(j as isize * b.cs);
            let mut j = 0;
            while j < n {
                let rows = ROWS.min(n - j);
                let mut acc = [_mm512_setzero_ps(); ROWS];
                let mut p = 0;
                while p < k {
                    let m = mask(k - p);
                    let x = _mm512_maskz_loadu_ps(m, a.add(p));
                    for (r, acc) in acc.iter_mut().enumerate() {
                        // Rows past n repeat the last one (in bounds) and are not stored.
                        let src = column(j + r.min(rows - 1)).add(p);
                        *acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, src), x, *acc);
                    }
                    p += 16;
                }
                for (r, acc) in acc.iter().enumerate().take(rows) {
                    finish(j + r, reduce_add(*acc));
                }
                j += ROWS;
            }
        } else {
            // c[j..] = α Σ_p a_p B[p, j..], rows of B contiguous: 128 columns at a time in
            // eight accumulators.
            const WIDTH: usize = 128;
            let mut j = 0;
            while j < n {
                let width = WIDTH.min(n - j);
                let masks: [__mmask16; 8] =
                    std::array::from_fn(|v| mask(width.saturating_sub(16 * v)));
                let mut acc = [_mm512_setzero_ps(); 8];
                for p in 0..k {
                    let x = _mm512_set1_ps(*a.add(p));
                    let row = b.ptr.offset(p as isize * b.rs).add(j);
                    for (v, acc) in acc.iter_mut().enumerate() {
                        let src = row.wrapping_add(16 * v);
                        *acc = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(masks[v], src), *acc);
                    }
                }
                let alpha = _mm512_set1_ps(alpha);
                for (v, acc) in acc.iter().enumerate() {
                    let dst = c.add(j).wrapping_add(16 * v);
                    let old = if add {
                        _mm512_maskz_loadu_ps(masks[v], dst)
                    } else {
                        _mm512_setzero_ps()
                    };
                    _mm512_mask_storeu_ps(dst, masks[v], _mm512_fmadd_ps(alpha, *acc, old));
                }
                j += WIDTH;
            }
        }
    }

    /// The sum of a vector's 16 lanes in a fixed order: lanes i and i + 8, then i and
    /// i + 4, then i and i + 2, then 0 and 1. [`gemv`] reduces its accumulators this way,
    /// and [`gemv_sparse`] adds its sixteen partial sums in the same order, so the two
    /// give the same bits (`_mm512_reduce_add_ps` does not promise an order).
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn reduce_add(v: __m512) -> f32 {
        let low = _mm512_castps512_ps256(v);
        let high = _mm256_castpd_ps(_mm512_extractf64x4_pd::<1>(_mm512_castps_pd(v)));
        let eight = _mm256_add_ps(low, high);
        let four = _mm_add_ps(
            _mm256_castps256_ps128(eight),
            _mm256_extractf128_ps::<1>(eight),
        );
        let two = _mm_add_ps(four, _mm_movehl_ps(four, four));
        _mm_cvtss_f32(_mm_add_ss(two, _mm_shuffle_ps::<1>(two, two)))
    }

    /// Bit l of the result: `a_(p + l)` is nonzero (NaN counts; not +0, -0, or lanes past k).
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn nonzero_at(a: *const f32, k: usize, p: usize) -> __mmask16 {
        let x = _mm512_maskz_loadu_ps(mask(k - p), a.add(p));
        // Not equal, unordered: true for NaN.
        _mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(x, _mm512_setzero_ps())
    }

    /// Groups the nonzero entries of a (k floats) by p mod 16, as bit sets over the blocks
    /// of 16: bit b of `bits[16 w + l]` is `a_(16 (64 w + b) + l) ≠ 0`. Built without a
    /// branch per entry: block b's mask ORs `1 << b` into the lanes l whose entry is
    /// nonzero. Returns how many entries are nonzero.
    ///
    /// # Safety
    /// AVX-512 F; a holds k floats, bits has room for `16 · ⌈k/1024⌉` words.
    #[target_feature(enable = "avx512f,popcnt")]
    pub unsafe fn find_nonzero(a: *const f32, k: usize, bits: *mut u64) -> usize {
        let mut count = 0;
        for w in 0..k.div_ceil(1024) {
            let (mut low, mut high) = (_mm512_setzero_si512(), _mm512_setzero_si512());
            for b in 0..64.min(k.div_ceil(16) - 64 * w) {
                let nonzero = nonzero_at(a, k, 16 * (64 * w + b));
                count += nonzero.count_ones() as usize;
                let bit = _mm512_set1_epi64(1 << b);
                low = _mm512_mask_or_epi64(low, nonzero as u8, low, bit);
                high = _mm512_mask_or_epi64(high, (nonzero >> 8) as u8, high, bit);
            }
            _mm512_storeu_si512(bits.add(16 * w) as *mut _, low);
            _mm512_storeu_si512(bits.add(16 * w + 8) as *mut _, high);
        }
        count
    }

    /// `c ← α a W` for one row a, reading only the rows p of `wt` (k × n, row-major: row p
    /// is the weights out of input p, i.e. the transpose of a layer's W) whose `a_p` is
    /// nonzero, as [`find_nonzero`] grouped them into `bits`.
    ///
    /// Each `c_j` is summed as [`gemv`] sums it from W's row j: lane l of the sum collects
    /// `a_p w_jp` for p ≡ l (mod 16) in ascending p by FMA, and the lanes are added in
    /// [`reduce_add`]'s order. Here, for 16·C columns j at a time, each group's sums run
    /// down its p in C registers, and the groups are added in that order as they are
    /// done. The only difference is that the terms with `a_p = 0` are left out: with
    /// finite weights each such FMA adds ±0, which leaves every partial sum unchanged
    /// except possibly the sign of a zero, and the last step, `α · sum + 0` as in
    /// [`gemv`], turns every zero into +0. So c has [`gemv`]'s bits (tested, with sums
    /// that underflow to -0).
    ///
    /// # Safety
    /// AVX-512 F; a holds k floats, wt k × n, c n; `bits` came from [`find_nonzero`] of a.
    #[target_feature(enable = "avx512f,bmi1")]
    pub unsafe fn gemv_sparse(
        n: usize,
        k: usize,
        alpha: f32,
        a: *const f32,
        wt: *const f32,
        c: *mut f32,
        bits: *const u64,
    ) {
        let words = k.div_ceil(1024);
        let groups = Groups {
            a,
            wt,
            n,
            bits,
            words,
        };
        let blocks = n.div_ceil(16);
        let mut v = 0;
        // Eight registers of columns at a time, then what is left in fewer.
        while v + 8 <= blocks {
            sparse_columns::<8>(&groups, n, v, alpha, c);
            v += 8;
        }
        if v + 4 <= blocks {
            sparse_columns::<4>(&groups, n, v, alpha, c);
            v += 4;
        }
        match blocks - v {
            3 => sparse_columns::<3>(&groups, n, v, alpha, c),
            2 => sparse_columns::<2>(&groups, n, v, alpha, c),
            1 => sparse_columns::<1>(&groups, n, v, alpha, c),
            _ => {}
        }
    }

    /// The nonzero entries of a, grouped for [`gemv_sparse`].
    struct Groups {
        a: *const f32,
        wt: *const f32,
        n: usize,
        bits: *const u64,
        words: usize,
    }

    /// Lane l of [`gemv`]'s sums for the 16·C columns from 16·v: `Σ a_p w_jp` over group l,
    /// in ascending p, by FMA from 0.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn lane_sums<const C: usize>(
        g: &Groups,
        masks: &[__mmask16; C],
        v: usize,
        l: usize,
    ) -> [__m512; C] {
        let mut sum = [_mm512_setzero_ps(); C];
        for word in 0..g.words {
            let mut bits = *g.bits.add(16 * word + l);
            while bits != 0 {
                let p = 16 * (64 * word + bits.trailing_zeros() as usize) + l;
                bits &= bits - 1;
                let x = _mm512_set1_ps(*g.a.add(p));
                let row = g.wt.add(p * g.n + 16 * v);
                for q in 0..C {
                    let w = _mm512_maskz_loadu_ps(masks[q], row.add(16 * q));
                    sum[q] = _mm512_fmadd_ps(w, x, sum[q]);
                }
            }
        }
        sum
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn add<const C: usize>(x: [__m512; C], y: [__m512; C]) -> [__m512; C] {
        std::array::from_fn(|q| _mm512_add_ps(x[q], y[q]))
    }

    /// Columns 16·v to 16·(v + C) of [`gemv_sparse`] (the last register masked at n).
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn sparse_columns<const C: usize>(
        g: &Groups,
        n: usize,
        v: usize,
        alpha: f32,
        c: *mut f32,
    ) {
        let masks: [__mmask16; C] = std::array::from_fn(|q| mask(n - 16 * (v + q)));
        // reduce_add's order, lanes l and l + 8, then + 4, + 2, + 1, formed as each
        // group is done so that few sums are live at once.
        let four = |i: usize| {
            let eight_i = add(lane_sums(g, &masks, v, i), lane_sums(g, &masks, v, i + 8));
            let eight_i4 = add(
                lane_sums(g, &masks, v, i + 4),
                lane_sums(g, &masks, v, i + 12),
            );
            add(eight_i, eight_i4)
        };
        let two_0 = add(four(0), four(2));
        let two_1 = add(four(1), four(3));
        let sum = add(two_0, two_1);
        // gemv's finish: α · sum + 0.
        let alpha = _mm512_set1_ps(alpha);
        for q in 0..C {
            let c_j = _mm512_add_ps(_mm512_mul_ps(alpha, sum[q]), _mm512_setzero_ps());
            _mm512_mask_storeu_ps(c.add(16 * (v + q)), masks[q], c_j);
        }
    }

    /// 16 × 16 transpose in registers: on return, `r[i][j]` holds the old `r[j][i]`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn transpose16(r: &mut [__m512; 16]) {
        let mut t = [_mm512_setzero_ps(); 16];
        for i in 0..8 {
            t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
            t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
        }
        for i in 0..4 {
            let (a, b, c, d) = (t[4 * i], t[4 * i + 1], t[4 * i + 2], t[4 * i + 3]);
            r[4 * i] = _mm512_shuffle_ps::<0x44>(a, c);
            r[4 * i + 1] = _mm512_shuffle_ps::<0xEE>(a, c);
            r[4 * i + 2] = _mm512_shuffle_ps::<0x44>(b, d);
            r[4 * i + 3] = _mm512_shuffle_ps::<0xEE>(b, d);
        }
        for h in 0..2 {
            for i in 0..4 {
                t[8 * h + i] = _mm512_shuffle_f32x4::<0x88>(r[8 * h + i], r[8 * h + 4 + i]);
                t[8 * h + 4 + i] = _mm512_shuffle_f32x4::<0xDD>(r[8 * h + i], r[8 * h + 4 + i]);
            }
        }
        for i in 0..8 {
            r[i] = _mm512_shuffle_f32x4::<0x88>(t[i], t[8 + i]);
            r[8 + i] = _mm512_shuffle_f32x4::<0xDD>(t[i], t[8 + i]);
        }
    }

    fn mask(count: usize) -> __mmask16 {
        if count >= 16 {
            0xFFFF
        } else {
            ((1u32 << count) - 1) as u16
        }
    }

    /// Loads `rows` rows (the rest zero) of 16 consecutive floats, `count` of them valid:
    /// row i starts at `src + i * stride`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn load_block(
        src: *const f32,
        stride: isize,
        rows: usize,
        count: usize,
    ) -> [__m512; 16] {
        // A fixed trip count keeps the block in registers; rows past `rows` load nothing
        // (a zero mask reads no memory).
        let m = mask(count);
        std::array::from_fn(|i| {
            let m = if i < rows { m } else { 0 };
            _mm512_maskz_loadu_ps(m, src.wrapping_offset(i as isize * stride))
        })
    }

    /// Packs rows ic..ic+mc, columns pc..pc+kc of A into panels of MR rows: panel i holds,
    /// for each p, the MR entries A[ic + i·MR + r, pc + p] (zero past the last row).
    #[inline(never)]
    #[target_feature(enable = "avx512f")]
    unsafe fn pack_a(dst: *mut f32, a: Strided, ic: usize, mc: usize, pc: usize, kc: usize) {
        let first = a.ptr.offset(ic as isize * a.rs + pc as isize * a.cs);
        pack::<MR>(dst, first, a.rs, a.cs, mc, kc);
    }

    /// Packs rows pc..pc+kc, columns jc..jc+nc of B into panels of NR columns: panel j holds,
    /// for each p, the NR entries B[pc + p, jc + j·NR + c] (zero past the last column).
    #[inline(never)]
    #[target_feature(enable = "avx512f")]
    unsafe fn pack_b(dst: *mut f32, b: Strided, pc: usize, kc: usize, jc: usize, nc: usize) {
        let first = b.ptr.offset(pc as isize * b.rs + jc as isize * b.cs);
        pack::<NR>(dst, first, b.cs, b.rs, nc, kc);
    }

    /// Packs `width` lines of `kc` entries into panels of W lines: entry p of line c (at
    /// `first + c·across + p·along`) goes to `panel[p·W + c]`, zero past the last line.
    /// A's rows and B's columns are both such lines.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn pack<const W: usize>(
        dst: *mut f32,
        first: *const f32,
        across: isize,
        along: isize,
        width: usize,
        kc: usize,
    ) {
        for i in 0..width.div_ceil(W) {
            let lines = W.min(width - i * W);
            let panel = dst.add(i * W * kc);
            let origin = first.offset((i * W) as isize * across);
            // The panel in slices of 16 lines (one zmm register wide).
            for slice in 0..W.div_ceil(16) {
                let lanes = mask(W - 16 * slice);
                let valid = lines.saturating_sub(16 * slice).min(16);
                // Past the last line when the panel is narrower: never read (its loads are
                // masked off), so computed without `offset`'s promise.
                let src = origin.wrapping_offset((16 * slice) as isize * across);
                let out = panel.wrapping_add(16 * slice);
                if along == 1 {
                    // Lines contiguous in k (Wᵀ, the activations): transpose 16 × 16 blocks.
                    let mut p = 0;
                    while p < kc {
                        let count = 16.min(kc - p);
                        let mut block = load_block(src.wrapping_add(p), across, valid, count);
                        transpose16(&mut block);
                        for (q, v) in block.iter().enumerate() {
                            let m = if q < count { lanes } else { 0 };
                            _mm512_mask_storeu_ps(out.wrapping_add((p + q) * W), m, *v);
                        }
                        p += 16;
                    }
                } else if across == 1 {
                    for p in 0..kc {
                        let v = _mm512_maskz_loadu_ps(mask(valid), src.offset(p as isize * along));
                        _mm512_mask_storeu_ps(out.add(p * W), lanes, v);
                    }
                } else {
                    for p in 0..kc {
                        for c in 0..(W - 16 * slice).min(16) {
                            *out.add(p * W + c) = if c < valid {
                                *src.offset(c as isize * across + p as isize * along)
                            } else {
                                0.0
                            };
                        }
                    }
                }
            }
        }
    }

    /// Where a micro-kernel call writes: an MR × NR tile of C (`rows` of its rows and the
    /// columns in the two masks are inside C), and how.
    pub struct Tile {
        c: *mut f32,
        c_rs: usize,
        rows: usize,
        mask_lo: __mmask16,
        mask_hi: __mmask16,
        alpha: f32,
        add: bool,
    }

    /// `C_tile (+)= α A_panel B_panel` over kc steps of k. A comes packed (`a[p·MR + r]`)
    /// or, with `DIRECT`, from its rows in place (`a_rows[r][p]`).
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn kernel<const DIRECT: bool>(
        kc: usize,
        a: *const f32,
        a_rows: &[*const f32; MR],
        b: *const f32,
        tile: Tile,
    ) {
        let Tile {
            c,
            c_rs,
            rows,
            mask_lo,
            mask_hi,
            alpha,
            add,
        } = tile;
        // Start fetching the tile of C now: it is read and written after the loop over k.
        for r in 0..rows {
            _mm_prefetch::<_MM_HINT_T0>(c.add(r * c_rs) as *const i8);
            _mm_prefetch::<_MM_HINT_T0>(c.add(r * c_rs).wrapping_add(16) as *const i8);
        }
        let mut acc = [[_mm512_setzero_ps(); 2]; MR];
        for p in 0..kc {
            let b0 = _mm512_load_ps(b.add(p * NR));
            let b1 = _mm512_load_ps(b.add(p * NR + 16));
            // C[r, ·] += A[r, p] B[p, ·] for the MR rows: one broadcast, two FMAs each.
            for (r, acc) in acc.iter_mut().enumerate() {
                let a_rp = if DIRECT {
                    *a_rows[r].add(p)
                } else {
                    *a.add(p * MR + r)
                };
                let ar = _mm512_set1_ps(a_rp);
                acc[0] = _mm512_fmadd_ps(ar, b0, acc[0]);
                acc[1] = _mm512_fmadd_ps(ar, b1, acc[1]);
            }
        }
        let alpha = _mm512_set1_ps(alpha);
        for (r, acc) in acc.iter().enumerate().take(rows) {
            let row = c.add(r * c_rs);
            let old0 = if add {
                _mm512_maskz_loadu_ps(mask_lo, row)
            } else {
                _mm512_setzero_ps()
            };
            let old1 = if add {
                _mm512_maskz_loadu_ps(mask_hi, row.wrapping_add(16))
            } else {
                _mm512_setzero_ps()
            };
            _mm512_mask_storeu_ps(row, mask_lo, _mm512_fmadd_ps(alpha, acc[0], old0));
            _mm512_mask_storeu_ps(
                row.wrapping_add(16),
                mask_hi,
                _mm512_fmadd_ps(alpha, acc[1], old1),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `rows × cols` entries, each a hash of its index in [-1, 1]; [`view`] reads them as
    /// a matrix or as its transpose.
    fn filled(rows: usize, cols: usize, seed: u64) -> Vec<f32> {
        (0..rows * cols)
            .map(|i| ((i as u64 * 2_654_435_761 + seed) % 2001) as f32 / 1000.0 - 1.0)
            .collect()
    }

    /// An r × c view of `data`: stored row-major (`transposed` false) or as its transpose
    /// (c × r row-major).
    fn view(data: &[f32], rows: usize, cols: usize, transposed: bool) -> MatRef<'_, f32> {
        if transposed {
            MatRef::from_row_major_slice(data, cols, rows).transpose()
        } else {
            MatRef::from_row_major_slice(data, rows, cols)
        }
    }

    /// The product in f64 against `matmul` in f32, for one shape and layout. The f32 error
    /// bound is k·ε times the sum of |a||b| (the standard bound for a dot product).
    fn check(m: usize, k: usize, n: usize, at: bool, bt: bool, add: bool, alpha: f32) {
        check_with(matmul, m, k, n, at, bt, add, alpha);
    }

    type Product = fn(MatMut<'_, f32>, bool, MatRef<'_, f32>, MatRef<'_, f32>, f32);

    #[allow(clippy::too_many_arguments)]
    fn check_with(
        product: Product,
        m: usize,
        k: usize,
        n: usize,
        at: bool,
        bt: bool,
        add: bool,
        alpha: f32,
    ) {
        let (a, b) = (filled(m, k, 1), filled(k, n, 2));
        let (av, bv) = (view(&a, m, k, at), view(&b, k, n, bt));
        let before = filled(m, n, 3);
        let mut c = before.clone();
        product(
            MatMut::from_row_major_slice_mut(&mut c, m, n),
            add,
            av,
            bv,
            alpha,
        );
        for i in 0..m {
            for j in 0..n {
                let (mut sum, mut size) = (0.0f64, 0.0f64);
                for p in 0..k {
                    let product = av[(i, p)] as f64 * bv[(p, j)] as f64;
                    sum += product;
                    size += product.abs();
                }
                let old = if add { before[i * n + j] as f64 } else { 0.0 };
                let want = alpha as f64 * sum + old;
                let bound = (k as f64 + 2.0)
                    * f32::EPSILON as f64
                    * (alpha.abs() as f64 * size + old.abs())
                    + 1e-30;
                let got = c[i * n + j] as f64;
                assert!(
                    (got - want).abs() <= bound,
                    "{m}x{k}x{n} at={at} bt={bt} add={add}: C[{i},{j}] = {got}, want {want} ± {bound}"
                );
            }
        }
    }

    /// `a Wᵀ` through the dense batch-1 loops, W (n × k) row-major.
    fn dense_one_row(a: &[f32], w: &[f32], k: usize, n: usize) -> Vec<f32> {
        let mut dense = vec![f32::NAN; n];
        matmul_one_row(
            MatMut::from_row_major_slice_mut(&mut dense, 1, n),
            false,
            view(a, 1, k, false),
            view(w, k, n, true),
            1.0,
        );
        dense
    }

    /// The sparse batch-1 product against the dense loops it stands in for: every entry
    /// has the dense bits; a row with more nonzero entries than allowed is refused. With
    /// `zero_every` z ≥ 3, entry p is 0 or -0 when p mod z ≥ 2, subnormal when p mod z = 0
    /// (products that underflow), and a plain value otherwise; z = 0 leaves none zero.
    fn sparse_agrees_with_dense(k: usize, n: usize, zero_every: usize, seed: u64) {
        let w = filled(n, k, seed);
        let wt: Vec<f32> = (0..k * n).map(|i| w[(i % n) * k + i / n]).collect();
        let a: Vec<f32> = filled(1, k, seed + 1)
            .iter()
            .enumerate()
            .map(|(p, &v)| match p % zero_every.max(1) {
                _ if zero_every == 0 => v,
                // Subnormal: its products with the weights underflow, some to ±0.
                0 => v * 1e-44,
                1 => -v,
                r if r % 2 == 0 => 0.0,
                _ => -0.0,
            })
            .collect();
        let dense = dense_one_row(&a, &w, k, n);
        let nonzero = a.iter().filter(|v| **v != 0.0).count();
        let mut sparse = vec![f32::NAN; n];
        // Refused with one entry fewer allowed than there are, done with exactly enough.
        if nonzero > 0 {
            assert!(!matmul_one_row_sparse(&mut sparse, &a, &wt, nonzero - 1));
            assert!(
                sparse.iter().all(|v| v.is_nan()),
                "refused, yet c was written"
            );
        }
        assert!(matmul_one_row_sparse(&mut sparse, &a, &wt, nonzero));
        for j in 0..n {
            assert_eq!(
                sparse[j].to_bits(),
                dense[j].to_bits(),
                "{k} x {n}: c_{j} = {} against {}",
                sparse[j],
                dense[j]
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn the_sparse_one_row_product_has_the_dense_bits(
            k in 1usize..300,
            n in 1usize..80,
            zero_every in 0usize..12,
            seed in 0u64..1000,
        ) {
            if available() {
                sparse_agrees_with_dense(k, n, zero_every, seed);
            }
        }
    }

    #[test]
    fn the_sparse_one_row_product_at_the_layer_shapes() {
        if available() {
            // W4's and W1's layers, and k past one 64-bit word of blocks (1024) and more.
            for (k, n) in [
                (784, 256),
                (256, 128),
                (128, 10),
                (784, 30),
                (1024, 40),
                (1025, 17),
                (2100, 33),
            ] {
                for zero_every in [0, 3, 5, 9] {
                    sparse_agrees_with_dense(k, n, zero_every, 3);
                }
            }
        }
    }

    /// Sums whose terms all underflow to -0: on the sparse route every lane is -0, so the
    /// whole sum is -0, while the dense loops add the +0 of the zero inputs into each lane;
    /// the finish (`α · sum + 0`) makes both +0. Without it the bits would differ.
    #[test]
    fn a_sum_that_underflows_to_minus_zero_gives_the_dense_bits() {
        if !available() {
            return;
        }
        let (k, n) = (32, 1);
        let mut a = vec![0.0f32; k];
        let mut w = vec![1.0f32; k];
        // One term per lane, each -1e-60, which rounds to -0.
        a[..16].fill(1e-30);
        w[..16].fill(-1e-30);
        let dense = dense_one_row(&a, &w, k, n);
        let mut sparse = [f32::NAN];
        assert!(matmul_one_row_sparse(&mut sparse, &a, &w, k));
        assert_eq!(dense[0], 0.0);
        assert_eq!(sparse[0].to_bits(), dense[0].to_bits());
    }

    // Shapes that cross every block edge: m past MR and MC (8, 96), n past 16 and NR (32),
    // k past 16 and KC (256), in all four layouts (A read in place or packed), replacing
    // and accumulating.
    // Vacuous on CPUs without AVX-512, where nabla never calls this kernel.
    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn matmul_agrees_with_f64_for_every_shape_and_layout(
            m in 1usize..160, k in 1usize..420, n in 1usize..80,
            at: bool, bt: bool, add: bool, alpha in -2.0f32..2.0,
        ) {
            if available() {
                check(m, k, n, at, bt, add, alpha);
            }
        }
    }

    /// `A Wᵀ` with W read in place (computed as `(W Aᵀ)ᵀ` when m ≤ 256 < n) must have the
    /// bits of the same product with Wᵀ copied out row-major (computed directly): the
    /// transposed route is a speed choice, never a rounding one.
    fn transposed_route_changes_no_bits(m: usize, k: usize, n: usize, alpha: f32) {
        let (a, w) = (filled(m, k, 7), filled(n, k, 8));
        let wt: Vec<f32> = (0..k * n).map(|i| w[(i % n) * k + i / n]).collect();
        let run = |b: MatRef<'_, f32>| {
            let mut c = filled(m, n, 9);
            matmul(
                MatMut::from_row_major_slice_mut(&mut c, m, n),
                false,
                view(&a, m, k, false),
                b,
                alpha,
            );
            c.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        };
        assert_eq!(
            run(view(&w, k, n, true)),
            run(view(&wt, k, n, false)),
            "{m}x{k}x{n}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn the_transposed_route_gives_the_bits_of_the_direct_one(
            m in 1usize..280, k in 1usize..600, n in 1usize..400, alpha in -2.0f32..2.0,
        ) {
            if available() {
                transposed_route_changes_no_bits(m, k, n, alpha);
            }
        }
    }

    #[test]
    fn the_transposed_route_gives_the_bits_of_the_direct_one_at_the_layer_shapes() {
        if !available() {
            return;
        }
        for (m, k, n) in [
            (64, 784, 256),
            (64, 256, 128),
            (256, 784, 1024),
            (256, 1024, 1024),
        ] {
            transposed_route_changes_no_bits(m, k, n, 1.0);
        }
    }

    #[test]
    fn matmul_handles_the_layer_shapes_and_wide_c() {
        if !available() {
            return;
        }
        // W2's forward and BP4 shapes, and n past NC (1024) so C is cut into two blocks.
        check(64, 784, 256, false, true, false, 1.0);
        check(256, 64, 784, true, false, true, 0.25);
        check(13, 200, 1100, false, false, true, -0.5);
        // One row (the batch-1 paths): Wᵀ and W layouts, ragged n and k.
        for (k, n) in [
            (784, 256),
            (256, 128),
            (128, 10),
            (37, 300),
            (1, 5),
            (300, 1),
        ] {
            for (bt, add) in [(true, false), (false, false), (true, true), (false, true)] {
                check(1, k, n, false, bt, add, 0.75);
            }
        }
    }

    #[test]
    fn gemm_sends_large_f32_products_here_and_gets_them_right() {
        use crate::kernels::AVX512_MIN_MNK;
        use crate::matrix::{gemm, Accumulate, Matrix};
        let (m, k, n) = (64, 300, 900);
        assert!(m * k * n >= AVX512_MIN_MNK);
        let a = Matrix::from_vec(m, k, filled(m, k, 5)).unwrap();
        let w = Matrix::from_vec(n, k, filled(n, k, 6)).unwrap();
        let mut z = Matrix::zeros(m, n);
        gemm(&mut z, Accumulate::Replace, &a, w.t(), 1.0);
        let (a64, w64) = (a.cast::<f64>(), w.cast::<f64>());
        let mut z64 = Matrix::<f64>::zeros(m, n);
        gemm(&mut z64, Accumulate::Replace, &a64, w64.t(), 1.0);
        for (got, want) in z.as_slice().iter().zip(z64.as_slice()) {
            assert!((*got as f64 - want).abs() < 1e-4, "{got} vs {want}");
        }
    }
}
