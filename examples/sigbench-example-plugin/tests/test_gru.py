"""The GRU trains, learns a sine, counts its cost, and refuses a window it cannot split."""

import numpy as np
import pytest
from sigbench_example.gru import GRU

from sigbench import ValidationError, sliding_windows


def test_window_must_split_into_timesteps():
    x = np.sin(0.1 * np.arange(200))
    with pytest.raises(ValidationError, match="divisible"):
        GRU(units=(2,), timesteps=5, epochs=1).fit(sliding_windows(x[:-1], 16), x[16:])


@pytest.mark.parametrize("kwargs", [{"units": ()}, {"units": (0,)}, {"timesteps": 0}, {"learning_rate": -1.0}])
def test_invalid_parameters(kwargs):
    with pytest.raises(ValidationError):
        GRU(**kwargs)


@pytest.mark.slow
def test_learns_a_sine_and_counts_macs():
    x = np.sin(0.2 * np.arange(1200))
    X = sliding_windows(x[:-1], 16)
    gru = GRU(units=(8,), timesteps=16, epochs=15, patience=None, seed=0).fit(X[:900], x[16:916])
    pred = gru.predict(X[900:])
    assert np.mean((pred - x[916:]) ** 2) < 0.1 * np.var(x)
    # one GRU layer of 8 units over 16 steps of 1 feature: 16·(3·8·(1+8) + 3·8) = 3840, plus Dense(8→1) and 16 + 1
    assert gru.describe()["macs_per_sample"] == 3840 + 8 + 17
