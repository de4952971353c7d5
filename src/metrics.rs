//! How well a network does on a data set: the mean cost C, and accuracy and a confusion
//! matrix for classification, or RMSE, MAE and R² for regression.

use serde::{Deserialize, Serialize};

use crate::data::{Dataset, Scaling};
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
    /// RMSE of each output (regression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmse_per_target: Option<Vec<f64>>,
    /// MAE of each output (regression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mae_per_target: Option<Vec<f64>>,
    /// R² of each output (regression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r2_per_target: Option<Vec<f64>>,
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
    evaluate_in_units(net, data, None)
}

/// [`evaluate`] of a network that learns standardised targets: `data`'s targets are the
/// scaled ones `y' = (y − offset) · factor` (the cost C is theirs), and RMSE, MAE and R²
/// are computed in the targets' own units, from `targets`.
///
/// # Errors
/// As [`evaluate`].
pub fn evaluate_in_units<T: Scalar>(
    net: &Network<T>,
    data: &Dataset<T>,
    targets: Option<&Scaling>,
) -> Result<Evaluation> {
    data.check()?;
    net.check_batch(&data.x, Some(&data.y))?;
    let n = data.len();
    let last = net.last();
    let n_out = net.sizes()[last];
    let mut pass = Pass::new(net.sizes(), EVAL_CHUNK.min(n));
    let mut cost = 0.0;
    let mut confusion = vec![vec![0usize; n_out]; n_out];
    // Per output: the factor that takes a scaled difference back to the target's units.
    let unit: Vec<f64> = (0..n_out)
        .map(|j| targets.map_or(1.0, |s| 1.0 / s.factor.get(j).copied().unwrap_or(1.0)))
        .collect();
    let (mut sse, mut sae) = (vec![0.0; n_out], vec![0.0; n_out]);
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
            for (j, (&a, &y)) in a.row(r).iter().zip(y).enumerate() {
                let d = (a - y).to_f64().unwrap_or(f64::NAN) * unit[j];
                sse[j] += d * d;
                sae[j] += d.abs();
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
        rmse_per_target: None,
        mae_per_target: None,
        r2_per_target: None,
    };
    if data.labels.is_some() {
        let correct: usize = (0..n_out).map(|c| confusion[c][c]).sum();
        eval.accuracy = Some(correct as f64 / n as f64);
        eval.macro_f1 = Some(macro_f1(&confusion));
        eval.confusion = Some(confusion);
    } else {
        let count = (n * n_out) as f64;
        let (sse_all, sae_all) = (sse.iter().sum::<f64>(), sae.iter().sum::<f64>());
        eval.rmse = Some((sse_all / count).sqrt());
        eval.mae = Some(sae_all / count);
        // SS_tot around each output column's mean (in the targets' units)
        let mut ss_tot = vec![0.0; n_out];
        for j in 0..n_out {
            let value = |i: usize| data.y[(i, j)].to_f64().unwrap_or(0.0) * unit[j];
            let mean = (0..n).map(value).sum::<f64>() / n as f64;
            ss_tot[j] = (0..n).map(|i| (value(i) - mean).powi(2)).sum::<f64>();
        }
        let r2 = |sse: f64, ss_tot: f64| {
            if ss_tot > 0.0 {
                1.0 - sse / ss_tot
            } else {
                f64::NAN
            }
        };
        eval.r2 = Some(r2(sse_all, ss_tot.iter().sum()));
        eval.rmse_per_target = Some(sse.iter().map(|s| (s / n as f64).sqrt()).collect());
        eval.mae_per_target = Some(sae.iter().map(|s| s / n as f64).collect());
        eval.r2_per_target = Some(sse.iter().zip(&ss_tot).map(|(&s, &t)| r2(s, t)).collect());
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
