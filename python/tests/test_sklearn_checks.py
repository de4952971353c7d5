"""scikit-learn's own estimator checks on both estimators, with max_iter=100 as scikit-learn checks its own MLPs."""

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from nabla import MLPClassifier, MLPRegressor

# Checks that cannot pass, with the reason (also listed in python/EXPECTED_FAILURES.md).
EXPECTED_FAILURES = {}


def _expected(estimator):
    return EXPECTED_FAILURES.get(type(estimator).__name__, {})


@parametrize_with_checks(
    [
        MLPClassifier(max_iter=100, random_state=0),
        MLPRegressor(max_iter=100, random_state=0),
    ],
    expected_failed_checks=_expected,
)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)
