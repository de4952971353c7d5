//! The [`Simplex`] noise field and its [`Fractal`] sums.

use super::NoiseError;
use std::fmt;

/// Squared kernel radius `r^2 = 1/2`: the squared height of the (unskewed)
/// lattice simplex in every dimension, see the [module docs](super).
pub const R2: f64 = 0.5;

/// Largest supported number of dimensions.  Per-sample scratch space is
/// allocated on the stack with this capacity.
pub const MAX_DIMS: usize = 64;

/// Largest number of octaves accepted by [`Fractal`].
pub const MAX_OCTAVES: u32 = 64;

/// Safety margin applied on top of the searched supremum `BOUND`.
const MARGIN: f64 = 1.02;

/// `BOUND[N - 1]` is the numerically searched supremum `B(N)` of the raw
/// kernel sum with all gradients aligned (see the module docs, section
/// "Normalisation").  Produced offline by a multi-start search over one
/// simplex (20 000 random points, 16 best of them plus 16 starts near a
/// vertex, each refined by a (1+1) evolution strategy and a coordinate
/// search); for every `N` at least 16 of the 32 starts converged to the same
/// value to 0.1 %.  For `N >= 21` random points never hit a non-zero kernel
/// (see the module docs), and the maximum sits close to a single vertex.
/// The raw sum is divided by `MARGIN * B(N)`.
const BOUND: [f64; MAX_DIMS] = [
    1.118665e-1,
    1.425556e-2,
    1.300716e-2,
    1.592922e-2,
    1.839347e-2,
    2.056452e-2,
    2.252731e-2,
    2.433227e-2,
    2.601229e-2,
    2.759021e-2,
    2.908263e-2,
    3.050212e-2,
    3.185842e-2,
    3.315930e-2,
    3.441103e-2,
    3.561880e-2,
    3.678694e-2,
    3.791911e-2,
    3.901844e-2,
    4.008764e-2,
    4.112905e-2,
    4.214473e-2,
    4.313651e-2,
    4.410599e-2,
    4.505462e-2,
    4.598368e-2,
    4.689433e-2,
    4.778764e-2,
    4.866455e-2,
    4.952593e-2,
    5.037259e-2,
    5.120525e-2,
    5.202459e-2,
    5.283122e-2,
    5.362572e-2,
    5.440862e-2,
    5.518041e-2,
    5.594156e-2,
    5.669248e-2,
    5.743359e-2,
    5.816526e-2,
    5.888784e-2,
    5.960166e-2,
    6.030702e-2,
    6.100424e-2,
    6.169357e-2,
    6.237529e-2,
    6.304964e-2,
    6.371685e-2,
    6.437715e-2,
    6.503074e-2,
    6.567783e-2,
    6.631860e-2,
    6.695324e-2,
    6.758192e-2,
    6.820481e-2,
    6.882206e-2,
    6.943383e-2,
    7.004025e-2,
    7.064146e-2,
    7.123760e-2,
    7.182880e-2,
    7.241516e-2,
    7.299682e-2,
];

/// splitmix64 (Steele, Lea, Flood 2014): a tiny, well-mixed, deterministic
/// generator used for the permutation, the gradient table, octave offsets
/// and data sets.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform integer in `0..n` (`n > 0`), unbiased by rejection.
    fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }

    /// Uniform `f64` in `[0, 1)` with 53 random bits.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// Parameters of a fractal (fBm) sum of octaves, see [`Simplex::fractal`].
///
/// Octave `o` (counting from 0) samples the field at
/// `point * frequency * lacunarity^o + offset_o` with amplitude `gain^o`;
/// `offset_0 = 0` and the other offsets are pseudo-random vectors in
/// `[0, 256)^N` derived from the seed, so that octaves are not correlated.
/// The sum is divided by the sum of the amplitudes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fractal {
    /// Number of octaves, `1..=MAX_OCTAVES`.
    pub octaves: u32,
    /// Frequency multiplier between octaves (finite, `> 0`).
    pub lacunarity: f64,
    /// Amplitude multiplier between octaves (finite, `> 0`).
    pub gain: f64,
    /// Frequency of the first octave (finite, `> 0`).
    pub frequency: f64,
}

impl Default for Fractal {
    /// 4 octaves, lacunarity 2, gain 0.5, frequency 1.
    fn default() -> Self {
        Fractal {
            octaves: 4,
            lacunarity: 2.0,
            gain: 0.5,
            frequency: 1.0,
        }
    }
}

