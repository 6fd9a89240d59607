"""Issue 19 item 2: a fit reuses the compiled model (and its traced training, validation and prediction graphs) that
an earlier fit of the same network left behind, with the numbers of a freshly built model; a living processor's
model is never taken."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import sigbench as sb
from sigbench.console import set_quiet
from sigbench.plugins.neural import _base
from sigbench.plugins.neural._base import COMPILED_MODELS

WINDOW = 16
#: small networks of each kind whose fits take about a second; patience on, so early stopping and the restore
#: of the best weights run on the reused model too
CASES = {
    "dnn": {"units": (8, 4), "epochs": 6, "patience": 1},
    "cnn": {"kernel_sizes": (3, 5), "filters": 2, "dense_units": (4,), "epochs": 3},
    "lstm": {"units": (4,), "timesteps": 4, "epochs": 2},
    "cnn-lstm": {"filters": 2, "kernel_size": 3, "units": (4,), "epochs": 2},
}


@pytest.fixture(scope="module", autouse=True)
def neural_host():
    from sigbench.host import Host, reset_host

    set_quiet(True)
    yield reset_host(Host(load_entrypoints=False))
    reset_host(Host(load_entrypoints=False))
    set_quiet(False)


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    t = np.arange(900) * 0.1
    noisy = np.sin(t) + np.sin(np.pi * t / 2) + rng.normal(0, 0.3, t.size)
    return sb.sliding_windows(noisy[:-1], WINDOW), noisy[WINDOW:]


@pytest.fixture
def taken(monkeypatch):
    """Records whether each fit found a model to reuse."""
    log: list[bool] = []
    real = _base.CompiledModels.take

    def spy(self, key):
        out = real(self, key)
        log.append(out is not None)
        return out

    monkeypatch.setattr(_base.CompiledModels, "take", spy)
    COMPILED_MODELS.clear()
    yield log
    COMPILED_MODELS.clear()


def _fit_seeds(name, x, y, seeds=(0, 1, 2)):
    """Fit one processor per seed, dropping each before the next (as the engine does); their results."""
    out = []
    for seed in seeds:
        p = sb.get_processor(name)(seed=seed, **CASES[name]).fit(x, y)
        out.append((p.predict(x[:200]), p.describe()["loss_history"], p.describe()["val_loss_history"]))
        del p
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_reused_models_give_the_fresh_models_numbers(name, data, taken, monkeypatch):
    x, y = data
    reused = _fit_seeds(name, x, y)
    assert taken == [False, True, True]  # the first fit compiles; the two others reuse its model
    monkeypatch.setenv("SIGBENCH_REUSE_MODELS", "0")
    taken.clear()
    fresh = _fit_seeds(name, x, y)
    assert taken == []  # switched off: never asked
    for (p_a, loss_a, val_a), (p_b, loss_b, val_b) in zip(reused, fresh, strict=True):
        assert np.array_equal(p_a, p_b)  # bit for bit
        assert loss_a == loss_b and val_a == val_b


def test_a_living_processors_model_is_never_taken(data, taken):
    x, y = data
    first = sb.get_processor("dnn")(seed=0, **CASES["dnn"]).fit(x, y)
    before = first.predict(x[:100])
    second = sb.get_processor("dnn")(seed=1, **CASES["dnn"]).fit(x, y)
    assert taken == [False, False]  # the first processor still holds its model: the second builds its own
    assert second.model is not first.model
    assert np.array_equal(first.predict(x[:100]), before)  # untouched by the second fit
    model = first.model
    del first
    gc.collect()
    third = sb.get_processor("dnn")(seed=2, **CASES["dnn"]).fit(x, y)
    assert taken[-1] is True and third.model is model  # freed with its processor, then reused


def test_another_network_or_learning_rate_is_not_reused(data, taken):
    x, y = data
    _fit_seeds("dnn", x, y, seeds=(0,))
    for options in ({"units": (8, 3)}, {"learning_rate": 1e-3}, {"activation": "tanh"}):
        p = sb.get_processor("dnn")(seed=0, **{**CASES["dnn"], **options}).fit(x, y)
        del p
    assert taken == [False, False, False, False]


def test_a_classifier_never_gets_a_regression_model(data, taken):
    """The loss is part of the compiled model: a fit on class labels (binary cross-entropy) does not take the model
    an MSE fit of the same network left."""
    from sigbench.processor import TaskContext

    x, y = data
    _fit_seeds("dnn", x, y, seeds=(0,))
    labels = (y > 0).astype(np.float64)
    p = sb.get_processor("dnn")(seed=1, **CASES["dnn"]).fit(x, labels, context=TaskContext(target_type="class"))
    assert p.classifies and taken == [False, False]
    del p
    q = sb.get_processor("dnn")(seed=2, **CASES["dnn"]).fit(x, labels, context=TaskContext(target_type="class"))
    assert q.classifies and taken[-1] is True  # the classifier's own model is reused by the next classifier


def test_a_subclass_that_compiles_its_own_way_always_gets_a_fresh_model(data, taken):
    x, y = data
    base = sb.get_processor("dnn")

    class SGDNet(base):  # type: ignore[misc,valid-type]
        def _compile(self, model):
            keras = _base.import_keras()
            model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")

    for seed in (0, 1):
        p = SGDNet(seed=seed, **CASES["dnn"]).fit(x, y)
        del p
    assert taken == []
    assert not COMPILED_MODELS._entries


def test_the_pool_is_bounded_and_gives_back_only_freed_models():
    pool = _base.CompiledModels(size=2)

    class Owner:
        pass

    a, b, c = Owner(), Owner(), Owner()
    models = [object(), object(), object()]
    for model, owner in zip(models, (a, b, c), strict=True):
        pool.put("k", model, [], owner)
    assert [e[1] for e in pool._entries] == models[1:]  # full: the oldest went
    assert pool.take("k") is None  # every kept model still has its owner
    del b
    assert pool.take("k") == (models[1], [])
    assert pool.take("k") is None and pool.take("other") is None
