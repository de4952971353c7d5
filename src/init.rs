//! Initial weights and biases. Every draw comes from one ChaCha8 stream seeded by the user,
//! so the same seed gives the same network, bit for bit, on every machine.

use std::fmt;
use std::str::FromStr;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};
use serde::{Deserialize, Serialize};

use crate::matrix::{Matrix, Scalar};

/// How `W^[l]` and `b^[l]` are drawn (n_in = n_(l-1), n_out = n_l).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Init {
    /// `w ~ N(0, 1/n_in)`, `b ~ N(0, 1)`: Nielsen's network2.py default.
    #[default]
    Nielsen,
    /// Glorot/Xavier uniform: `w ~ U(−s, s)` with `s = sqrt(6 / (n_in + n_out))`, `b = 0`.
    Xavier,
    /// He normal: `w ~ N(0, 2/n_in)`, `b = 0` (for ReLU layers).
    He,
}

impl Init {
    /// All schemes, in the order the CLI lists them.
    pub const ALL: [Init; 3] = [Init::Nielsen, Init::Xavier, Init::He];

    /// The command-line and model-file name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Nielsen => "nielsen",
            Self::Xavier => "xavier",
            Self::He => "he",
        }
    }

    /// Draws `(W^[l], b^[l])` for every layer of `sizes` from one stream seeded by `seed`.
    pub fn draw<T: Scalar>(self, sizes: &[usize], seed: u64) -> Vec<(Matrix<T>, Vec<T>)> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut layers = Vec::with_capacity(sizes.len().saturating_sub(1));
        for pair in sizes.windows(2) {
            let (n_in, n_out) = (pair[0], pair[1]);
            let (fan_in, fan_out) = (n_in.max(1) as f64, n_out.max(1) as f64);
            let mut w = Matrix::zeros(n_out, n_in);
            let mut b = vec![T::zero(); n_out];
            match self {
                Self::Nielsen => {
                    let wd = Normal::new(0.0, (1.0 / fan_in).sqrt())
                        .expect("a positive standard deviation");
                    let bd = Normal::new(0.0, 1.0).expect("a positive standard deviation");
                    w.as_mut_slice()
                        .iter_mut()
                        .for_each(|w| *w = T::c(wd.sample(&mut rng)));
                    b.iter_mut().for_each(|b| *b = T::c(bd.sample(&mut rng)));
                }
                Self::Xavier => {
                    let s = (6.0 / (fan_in + fan_out)).sqrt();
                    let wd = Uniform::new(-s, s).expect("a non-empty range");
                    w.as_mut_slice()
                        .iter_mut()
                        .for_each(|w| *w = T::c(wd.sample(&mut rng)));
                }
                Self::He => {
                    let wd = Normal::new(0.0, (2.0 / fan_in).sqrt())
                        .expect("a positive standard deviation");
                    w.as_mut_slice()
                        .iter_mut()
                        .for_each(|w| *w = T::c(wd.sample(&mut rng)));
                }
            }
            layers.push((w, b));
        }
        layers
    }
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Init {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nielsen" | "normal" => Ok(Self::Nielsen),
            "xavier" | "glorot" => Ok(Self::Xavier),
            "he" | "kaiming" => Ok(Self::He),
            _ => Err(crate::Error::config(
                crate::Setting::Init,
                format!("unknown initialisation '{s}' (expected nielsen, xavier or he)"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bits_other_seed_other_bits() {
        let a = Init::Nielsen.draw::<f32>(&[5, 4, 3], 7);
        let b = Init::Nielsen.draw::<f32>(&[5, 4, 3], 7);
        let c = Init::Nielsen.draw::<f32>(&[5, 4, 3], 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn the_spreads_match_their_formulas() {
        let layers = Init::He.draw::<f64>(&[400, 300], 1);
        let w = layers[0].0.as_slice();
        let var = w.iter().map(|w| w * w).sum::<f64>() / w.len() as f64;
        assert!(
            (var - 2.0 / 400.0).abs() < 0.05 * 2.0 / 400.0,
            "He variance {var}"
        );
        let layers = Init::Xavier.draw::<f64>(&[400, 300], 1);
        let s = (6.0f64 / 700.0).sqrt();
        assert!(layers[0].0.as_slice().iter().all(|w| w.abs() <= s));
        assert!(layers[0].1.iter().all(|&b| b == 0.0));
        let layers = Init::Nielsen.draw::<f64>(&[100, 2000], 1);
        let b = &layers[0].1;
        let var = b.iter().map(|b| b * b).sum::<f64>() / b.len() as f64;
        assert!((var - 1.0).abs() < 0.1, "bias variance {var}");
    }
}
