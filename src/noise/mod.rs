//! N-dimensional simplex noise (any dimension `1..=MAX_DIMS`) with the
//! kernel radius `r^2 = 1/2`, fractal sums, image slices and smooth
//! regression data sets.
//!
//! The entry point is [`Simplex`]: a seeded, deterministic, immutable noise
//! field over `R^N`.  [`Simplex::sample`] evaluates one point,
//! [`Simplex::sample_many`] a row-major batch, [`Simplex::gradient`] returns
//! the value together with its analytic gradient, [`Simplex::fractal`] sums
//! several octaves described by a [`Fractal`], [`Simplex::image_slice`]
//! renders a grayscale 2-D slice and [`Simplex::dataset`] draws a random
//! regression data set `(points, values)`.
//!
//! # The algorithm
//!
//! For a point `x` in `R^N`:
//!
//! 1. **Skew.** `y = x + F * sum(x) * (1, ..., 1)` with
//!    `F = (sqrt(N+1) - 1) / N`.  The skew maps the simplicial lattice onto
//!    the integer lattice `Z^N`.
//! 2. **Cell and internal coordinates.** `c = floor(y)`, `f = y - c`, so that
//!    `f` lies in the unit cube `[0, 1)^N`.
//! 3. **Simplex.** The unit cube is cut into `N!` simplices (the Kuhn /
//!    Freudenthal triangulation); the one containing `f` is found by sorting
//!    the internal coordinates in descending order,
//!    `f[p_1] >= f[p_2] >= ... >= f[p_N]`.  Its `N + 1` vertices (in skewed
//!    coordinates, relative to `c`) are `v_0 = 0` and
//!    `v_k = v_{k-1} + e_{p_k}`, ending at `v_N = (1, ..., 1)`.  (The
//!    implementation does not sort: it computes the rank of every axis in
//!    that order by counting comparisons, branch-free, and vertex `k` is
//!    `c` plus the unit vectors of the axes of rank `< k`.  Ties are broken
//!    by the lower axis index first; on such ties the point lies on a shared
//!    face, where both candidate simplices give the same value.)
//! 4. **Unskew.** The inverse map is `x = y - G * sum(y) * (1, ..., 1)` with
//!    `G = (1 - 1/sqrt(N+1)) / N`.  The offset from the (unskewed) vertex `k`
//!    to the point is
//!    `d_k = x - unskew(c + v_k) = (f - v_k) - G * (sum(f) - k) * (1, ..., 1)`.
//! 5. **Kernels.** Every vertex contributes
//!    `max(0, r^2 - |d_k|^2)^4 * (g_k . d_k)`, where `g_k` is a pseudo-random
//!    gradient hashed from the integer lattice point `c + v_k` through a
//!    seeded permutation table.  The sum is multiplied by a per-dimension
//!    normalisation factor (see below) so that the result lies in `[-1, 1]`.
//!
//! Within one simplex the vertices `c + v_k` are constant, so
//! `d(d_k)/dx = I` (the skew only selects *which* vertices are used; the
//! offsets themselves are plain differences in unskewed space).  The analytic
//! gradient of one kernel, with `t = r^2 - |d|^2 > 0`, is therefore
//!
//! ```text
//! d/dx [ t^4 (g . d) ] = t^4 g - 8 t^3 (g . d) d
//! ```
//!
//! # Why `r^2 = 1/2` in every dimension
//!
//! The noise is evaluated simplex by simplex: only the `N + 1` corners of the
//! simplex containing `x` contribute.  When `x` crosses the facet shared by
//! two neighbouring simplices, one corner leaves the set and another one
//! enters.  The sum is continuous across that facet exactly when the kernel
//! of the leaving (and of the entering) corner is zero everywhere on the
//! facet, i.e. when the kernel radius `r` is at most the distance from a
//! corner to its opposite facet — the *height* `h` of the simplex.  `r = h`
//! is the largest radius with this property (any larger radius and the
//! kernel is still positive at the foot of the height, so the value jumps by
//! `(r^2 - h^2)^4 (g . d)` there; any smaller radius wastes coverage and
//! leaves flat, dead regions around the facets).
//!
//! **Constants.**  Write `a = 1/sqrt(N+1)`, `F = (sqrt(N+1) - 1)/N`,
//! `G = (1 - a)/N`.  Two identities do all the work:
//!
//! ```text
//! 2G - N G^2 = (1 - a)(1 + a)/N = (1 - a^2)/N = 1/(N+1)
//! 2F + N F^2 = ((sqrt(N+1) - 1)(sqrt(N+1) + 1))/N = N/N = 1
//! ```
//!
//! **Edge lengths.**  Two vertices `v_j`, `v_k` with `m = |k - j|` differ by
//! a 0/1 vector `u` with `m` ones; unskewed, `u - m G (1, ..., 1)` has squared
//! length
//!
//! ```text
//! m (1 - mG)^2 + (N - m) (mG)^2 = m - m^2 (2G - N G^2) = m (N + 1 - m) / (N + 1).
//! ```
//!
//! The shortest edges (`m = 1` and `m = N`, i.e. neighbours in the cyclic
//! vertex order `v_0, v_1, ..., v_N, v_0`) have length
//! `s = sqrt(N / (N+1))`.  For `N <= 2` every edge is such an edge and the
//! simplex is regular; for `N >= 3` the other edges are longer (e.g. `N = 3`,
//! `m = 2`: squared length `1` versus `3/4`), so the simplex is **not**
//! regular.  The often quoted argument "height of a regular simplex of edge
//! `s`, `h = s sqrt((N+1)/(2N))`" happens to give the right number, but the
//! correct justification is the following.
//!
//! **Height.**  Vertex `v_k` is joined by short edges (length `s`) to its two
//! cyclic neighbours `v_{k-1}` and `v_{k+1}` (indices mod `N + 1`), and those
//! two are `m = 2` apart (or `m = N - 1`, the same length), at squared
//! distance `b^2 = 2 (N - 1)/(N + 1)`.  The midpoint of `v_{k-1} v_{k+1}` is
//! the foot of the height from `v_k`:
//!
//! * for `0 < k < N` the opposite facet lies in the hyperplane
//!   `x[p_k] = x[p_{k+1}]` (in skewed coordinates the facet is
//!   `y[p_k] = y[p_{k+1}]`, and the skew adds the same amount to every
//!   coordinate).  `v_k` has `x[p_k] - x[p_{k+1}] = 1`, so its distance to the
//!   hyperplane is `1/sqrt(2)`, and the foot `v_k + (e_{p_{k+1}} - e_{p_k})/2`
//!   is exactly the midpoint of `v_{k-1} = v_k - e_{p_k}` and
//!   `v_{k+1} = v_k + e_{p_{k+1}}`;
//! * for `k = 0` the opposite facet is `y[p_1] = 1`, i.e.
//!   `n . x = 1` with `n = e_{p_1} + F (1, ..., 1)` and
//!   `|n|^2 = 1 + 2F + N F^2 = 2`, so the distance from `v_0 = 0` is
//!   `1/sqrt(2)`; symmetrically for `k = N` (facet `y[p_N] = 0`).
//!
//! In every case, by Pythagoras in the isosceles triangle
//! `v_{k-1} v_k v_{k+1}`,
//!
//! ```text
//! h^2 = s^2 - b^2/4 = N/(N+1) - (N-1)/(2(N+1)) = (N+1)/(2(N+1)) = 1/2,
//! ```
//!
//! independently of `N`.  Since the foot of the height lies *inside* the facet
//! (it is the midpoint of an edge of the facet), every point of the facet is
//! at distance `>= h` from `v_k`, with equality at that midpoint.  Hence with
//! `r^2 = h^2 = 1/2` the kernel `max(0, r^2 - |d|^2)^4` of every vertex
//! vanishes on the whole opposite facet, the per-simplex sums agree on
//! shared facets (and, by taking limits, on lower-dimensional faces), and the
//! noise is continuous; with the fourth power the kernel is even `C^3`.
//! Moreover the union of the simplices around a lattice vertex (its *star*,
//! `max(0, max_i y_i) - min(0, min_i y_i) <= 1` in skewed coordinates relative
//! to the vertex) is convex with all its facets at distance `h` from the
//! vertex, so it contains the ball of radius `r = h`: the per-simplex sum is
//! exactly the sum of the kernels of **all** lattice vertices.
//!
//! (The classic 3-D/4-D reference implementations use `r^2 = 0.6`, which
//! makes the noise slightly discontinuous; the test-suite demonstrates that
//! with [`Simplex::with_radius_squared`].)
//!
//! # Gradients
//!
//! * `N = 1`: `g` in `{±1, ±2, ..., ±8}` (as in Gustavson's 1-D noise);
//! * `N = 2`: the 8 non-zero vectors of `{-1, 0, 1}^2` (4 axes, 4 diagonals);
//! * `N >= 3`: the `N * 2^(N-1)` midpoints of the edges of the cube
//!   `[-1, 1]^N`: every coordinate `±1` except one, which is `0`.  For
//!   `N = 3` these are the classic 12 gradients and for `N = 4` the classic
//!   32 gradients of the reference implementations.
//!
//! Per seed a table of 256 gradients is drawn uniformly from the set, and a
//! lattice point `c` is hashed as `h = perm[h + (c_i mod 256)]` over its
//! coordinates with a seeded permutation `perm` of `0..256`.  Both are drawn
//! with a self-contained splitmix64 generator, so the field depends only on
//! `(dims, seed)` and is bit-for-bit reproducible.  As with every
//! permutation-table noise, the field is periodic with period 256 along each
//! skewed lattice axis.
//!
//! # Normalisation to `[-1, 1]`
//!
//! Because the gradient sets are symmetric, the largest value any seed can
//! produce at a point is obtained by aligning every gradient with its offset:
//!
//! ```text
//! B(N) = sup_x  sum_k max(0, 1/2 - |d_k|^2)^4 * max_{g in set} |g . d_k|
//! ```
//!
//! `B(N)` was computed offline for every `N <= MAX_DIMS` by a numerical
//! search (random multi-start plus hill climbing inside one simplex, which
//! suffices by symmetry); the raw sum is divided by `1.02 * B(N)` (2 % safety
//! margin for the search being a lower estimate of the supremum).  As a
//! last-resort guarantee the result is clamped to `[-1, 1]`; in the
//! test-suite no sample ever reaches the clamp.  Because `B(N)` is a
//! worst case over all gradient assignments, typical values are well inside
//! the interval, increasingly so for larger `N` (see the crate tests for the
//! measured spread).
//!
//! # Coverage in high dimensions
//!
//! The kernels have radius `sqrt(1/2)` in every dimension, but the distance
//! from a typical point of a simplex to its nearest vertex grows with `N`.
//! Consequently the fraction of space where the field is non-zero shrinks
//! quickly (measured on 100 000 uniform samples, see the tests):
//!
//! ```text
//! N          1..5    6      8      12     16      >= 24
//! non-zero   100%    98%    59%    7%     0.4%    0 of 20 000
//! std        0.35 (N=1), 0.46 (2), 0.38 (3), 0.25 (4), 0.16 (5),
//!            0.098 (6), 0.036 (8), 0.004 (12), 0.0006 (16)
//! ```
//!
//! This is a property of simplex noise with a continuous kernel, not of this
//! implementation; for smooth regression data sets prefer `N <= 8`, and
//! expect mostly zeros beyond.  Near the lattice vertices the field is still
//! rich in every dimension (values up to about `0.4..0.9` of the range).
//!
//! # Limits
//!
//! `dims` must be in `1..=MAX_DIMS` (`MAX_DIMS = 64`): all per-sample scratch
//! space is on the stack, so sampling never allocates, and the cost of one
//! sample grows as `O(N^2)`.  Coordinates must be finite; points so large
//! that the skewed coordinates overflow `f64` (magnitudes around `1e306`)
//! evaluate to `0`.