impl Fractal {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), NoiseError> {
        if self.octaves == 0 {
            return Err(NoiseError::InvalidFractal("octaves must be at least 1"));
        }
        if self.octaves > MAX_OCTAVES {
            return Err(NoiseError::InvalidFractal("octaves must be at most 64"));
        }
        if !(self.lacunarity.is_finite() && self.lacunarity > 0.0) {
            return Err(NoiseError::InvalidFractal(
                "lacunarity must be finite and positive",
            ));
        }
        if !(self.gain.is_finite() && self.gain > 0.0) {
            return Err(NoiseError::InvalidFractal(
                "gain must be finite and positive",
            ));
        }
        if !(self.frequency.is_finite() && self.frequency > 0.0) {
            return Err(NoiseError::InvalidFractal(
                "frequency must be finite and positive",
            ));
        }
        let (mut amp, mut sum, mut freq) = (1.0f64, 0.0f64, self.frequency);
        for _ in 0..self.octaves {
            sum += amp;
            if !freq.is_finite() || freq == 0.0 {
                return Err(NoiseError::InvalidFractal(
                    "frequency * lacunarity^octave leaves the finite positive range",
                ));
            }
            amp *= self.gain;
            freq *= self.lacunarity;
        }
        if !sum.is_finite() {
            return Err(NoiseError::InvalidFractal("sum of gain^octave overflows"));
        }
        Ok(())
    }
}

/// Seeded N-dimensional simplex noise with kernel radius `r^2 = 1/2`.
///
/// Immutable after construction, `Send + Sync`, cheap to share.  Sampling
/// never allocates.  See the [module docs](super) for the algorithm, the
/// derivation of `r^2 = 1/2`, the gradient sets and the normalisation.
#[derive(Clone)]
pub struct Simplex {
    dims: usize,
    seed: u64,
    r2: f64,
    /// `F = (sqrt(N+1) - 1) / N`
    skew: f64,
    /// `G = (1 - 1/sqrt(N+1)) / N`
    unskew: f64,
    /// `1 / (MARGIN * B(N))`, adjusted for non-default radii.
    norm: f64,
    /// Seeded permutation of `0..256`, repeated twice.
    perm: Box<[u8; 512]>,
    /// 256 gradients of `dims` entries each, row-major.
    grads: Box<[f64]>,
}

impl fmt::Debug for Simplex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simplex")
            .field("dims", &self.dims)
            .field("seed", &self.seed)
            .field("radius_squared", &self.r2)
            .finish_non_exhaustive()
    }
}

fn check_dims(dims: usize) -> Result<(), NoiseError> {
    if dims == 0 {
        Err(NoiseError::ZeroDims)
    } else if dims > MAX_DIMS {
        Err(NoiseError::TooManyDims {
            dims,
            max: MAX_DIMS,
        })
    } else {
        Ok(())
    }
}

fn check_finite(coords: &[f64]) -> Result<(), NoiseError> {
    match coords.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(NoiseError::NonFinite {
            index,
            value: coords[index],
        }),
        None => Ok(()),
    }
}

fn check_scale(scale: f64) -> Result<(), NoiseError> {
    if scale.is_finite() && scale > 0.0 {
        Ok(())
    } else {
        Err(NoiseError::InvalidScale(scale))
    }
}

/// Exactly `y.floor()` for finite `y`, without the libm call that
/// `f64::floor` compiles to on baseline x86-64 (no SSE4.1 `roundsd`).
#[inline(always)]
fn fast_floor(y: f64) -> f64 {
    // |y| >= 2^52: every such f64 is already an integer.
    if y.abs() < 4_503_599_627_370_496.0 {
        let t = y as i64 as f64; // truncation towards zero, exact here
                                 // branch-free correction for negative non-integers; copysign only
                                 // matters for y == -0.0 (floor(-0.0) == -0.0)
        (t - f64::from(u8::from(t > y))).copysign(y)
    } else {
        y
    }
}

/// `[-1, 1] -> 0..=255`.
fn to_gray(v: f64) -> u8 {
    ((v + 1.0) * 127.5).round().clamp(0.0, 255.0) as u8
}

impl Simplex {
    /// A noise field over `R^dims` with the continuous kernel radius
    /// `r^2 = R2 = 1/2`.
    ///
    /// Errors: [`NoiseError::ZeroDims`], [`NoiseError::TooManyDims`]
    /// (`dims > MAX_DIMS`).
    pub fn new(dims: usize, seed: u64) -> Result<Simplex, NoiseError> {
        Simplex::build(dims, seed, R2)
    }

