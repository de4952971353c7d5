//! The element type [`Scalar`] (f32 or f64) and the element-wise arithmetic every module
//! shares: a vectorisable f32 `e^x` ([`exp_f32`]) and [`vectorized`], which compiles plain
//! loops for the widest vector instructions of the CPU.

use std::fmt::{Debug, Display};

use crate::kernels::Kernels;

/// The element type: `f32` (fast, the default) or `f64` (for exact checks).
///
/// Sealed (implemented for f32 and f64 only): one code path serves both, and the kernels
/// that run each type's products are chosen in [`crate::kernels`].
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
    + Kernels
{
    /// The name used in model files and on the command line ("f32" or "f64").
    const NAME: &'static str;

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

impl Scalar for f32 {
    const NAME: &'static str = "f32";
    #[inline(always)]
    fn exp_fast(self) -> f32 {
        exp_f32(self)
    }
}

impl Scalar for f64 {
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn exp_fast(self) -> f64 {
        self.exp()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