mod simplex;

pub use simplex::{Fractal, Simplex, MAX_DIMS, MAX_OCTAVES, R2};

/// Errors reported by the noise module.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NoiseError {
    /// The number of dimensions was zero.
    #[error("noise needs at least one dimension, got 0")]
    ZeroDims,
    /// The number of dimensions exceeds [`MAX_DIMS`].
    #[error("noise supports at most {max} dimensions, got {dims}")]
    TooManyDims {
        /// Requested dimensions.
        dims: usize,
        /// The supported maximum ([`MAX_DIMS`]).
        max: usize,
    },
    /// A point (or a slice offset) has the wrong number of coordinates.
    #[error("point has {got} coordinates, expected {expected}")]
    PointLength {
        /// Expected number of coordinates.
        expected: usize,
        /// Number of coordinates given.
        got: usize,
    },
    /// A batch of points does not match the output buffer.
    #[error("batch of {points} coordinates does not hold {outputs} points of {dims} dimensions")]
    BatchLength {
        /// Length of the flat point buffer.
        points: usize,
        /// Length of the output buffer.
        outputs: usize,
        /// Dimensions of the noise.
        dims: usize,
    },
    /// A coordinate is NaN or infinite.
    #[error("coordinate {index} is not finite ({value})")]
    NonFinite {
        /// Index of the offending coordinate within the point.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// Invalid fractal parameters.
    #[error("invalid fractal parameters: {0}")]
    InvalidFractal(&'static str),
    /// A kernel radius that is not finite and positive.
    #[error("kernel radius squared must be finite and positive, got {0}")]
    InvalidRadius(f64),
    /// A scale that is not finite (or not positive, where required).
    #[error("scale must be finite and positive, got {0}")]
    InvalidScale(f64),
    /// An image of size 0 was requested.
    #[error("image size must be at least 1, got 0")]
    ZeroImageSize,
    /// An image larger than [`MAX_IMAGE_SIZE`] on a side was requested.
    #[error("image size must be at most {max} pixels on a side, got {size}")]
    ImageTooLarge {
        /// The size requested.
        size: usize,
        /// The largest size ([`MAX_IMAGE_SIZE`]).
        max: usize,
    },
}

/// The largest side of a noise image, 16384 pixels (256 MiB of grey levels).
pub const MAX_IMAGE_SIZE: usize = 1 << 14;