    /// Like [`Simplex::new`] but with a different squared kernel radius.
    ///
    /// **Only for demonstrating why `r^2 = 1/2` is needed**: with
    /// `r2 > 1/2` the kernel of a vertex does not vanish on its opposite
    /// facet and the field jumps whenever the point crosses a facet (the
    /// classic 3-D/4-D `0.6` has this defect); with `r2 < 1/2` the field is
    /// continuous but has flat dead zones.  The normalisation for
    /// `r2 != 1/2` is the `r^2 = 1/2` one scaled by `(1/2 / r2)^4.5`, a
    /// heuristic; values are still clamped to `[-1, 1]`.
    ///
    /// Errors: as [`Simplex::new`], plus [`NoiseError::InvalidRadius`] when
    /// `r2` is not finite and positive.
    pub fn with_radius_squared(dims: usize, seed: u64, r2: f64) -> Result<Simplex, NoiseError> {
        if !(r2.is_finite() && r2 > 0.0) {
            return Err(NoiseError::InvalidRadius(r2));
        }
        Simplex::build(dims, seed, r2)
    }

    fn build(dims: usize, seed: u64, r2: f64) -> Result<Simplex, NoiseError> {
        check_dims(dims)?;
        let n = dims as f64;
        let root = (n + 1.0).sqrt();
        let skew = (root - 1.0) / n;
        let unskew = (1.0 - 1.0 / root) / n;

        // Permutation of 0..256 (Fisher-Yates), repeated to 512 entries so
        // that `perm[h + c]` with `h, c < 256` needs no wrap.
        let mut rng = SplitMix64(seed ^ 0x5349_4D50_4C45_5831); // "SIMPLEX1"
        let mut p: [u8; 256] = std::array::from_fn(|i| i as u8);
        for i in (1..256).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            p.swap(i, j);
        }
        let perm: Box<[u8; 512]> = Box::new(std::array::from_fn(|i| p[i & 255]));

        // 256 gradients drawn uniformly from the gradient set of `dims`.
        let mut grads = vec![0.0f64; 256 * dims].into_boxed_slice();
        for row in grads.chunks_exact_mut(dims) {
            match dims {
                1 => {
                    let m = 1.0 + rng.below(8) as f64;
                    row[0] = if rng.next_u64() & 1 == 1 { -m } else { m };
                }
                2 => {
                    const SET2: [[f64; 2]; 8] = [
                        [1.0, 0.0],
                        [-1.0, 0.0],
                        [0.0, 1.0],
                        [0.0, -1.0],
                        [1.0, 1.0],
                        [-1.0, 1.0],
                        [1.0, -1.0],
                        [-1.0, -1.0],
                    ];
                    row.copy_from_slice(&SET2[rng.below(8) as usize]);
                }
                _ => {
                    let zero = rng.below(dims as u64) as usize;
                    let signs = rng.next_u64();
                    for (i, g) in row.iter_mut().enumerate() {
                        *g = if i == zero {
                            0.0
                        } else if (signs >> i) & 1 == 1 {
                            -1.0
                        } else {
                            1.0
                        };
                    }
                }
            }
        }

