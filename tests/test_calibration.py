import numpy as np
import pytest

from catbreed.learn.calibration import (
    MIN_TEMPERATURE,
    calibrated,
    expected_calibration_error,
    fit_temperature,
    log_loss,
)


def overconfident_logits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores whose softmax is right 70% of the time while claiming about 99%."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, n)
    answers = np.where(rng.random(n) < 0.7, labels, rng.integers(0, 4, n))
    logits = rng.normal(scale=0.3, size=(n, 4))
    logits[np.arange(n), answers] += 6.0
    return logits, labels


def test_temperature_lowers_the_calibration_error_of_overconfident_scores():
    logits, labels = overconfident_logits(2000, seed=0)
    temperature = fit_temperature(logits, labels)
    assert temperature > 1  # over-confident scores are softened
    before = expected_calibration_error(calibrated(logits, 1.0), labels)
    after = expected_calibration_error(calibrated(logits, temperature), labels)
    assert before > 0.2 and after < 0.05
    assert log_loss(logits, labels, temperature) < log_loss(logits, labels)


def test_temperature_never_changes_the_answer():
    logits, _ = overconfident_logits(100, seed=1)
    assert (calibrated(logits, 3.0).argmax(1) == logits.argmax(1)).all()


def test_a_perfectly_calibrated_case_has_no_error():
    probabilities = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert expected_calibration_error(probabilities, np.array([0, 1])) == 0.0


def test_all_right_answers_are_not_sharpened_without_limit():
    logits = np.array([[2.0, 0.0], [0.0, 2.0], [3.0, 1.0]])
    assert fit_temperature(logits, np.array([0, 1, 0])) == pytest.approx(MIN_TEMPERATURE, rel=1e-3)


def test_coverage_falls_and_accuracy_rises_with_the_threshold():
    from catbreed.learn.calibration import coverage_curve

    probabilities = np.array([[0.95, 0.05], [0.9, 0.1], [0.6, 0.4], [0.55, 0.45]])
    labels = np.array([0, 0, 1, 0])  # the 0.6 answer is wrong
    curve = dict((t, (c, a)) for t, c, a in coverage_curve(probabilities, labels, steps=10))
    assert curve[0.0] == (1.0, 0.75) and curve[0.6] == (0.75, 2 / 3) and curve[0.7] == (0.5, 1.0)
    assert curve[1.0] == (0.0, 1.0)  # nothing answered: nothing wrong
