//! Data sets: inputs x and targets y as matrices with one example per row, mini-batches,
//! input scaling, and the readers for real formats (IDX for MNIST, CSV).

pub mod csv;
pub mod encoding;
pub mod frame;
pub mod idx;
pub mod source;
pub mod tabular;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::matrix::{Matrix, Scalar};

/// Examples for training or evaluation: row i of `x` is the input of example i, row i of
/// `y` its target. For classification, `labels[i]` is the class index and `y` its one-hot
/// vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset<T = f32> {
    /// Inputs, n × n_0.
    pub x: Matrix<T>,
    /// Targets, n × n_L.
    pub y: Matrix<T>,
    /// Class index of each example (classification only).
    pub labels: Option<Vec<usize>>,
}

impl<T: Scalar> Dataset<T> {
    /// A regression (or any real-target) data set.
    ///
    /// # Errors
    /// [`Error::Empty`] with no rows, [`Error::Shape`] when x and y differ in rows,
    /// [`Error::NonFinite`] for NaN or inf.
    pub fn new(x: Matrix<T>, y: Matrix<T>) -> Result<Self> {
        let data = Dataset { x, y, labels: None };
        data.validate()?;
        Ok(data)
    }

    /// A classification data set: `y` is the one-hot encoding of `labels` over `classes`.
    ///
    /// # Errors
    /// As [`Dataset::new`], and [`Error::Shape`] for a label ≥ `classes`.
    pub fn classification(x: Matrix<T>, labels: Vec<usize>, classes: usize) -> Result<Self> {
        if let Some(i) = labels.iter().position(|&c| c >= classes) {
            return Err(Error::shape(
                format!("label of example {i}"),
                format!("a class index below {classes}"),
                labels[i],
            ));
        }
        if labels
            .len()
            .checked_mul(classes)
            .is_none_or(|n| n > isize::MAX as usize / 8)
        {
            return Err(Error::shape(
                "classes",
                "a number of classes that fits in memory",
                classes,
            ));
        }
        let mut y = Matrix::zeros(labels.len(), classes);
        for (i, &c) in labels.iter().enumerate() {
            y[(i, c)] = T::one();
        }
        let data = Dataset {
            x,
            y,
            labels: Some(labels),
        };
        data.validate()?;
        Ok(data)
    }

    /// Checks what the constructors check, for a data set whose public fields were changed
    /// since: at least one example, as many rows of y (and labels) as of x, every value
    /// finite, every label a column of y. Training and evaluation call it first.
    ///
    /// # Errors
    /// [`Error::Empty`], [`Error::Shape`] or [`Error::NonFinite`].
    pub fn check(&self) -> Result<()> {
        self.validate()
    }

    fn validate(&self) -> Result<()> {
        if let Some(labels) = &self.labels {
            if labels.len() != self.x.rows() {
                return Err(Error::shape(
                    "labels",
                    format!("{} labels (one per input)", self.x.rows()),
                    labels.len(),
                ));
            }
            if let Some(i) = labels.iter().position(|&c| c >= self.y.cols()) {
                return Err(Error::shape(
                    format!("label of example {i}"),
                    format!("a class index below {}", self.y.cols()),
                    labels[i],
                ));
            }
        }
        if self.x.rows() == 0 {
            return Err(Error::Empty {
                what: "data set".into(),
            });
        }
        if self.x.rows() != self.y.rows() {
            return Err(Error::shape(
                "targets y",
                format!("{} rows (one per input)", self.x.rows()),
                format!("{} rows", self.y.rows()),
            ));
        }
        if let Some((i, j, v)) = self.x.find_non_finite() {
            return Err(Error::NonFinite {
                what: "input x".into(),
                row: i,
                column: j,
                value: v.to_string(),
            });
        }
        if let Some((i, j, v)) = self.y.find_non_finite() {
            return Err(Error::NonFinite {
                what: "target y".into(),
                row: i,
                column: j,
                value: v.to_string(),
            });
        }
        Ok(())
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.x.rows()
    }
    /// Whether there are no examples (never true for a validated data set).
    pub fn is_empty(&self) -> bool {
        self.x.rows() == 0
    }
    /// Number of input features n_0.
    pub fn features(&self) -> usize {
        self.x.cols()
    }
    /// Number of target columns n_L.
    pub fn outputs(&self) -> usize {
        self.y.cols()
    }

    /// The same data in another precision.
    pub fn cast<U: Scalar>(&self) -> Dataset<U> {
        Dataset {
            x: self.x.cast(),
            y: self.y.cast(),
            labels: self.labels.clone(),
        }
    }

    /// The examples at `indices`, in that order.
    ///
    /// # Panics
    /// If an index is not a row of the data set.
    pub fn select(&self, indices: &[usize]) -> Dataset<T> {
        let mut x = Matrix::zeros(indices.len(), self.x.cols());
        let mut y = Matrix::zeros(indices.len(), self.y.cols());
        gather_rows_into(&self.x, indices, &mut x);
        gather_rows_into(&self.y, indices, &mut y);
        Dataset {
            x,
            y,
            labels: self
                .labels
                .as_ref()
                .map(|l| indices.iter().map(|&i| l[i]).collect()),
        }
    }
}

/// Copies rows `indices` of `src` into the first rows of `dst` (`dst` must already have
/// `indices.len()` rows). Allocates nothing: this is how mini-batches are gathered.
///
/// # Panics
/// If an index is not a row of `src`, or `dst` has fewer rows or other columns.
pub fn gather_rows_into<T: Scalar>(src: &Matrix<T>, indices: &[usize], dst: &mut Matrix<T>) {
    debug_assert_eq!(dst.rows(), indices.len());
    for (r, &i) in indices.iter().enumerate() {
        dst.row_mut(r).copy_from_slice(src.row(i));
    }
}