        let norm = (R2 / r2).powf(4.5) / (MARGIN * BOUND[dims - 1]);
        Ok(Simplex {
            dims,
            seed,
            r2,
            skew,
            unskew,
            norm,
            perm,
            grads,
        })
    }

    /// Number of dimensions.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// The seed the field was built from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The squared kernel radius (`R2` unless built with
    /// [`Simplex::with_radius_squared`]).
    pub fn radius_squared(&self) -> f64 {
        self.r2
    }

    fn check_point(&self, point: &[f64]) -> Result<(), NoiseError> {
        if point.len() != self.dims {
            return Err(NoiseError::PointLength {
                expected: self.dims,
                got: point.len(),
            });
        }
        check_finite(point)
    }

    /// Noise value in `[-1, 1]` at `point` (`point.len() == dims`).
    ///
    /// Errors: [`NoiseError::PointLength`], [`NoiseError::NonFinite`].
    pub fn sample(&self, point: &[f64]) -> Result<f64, NoiseError> {
        self.check_point(point)?;
        Ok(self.finish(self.raw(point)))
    }

    /// Evaluates a row-major batch: `points` holds `out.len()` points of
    /// `dims` coordinates each.  The whole batch is validated before any
    /// output is written; then every point goes through the unchecked inner
    /// path (monomorphised per dimension class).
    ///
    /// Errors: [`NoiseError::BatchLength`] when
    /// `points.len() != out.len() * dims`; [`NoiseError::NonFinite`] with
    /// `index` the position in the flat `points` buffer.
    pub fn sample_many(&self, points: &[f64], out: &mut [f64]) -> Result<(), NoiseError> {
        let n = self.dims;
        if out.len().checked_mul(n) != Some(points.len()) {
            return Err(NoiseError::BatchLength {
                points: points.len(),
                outputs: out.len(),
                dims: n,
            });
        }
        check_finite(points)?;
        match n {
            1 => self.batch::<1>(1, points, out),
            2 => self.batch::<2>(2, points, out),
            3 => self.batch::<3>(3, points, out),
            4 => self.batch::<4>(4, points, out),
            5..=8 => self.batch::<8>(n, points, out),
            9..=16 => self.batch::<16>(n, points, out),
            _ => self.batch::<MAX_DIMS>(n, points, out),
        }
        Ok(())
    }

    fn batch<const CAP: usize>(&self, n: usize, points: &[f64], out: &mut [f64]) {
        for (p, o) in points.chunks_exact(n).zip(out.iter_mut()) {
            *o = self.finish(self.eval::<CAP, false>(n, p, &mut []));
        }
    }

    /// Value (as [`Simplex::sample`]) and analytic gradient `d value / d x`
    /// at `point`.  The gradient is that of the normalised field (the rare
    /// last-resort clamp, which never triggers in the tests, is ignored).
    ///
    /// Errors: as [`Simplex::sample`].
    pub fn gradient(&self, point: &[f64]) -> Result<(f64, Vec<f64>), NoiseError> {
        self.check_point(point)?;
        let n = self.dims;
        let mut grad = vec![0.0; n];
        let raw = match n {
            1 => self.eval::<1, true>(1, point, &mut grad),
            2 => self.eval::<2, true>(2, point, &mut grad),
            3 => self.eval::<3, true>(3, point, &mut grad),
            4 => self.eval::<4, true>(4, point, &mut grad),
            _ => self.eval::<MAX_DIMS, true>(n, point, &mut grad),
        };
        for g in &mut grad {
            *g *= self.norm;
        }
        Ok((self.finish(raw), grad))
    }

    /// Fractal sum of `fractal.octaves` octaves at `point`, in `[-1, 1]`
    /// (weighted mean of normalised octaves), see [`Fractal`].  With one
    /// octave it equals `sample(point * frequency)`.
    ///
    /// Errors: as [`Simplex::sample`], plus [`NoiseError::InvalidFractal`].
    pub fn fractal(&self, point: &[f64], fractal: &Fractal) -> Result<f64, NoiseError> {
        self.check_point(point)?;
        fractal.validate()?;
        Ok(self.fractal_unchecked(point, fractal))
    }

    fn fractal_unchecked(&self, point: &[f64], fractal: &Fractal) -> f64 {
        let n = self.dims;
        let mut buf = [0.0f64; MAX_DIMS];
        let (mut freq, mut amp, mut total, mut amp_sum) = (fractal.frequency, 1.0, 0.0, 0.0);
        for o in 0..fractal.octaves {
            let mut rng = SplitMix64(self.seed ^ u64::from(o).wrapping_mul(0xA076_1D64_78BD_642F));
            for i in 0..n {
                let off = if o == 0 { 0.0 } else { rng.unit() * 256.0 };
                let c = point[i] * freq + off;
                // Overflow of a huge coordinate times a huge frequency: fall
                // back to the largest finite coordinate (still deterministic).
                buf[i] = if c.is_finite() {
                    c
                } else {
                    f64::MAX.copysign(c)
                };
            }
            total += amp * self.finish(self.raw(&buf[..n]));
            amp_sum += amp;
            freq *= fractal.lacunarity;
            amp *= fractal.gain;
        }
        (total / amp_sum).clamp(-1.0, 1.0)
    }

    /// A `size x size` grayscale image (row-major, one byte per pixel) of a
    /// 2-D slice of the field: pixel `(row, col)` samples
    /// `x0 = col / size * scale`, `x1 = row / size * scale` and
    /// `x2.. = at` (`at.len() <= dims - 2`, missing coordinates are 0), with
    /// the value mapped `[-1, 1] -> 0..=255`.  For `dims == 1` the row
    /// coordinate is ignored (all rows are equal) and `at` must be empty.
    /// With `fractal` the pixels are [`Simplex::fractal`] values.
    ///
    /// Errors: [`NoiseError::ZeroImageSize`], [`NoiseError::InvalidScale`]
    /// (not finite and positive), [`NoiseError::PointLength`] when `at` is
    /// too long, [`NoiseError::NonFinite`] for `at`,
    /// [`NoiseError::InvalidFractal`].
    pub fn image_slice(
        &self,
        size: usize,
        scale: f64,
        at: &[f64],
        fractal: Option<&Fractal>,
    ) -> Result<Vec<u8>, NoiseError> {
        if size == 0 {
            return Err(NoiseError::ZeroImageSize);
        }
        if size > super::MAX_IMAGE_SIZE {
            return Err(NoiseError::ImageTooLarge {
                size,
                max: super::MAX_IMAGE_SIZE,
            });
        }
        check_scale(scale)?;
        let n = self.dims;
        let extra = n.saturating_sub(2);
        if at.len() > extra {
            return Err(NoiseError::PointLength {
                expected: extra,
                got: at.len(),
            });
        }
        check_finite(at)?;
        if let Some(f) = fractal {
            f.validate()?;
        }
        let mut p = [0.0f64; MAX_DIMS];
        p[2..2 + at.len()].copy_from_slice(at);
        let mut img = Vec::with_capacity(size * size);
        let step = scale / size as f64;
        for row in 0..size {
            if n >= 2 {
                p[1] = row as f64 * step;
            }
            for col in 0..size {
                p[0] = col as f64 * step;
                let v = match fractal {
                    None => self.finish(self.raw(&p[..n])),
                    Some(f) => self.fractal_unchecked(&p[..n], f),
                };
                img.push(to_gray(v));
            }
        }
        Ok(img)
    }

    /// A smooth regression data set: `samples` points drawn uniformly from
    /// `[0, scale)^dims` with the splitmix64 stream of `seed` (independent of
    /// the field's own seed), and their noise values.  Returns
    /// `(points, values)` with `points` row-major (`samples x dims`).
    ///
    /// Errors: [`NoiseError::InvalidScale`] (not finite and positive).
    ///
    /// # Panics
    ///
    /// If `samples * dims` overflows `usize`.
    pub fn dataset(
        &self,
        samples: usize,
        scale: f64,
        seed: u64,
    ) -> Result<(Vec<f64>, Vec<f64>), NoiseError> {
        check_scale(scale)?;
        let len = samples
            .checked_mul(self.dims)
            .expect("dataset size overflows usize");
        let mut rng = SplitMix64(seed);
        let points: Vec<f64> = (0..len).map(|_| rng.unit() * scale).collect();
        let mut values = vec![0.0; samples];
        self.sample_many(&points, &mut values)?;
        Ok((points, values))
    }

    /// The general (`MAX_DIMS` capacity) code path, bypassing the
    /// specialised fast paths; exposed for tests that check both agree.
    #[doc(hidden)]
    pub fn sample_generic(&self, point: &[f64]) -> Result<f64, NoiseError> {
        self.check_point(point)?;
        Ok(self.finish(self.eval::<MAX_DIMS, false>(self.dims, point, &mut [])))
    }

    #[inline]
    fn finish(&self, raw: f64) -> f64 {
        (raw * self.norm).clamp(-1.0, 1.0)
    }

    /// Raw (unnormalised) kernel sum; `point.len() == dims`, finite.
    #[inline]
    fn raw(&self, point: &[f64]) -> f64 {
        let n = self.dims;
        match n {
            1 => self.eval::<1, false>(1, point, &mut []),
            2 => self.eval::<2, false>(2, point, &mut []),
            3 => self.eval::<3, false>(3, point, &mut []),
            4 => self.eval::<4, false>(4, point, &mut []),
            5..=8 => self.eval::<8, false>(n, point, &mut []),
            9..=16 => self.eval::<16, false>(n, point, &mut []),
            _ => self.eval::<MAX_DIMS, false>(n, point, &mut []),
        }
    }

    /// The single implementation of the kernel sum.  `CAP` is the capacity
    /// of the stack scratch arrays (`n <= CAP`); the fast paths call it with
    /// `CAP == n` as a constant so that every loop is unrolled, which yields
    /// exactly the same floating-point operations in the same order as the
    /// general path.  With `GRAD` the analytic gradient of the raw sum is
    /// accumulated into `grad[..n]` (which must be zeroed).
    #[inline(always)]
    fn eval<const CAP: usize, const GRAD: bool>(
        &self,
        n: usize,
        x: &[f64],
        grad: &mut [f64],
    ) -> f64 {
        debug_assert!(n <= CAP && x.len() == n);
        let x = &x[..n];
        // 1. skew
        let mut sum = 0.0;
        for &xi in x {
            sum += xi;
        }
        let s = sum * self.skew;
        // 2. cell (mod 256 via wrapping usize) and internal coordinates
        let mut cell = [0usize; CAP];
        let mut fr = [0.0f64; CAP];
        let mut fsum = 0.0;
        for i in 0..n {
            let y = x[i] + s;
            let c = fast_floor(y);
            fr[i] = y - c;
            cell[i] = c as i64 as usize;
            fsum += fr[i];
        }
        // Coordinates near f64::MAX can overflow the skew (y = inf, f = NaN);
        // the field is defined as 0 there (a predictable, never-taken branch).
        if !fsum.is_finite() {
            return 0.0;
        }
        // 3. vertex order: the rank of axis i in the stable descending sort
        //    of the internal coordinates (ties: lower index first).  Vertex k
        //    of the simplex is `c + sum of e_i over axes with rank[i] < k`.
        //    Computed branch-free by counting, O(N^2) comparisons.
        let mut rank = [0usize; CAP];
        for i in 0..n {
            let v = fr[i];
            let mut r = 0usize;
            for &w in &fr[..i] {
                r += usize::from(w >= v);
            }
            for &w in &fr[i + 1..n] {
                r += usize::from(w > v);
            }
            rank[i] = r;
        }
        // 4. offset to the cell origin in unskewed space
        let g0 = fsum * self.unskew;
        let mut d0 = [0.0f64; CAP];
        for i in 0..n {
            d0[i] = fr[i] - g0;
        }
        // 5. kernels of the N + 1 vertices
        let mut d = [0.0f64; CAP];
        let mut value = 0.0;
        for k in 0..=n {
            let kg = k as f64 * self.unskew;
            let mut dd = 0.0;
            for i in 0..n {
                let di = d0[i] + kg - f64::from(u8::from(rank[i] < k));
                d[i] = di;
                dd += di * di;
            }
            let t = self.r2 - dd;
            // For N <= 4 evaluating every vertex unconditionally (with the
            // kernel clamped at 0) avoids a badly predicted branch; a clamped
            // vertex adds exactly +-0, so only the sign of a zero result can
            // differ from the skipping path, and that is canonicalised below.
            let t = if CAP <= 4 { t.max(0.0) } else { t };
            if CAP <= 4 || t > 0.0 {
                let mut h: u8 = 0;
                for i in 0..n {
                    let c = cell[i].wrapping_add(usize::from(rank[i] < k));
                    h = self.perm[h as usize + (c & 255)];
                }
                let g = &self.grads[h as usize * n..][..n];
                let mut gd = 0.0;
                for i in 0..n {
                    gd += g[i] * d[i];
                }
                let t2 = t * t;
                let t4 = t2 * t2;
                value += t4 * gd;
                if GRAD {
                    let c = 8.0 * t2 * t * gd;
                    for i in 0..n {
                        grad[i] += t4 * g[i] - c * d[i];
                    }
                }
            }
        }
        // -0.0 -> +0.0, so that all code paths agree bit for bit
        value + 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_floor_is_floor() {
        let mut rng = SplitMix64(1);
        let check = |y: f64| assert_eq!(fast_floor(y).to_bits(), y.floor().to_bits(), "{y}");
        for y in [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.0,
            -1.0,
            1e-300,
            -1e-300,
            4.5e15,
            -4.5e15,
            4503599627370495.5,
            -4503599627370495.5,
            2f64.powi(52),
            -(2f64.powi(52)),
            2f64.powi(63),
            -(2f64.powi(63)),
            1e300,
            -1e300,
            f64::MAX,
            f64::MIN,
        ] {
            check(y);
        }
        for _ in 0..100_000 {
            let e = rng.below(130) as i32 - 65;
            let y = (rng.unit() * 2.0 - 1.0) * 2f64.powi(e);
            check(y);
            check(y.round());
        }
    }
}
