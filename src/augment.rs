//! Data augmentation for image inputs: each time a training image is drawn into a
//! mini-batch, it is moved by a random whole number of pixels (zeros fill the edge), so the
//! network sees a slightly different digit every epoch. Evaluation never augments.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::matrix::{Matrix, Scalar};
use crate::setting::Setting;

/// Random translations of `height × width` images stored row-major, one per example row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    /// Image width in pixels.
    pub width: usize,
    /// Image height in pixels.
    pub height: usize,
    /// Largest move in each direction, in pixels.
    pub max: usize,
}

impl Shift {
    /// Checks that the images fill rows of `features` values and the move is smaller than them.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming `--augment-shift`.
    pub fn validate(&self, features: usize) -> Result<()> {
        if self.width * self.height != features {
            return Err(Error::config(
                Setting::AugmentShift,
                format!(
                    "images of {}×{} pixels need {} inputs, the data has {features}",
                    self.height,
                    self.width,
                    self.width * self.height
                ),
            ));
        }
        if self.max == 0 || self.max >= self.width.min(self.height) {
            return Err(Error::config(
                Setting::AugmentShift,
                format!(
                    "the shift must be between 1 and {} pixels",
                    self.width.min(self.height).saturating_sub(1)
                ),
            ));
        }
        Ok(())
    }

    /// Moves every row of `x` (an image) by its own random (dy, dx) in [−max, max]².
    /// `scratch` is reused between calls, so this allocates nothing once it has grown.
    ///
    /// # Panics
    /// If a row of x is not `width × height` pixels.
    pub fn apply<T: Scalar>(&self, x: &mut Matrix<T>, scratch: &mut Vec<T>, rng: &mut impl Rng) {
        let (w, h, max) = (self.width as i64, self.height as i64, self.max as i64);
        scratch.resize(self.width * self.height, T::zero());
        for i in 0..x.rows() {
            let dy = rng.random_range(0..=2 * max) - max;
            let dx = rng.random_range(0..=2 * max) - max;
            if dx == 0 && dy == 0 {
                continue;
            }
            let row = x.row_mut(i);
            scratch.fill(T::zero());
            for r in 0..h {
                let source_r = r - dy;
                if source_r < 0 || source_r >= h {
                    continue;
                }
                for c in 0..w {
                    let source_c = c - dx;
                    if source_c >= 0 && source_c < w {
                        scratch[(r * w + c) as usize] = row[(source_r * w + source_c) as usize];
                    }
                }
            }
            row.copy_from_slice(scratch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_shift_moves_the_pixels_and_fills_the_edge_with_zeros() {
        // A 3×3 image with one lit pixel in the middle; whatever the move, it stays one pixel.
        let shift = Shift {
            width: 3,
            height: 3,
            max: 1,
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let mut scratch = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let mut x =
                Matrix::from_vec(1, 9, vec![0.0f64, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0])
                    .unwrap();
            shift.apply(&mut x, &mut scratch, &mut rng);
            assert_eq!(x.as_slice().iter().sum::<f64>(), 1.0);
            seen.insert(x.as_slice().iter().position(|&v| v == 1.0).unwrap());
        }
        assert_eq!(seen.len(), 9, "every position within one pixel is reached");
        assert!(Shift {
            width: 3,
            height: 3,
            max: 1
        }
        .validate(10)
        .is_err());
        assert!(Shift {
            width: 3,
            height: 3,
            max: 3
        }
        .validate(9)
        .is_err());
    }
}
