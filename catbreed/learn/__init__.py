"""Learning a head on a dataset: cached features, cross-validated estimates, calibration, training, evaluation."""
