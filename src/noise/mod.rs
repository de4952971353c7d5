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
//! # How it works
//!
//! A point is skewed onto the integer lattice, the simplex of the Kuhn triangulation that
//! holds it is found, and each of its `N + 1` corners adds `max(0, r^2 - |d|^2)^4 (g . d)`
//! for a hashed gradient `g`; the sum is normalised to `[-1, 1]`. The kernel radius is
//! `r^2 = 1/2` in every dimension: at most the simplex's height, so the field is continuous
//! across simplices (the classic `r^2 = 0.6` is not; see
//! [`Simplex::with_radius_squared`]), and the analytic gradient is exact. Beyond about 8
//! dimensions most of space is far from every corner, and the field is mostly zero.
//!
//! The algorithm step by step, the proof of continuity, the gradient sets, the
//! normalisation and the coverage measurements are in `docs/noise.md`.
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
