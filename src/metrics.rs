//! How well a network does on a data set: the mean cost C, and accuracy and a confusion
//! matrix for classification, or RMSE, MAE and R² for regression.

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::error::Result;
use crate::matrix::Scalar;
use crate::network::{Network, Pass};

/// The examples forwarded at once during evaluation (bounds the memory of a pass).
const EVAL_CHUNK: usize = 1000;

/// The result of [`evaluate`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Number of examples.
    pub n: usize,
    /// `C = (1/n) Σ_x c_x`.
    pub cost: f64,
    /// Fraction of examples whose largest output is the true class (classification).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<f64>,
    /// The mean of F1 = 2 precision recall / (precision + recall) over the classes present in
    /// the true labels or the predictions (classification), as scikit-learn's
    /// `f1_score(average='macro')`: a class the model knows but that is neither true nor
    /// predicted for any example does not count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macro_f1: Option<f64>,
    /// `confusion[true][predicted]` counts (classification).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confusion: Option<Vec<Vec<usize>>>,
    /// Root mean squared error over all outputs (regression).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rmse: Option<f64>,
    /// Mean absolute error over all outputs (regression).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mae: Option<f64>,
    /// Coefficient of determination `1 − SS_res / SS_tot`, pooled over outputs (regression).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r2: Option<f64>,
}

/// Macro-averaged F1 from a confusion matrix (`confusion[true][predicted]`): the mean of
/// `2 TP / (predicted + actual)` over the classes with `predicted + actual > 0` (the classes
/// present in the truth or the predictions, as scikit-learn). NaN when there is no such class.
pub fn macro_f1(confusion: &[Vec<usize>]) -> f64 {
    let (mut sum, mut present) = (0.0, 0usize);
    for (c, true_row) in confusion.iter().enumerate() {
        let tp = true_row[c] as f64;
        let predicted: usize = confusion.iter().map(|row| row[c]).sum();
        let actual: usize = true_row.iter().sum();
        if predicted + actual > 0 {
            sum += 2.0 * tp / (predicted + actual) as f64;
            present += 1;
        }
    }
    if present == 0 {
        f64::NAN
    } else {
        sum / present as f64
    }
}

/// The index of the largest value (the first one on ties; NaNs are passed over, and 0 for
/// an empty row or one of NaNs only).
pub fn argmax<T: Scalar>(row: &[T]) -> usize {
    let mut best: Option<usize> = None;
    for (j, v) in row.iter().enumerate() {
        if !v.is_nan() && best.is_none_or(|b| *v > row[b]) {
            best = Some(j);
        }
    }
    best.unwrap_or(0)
}

/// Evaluates `net` on `data`: classification metrics when the data has labels, regression
/// metrics otherwise.
///
/// # Errors
/// When the data does not fit the network.
pub fn evaluate<T: Scalar>(net: &Network<T>, data: &Dataset<T>) -> Result<Evaluation> {
    data.check()?;
    net.check_batch(&data.x, Some(&data.y))?;
    let n = data.len();
    let last = net.last();
    let n_out = net.sizes()[last];
    let mut pass = Pass::new(net.sizes(), EVAL_CHUNK.min(n));
    let mut cost = 0.0;
    let mut confusion = vec![vec![0usize; n_out]; n_out];
    let (mut sse, mut sae) = (0.0, 0.0);
    let mut start = 0;
    while start < n {
        let end = (start + EVAL_CHUNK).min(n);
        let rows: Vec<usize> = (start..end).collect();
        net.fit_pass(&mut pass, rows.len());
        crate::data::gather_rows_into(&data.x, &rows, &mut pass.a[0]);
        net.forward_pass(&mut pass);
        let (z, a) = (&pass.z[last], &pass.a[last]);
        for (r, &i) in rows.iter().enumerate() {
            let y = data.y.row(i);
            cost += net
                .cost()
                .c_x(net.g(last), z.row(r), a.row(r), y)
                .to_f64()
                .unwrap_or(f64::NAN);
            if let Some(labels) = &data.labels {
                let predicted = argmax(a.row(r));
                if labels[i] < n_out {
                    confusion[labels[i]][predicted] += 1;
                }
            }
            for (&a, &y) in a.row(r).iter().zip(y) {
                let d = (a - y).to_f64().unwrap_or(f64::NAN);
                sse += d * d;
                sae += d.abs();
            }
        }
        start = end;
    }
    let mut eval = Evaluation {
        n,
        cost: cost / n as f64,
        accuracy: None,
        macro_f1: None,
        confusion: None,
        rmse: None,
        mae: None,
        r2: None,
    };
    if data.labels.is_some() {
        let correct: usize = (0..n_out).map(|c| confusion[c][c]).sum();
        eval.accuracy = Some(correct as f64 / n as f64);
        eval.macro_f1 = Some(macro_f1(&confusion));
        eval.confusion = Some(confusion);
    } else {
        let count = (n * n_out) as f64;
        eval.rmse = Some((sse / count).sqrt());
        eval.mae = Some(sae / count);
        // SS_tot around each output column's mean
        let mut ss_tot = 0.0;
        for j in 0..n_out {
            let mean = (0..n)
                .map(|i| data.y[(i, j)].to_f64().unwrap_or(0.0))
                .sum::<f64>()
                / n as f64;
            ss_tot += (0..n)
                .map(|i| (data.y[(i, j)].to_f64().unwrap_or(0.0) - mean).powi(2))
                .sum::<f64>();
        }
        eval.r2 = Some(if ss_tot > 0.0 {
            1.0 - sse / ss_tot
        } else {
            f64::NAN
        });
    }
    Ok(eval)
}

#[cfg(test)]
mod tests {
    use super::macro_f1;

    #[test]
    fn macro_f1_leaves_out_classes_neither_true_nor_predicted() {
        // One example of class 0, predicted right; classes 1 and 2 never appear:
        // scikit-learn's f1_score([0], [0], average='macro') = 1.
        let one_right = vec![vec![1, 0, 0], vec![0, 0, 0], vec![0, 0, 0]];
        assert_eq!(macro_f1(&one_right), 1.0);
        // True 0 and 1, predicted 0 and 0: F1 of class 0 = 2/3, of class 1 = 0; class 2
        // absent. scikit-learn: f1_score([0, 1], [0, 0], average='macro') = 1/3.
        let half_right = vec![vec![1, 0, 0], vec![1, 0, 0], vec![0, 0, 0]];
        assert!((macro_f1(&half_right) - 1.0 / 3.0).abs() < 1e-15);
        // A class predicted but never true counts (F1 = 0): f1_score([0], [2]) = 0.
        let wrong = vec![vec![0, 0, 1], vec![0, 0, 0], vec![0, 0, 0]];
        assert_eq!(macro_f1(&wrong), 0.0);
        assert!(macro_f1(&[]).is_nan());
    }
}