/// The mean and standard deviation of column `j`, computed on the column divided by its
/// largest magnitude L (so no sum overflows) and scaled back; both are at most L.
fn mean_and_sd_without_overflow<T: Scalar>(x: &Matrix<T>, j: usize) -> (f64, f64) {
    let n = x.rows().max(1) as f64;
    let column = || (0..x.rows()).map(|i| x[(i, j)].to_f64().unwrap_or(0.0));
    let largest = column().fold(0.0f64, |m, v| m.max(v.abs()));
    if largest == 0.0 || !largest.is_finite() {
        return (0.0, 1.0);
    }
    let mean_over_largest = column().map(|v| v / largest / n).sum::<f64>();
    let variance_over_largest_squared = column()
        .map(|v| (v / largest - mean_over_largest).powi(2) / n)
        .sum::<f64>();
    (
        mean_over_largest * largest,
        largest * variance_over_largest_squared.sqrt(),
    )
}

/// An affine input scaling fitted on training data and stored with the model:
/// `x'_k = (x_k − offset_k) · factor_k`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    /// Subtracted from each feature.
    pub offset: Vec<f64>,
    /// Then multiplied into each feature.
    pub factor: Vec<f64>,
}

impl Scaling {
    /// Standardisation: offset = mean, factor = 1 / standard deviation (1 for a constant feature).
    /// A column whose sum or sum of squares overflows f64 (values near 1e300) is computed again
    /// divided by its largest magnitude, so that its factor is not 1/inf = 0.
    pub fn standardize<T: Scalar>(x: &Matrix<T>) -> Scaling {
        let (n, d) = (x.rows().max(1) as f64, x.cols());
        let mut mean = vec![0.0; d];
        for i in 0..x.rows() {
            for (m, v) in mean.iter_mut().zip(x.row(i)) {
                *m += v.to_f64().unwrap_or(0.0);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0; d];
        for i in 0..x.rows() {
            for ((s, v), m) in var.iter_mut().zip(x.row(i)).zip(&mean) {
                let dv = v.to_f64().unwrap_or(0.0) - m;
                *s += dv * dv;
            }
        }
        let mut sd: Vec<f64> = var.iter().map(|s| (s / n).sqrt()).collect();
        for j in 0..d {
            if !(mean[j].is_finite() && sd[j].is_finite()) {
                (mean[j], sd[j]) = mean_and_sd_without_overflow(x, j);
            }
        }
        let factor = sd
            .into_iter()
            .map(|sd| if sd > 1e-12 { 1.0 / sd } else { 1.0 });
        Scaling {
            offset: mean,
            factor: factor.collect(),
        }
    }

    /// Applies the scaling in place.
    ///
    /// # Errors
    /// [`Error::Shape`] when x has another number of features.
    pub fn apply<T: Scalar>(&self, x: &mut Matrix<T>) -> Result<()> {
        if x.cols() != self.offset.len() {
            return Err(Error::shape("input features", self.offset.len(), x.cols()));
        }
        for i in 0..x.rows() {
            self.apply_row(x.row_mut(i))?;
        }
        Ok(())
    }

    /// Undoes the scaling in place, `x = x' / factor + offset` on each column: for the
    /// outputs of a network trained on standardised targets.
    ///
    /// # Errors
    /// [`Error::Shape`] when x has another number of columns.
    pub fn unapply<T: Scalar>(&self, x: &mut Matrix<T>) -> Result<()> {
        if x.cols() != self.offset.len() {
            return Err(Error::shape("outputs", self.offset.len(), x.cols()));
        }
        for i in 0..x.rows() {
            self.unapply_row(x.row_mut(i))?;
        }
        Ok(())
    }

    /// [`Scaling::unapply`] of one row.
    ///
    /// # Errors
    /// [`Error::Shape`] when x has another number of columns.
    pub fn unapply_row<T: Scalar>(&self, x: &mut [T]) -> Result<()> {
        if x.len() != self.offset.len() {
            return Err(Error::shape("outputs", self.offset.len(), x.len()));
        }
        for ((v, &o), &f) in x.iter_mut().zip(&self.offset).zip(&self.factor) {
            *v = T::c(v.to_f64().unwrap_or(f64::NAN) / f + o);
        }
        Ok(())
    }

    /// Applies the scaling in place to one example's features (for a
    /// [`crate::Predictor`]): the same numbers as [`Scaling::apply`] gives that row.
    ///
    /// # Errors
    /// [`Error::Shape`] when x has another number of features.
    pub fn apply_row<T: Scalar>(&self, x: &mut [T]) -> Result<()> {
        if x.len() != self.offset.len() {
            return Err(Error::shape("input features", self.offset.len(), x.len()));
        }
        for ((v, &o), &f) in x.iter_mut().zip(&self.offset).zip(&self.factor) {
            *v = T::c((v.to_f64().unwrap_or(0.0) - o) * f);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardizing_values_whose_squares_overflow_keeps_the_feature() {
        let x = Matrix::from_vec(3, 2, vec![1e300, 1.0, -1e300, 2.0, 0.0, 3.0]).unwrap();
        let s = Scaling::standardize(&x);
        // Column 0: mean 0, standard deviation 1e300 · sqrt(2/3); not 1/inf = 0.
        assert_eq!(s.offset[0], 0.0);
        let expected = 1.0 / (1e300 * (2.0f64 / 3.0).sqrt());
        assert!(
            (s.factor[0] / expected - 1.0).abs() < 1e-12,
            "{:?}",
            s.factor
        );
        // Column 1 as before, bit for bit.
        assert_eq!(s.offset[1], 2.0);
        assert_eq!(s.factor[1], 1.0 / (2.0f64 / 3.0).sqrt());
    }
}
