"""Neural training from rows read on demand from a file: the same batches, hence the same model, as in memory."""

from __future__ import annotations

import tracemalloc

import h5py
import numpy as np
import pytest

import sigbench as sb
from sigbench.errors import ValidationError
from sigbench.plugins.neural._batches import BlockOrder, window_batches

N = 3007


@pytest.fixture(scope="module")
def sines_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("rows") / "sines.h5"
    sb.save_signal(sb.generate("sines", n=N, seed=5, snr_db=10.0), path)
    return path


def _memory_rows(path, window, horizon=1):
    sig = sb.load_signal(path)
    rows = sig.n_samples - window - horizon + 1
    return sb.sliding_windows(sig.data, window)[:rows], sig.clean[window - 1 + horizon:], sig


# -- FileWindows is the in-memory view -------------------------------------------------------------
@pytest.mark.parametrize("block_rows", [1, 7, 333, 10 * N])
def test_file_rows_equal_the_in_memory_view(sines_file, block_rows):
    x, y, sig = _memory_rows(sines_file, 16, horizon=3)
    with sb.FileWindows(sines_file, window=16, horizon=3, block_rows=block_rows) as fw:
        assert fw.inputs.shape == x.shape and fw.targets.shape == y.shape and len(fw) == x.shape[0]
        np.testing.assert_array_equal(fw.inputs[:], x)
        np.testing.assert_array_equal(fw.targets[:], y)
        np.testing.assert_array_equal(fw.observed[:], sig.data[18:])
        rows = np.random.default_rng(0).integers(0, x.shape[0], 50)  # unsorted, with repeats
        np.testing.assert_array_equal(fw.inputs[rows], x[rows])
        np.testing.assert_array_equal(fw.targets[rows], y[rows])
        np.testing.assert_array_equal(fw.inputs[-1], x[-1])
        np.testing.assert_array_equal(fw.inputs[100:2000:7], x[100:2000:7])
        np.testing.assert_array_equal(np.asarray(fw.targets), y)


def test_denoise_observed_target_channel_and_row_range(tmp_path):
    rng = np.random.default_rng(1)
    clean = np.stack([np.sin(0.1 * np.arange(900)), np.cos(0.05 * np.arange(900))], axis=1)
    data = clean + 0.1 * rng.standard_normal(clean.shape)
    path = tmp_path / "two.h5"
    sb.save_signal(sb.Signal(data, 10.0, clean=clean, channel_names=("a", "b")), path)
    with sb.FileWindows(path, task="denoise", window=9, centered=True, channel="b", target="observed",
                        start=100, stop=800, block_rows=64) as fw:
        np.testing.assert_array_equal(fw.inputs[:], sb.sliding_windows(data[:, 1], 9)[100:800])
        np.testing.assert_array_equal(fw.targets[:], data[104:804, 1])
        part = fw.slice(10, 20)
        np.testing.assert_array_equal(part.inputs[:], sb.sliding_windows(data[:, 1], 9)[110:120])


def test_reads_are_one_per_block_on_a_sequential_pass(sines_file):
    with sb.FileWindows(sines_file, window=16, block_rows=500) as fw:
        for lo in range(0, len(fw), 64):
            fw.inputs[lo:lo + 64]
            fw.targets[lo:lo + 64]
        assert fw.reads == -(-len(fw) // 500)


def test_bad_rows_and_options_are_refused(sines_file):
    with pytest.raises(ValidationError, match="start < stop"):
        sb.FileWindows(sines_file, window=16, start=10, stop=5)
    with sb.FileWindows(sines_file, task="spectrum", window=16) as fw:  # any task's rows, 2-D targets too
        assert fw.targets.shape == (len(fw), 18) and fw.targets[:3].shape == (3, 18)
    with sb.FileWindows(sines_file, window=16) as fw, pytest.raises(IndexError):
        fw.inputs[len(fw)]


# -- the block shuffle ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "block"), [(1000, 64), (1000, 1000), (1000, 3000), (7, 1)])
def test_block_order_is_a_permutation_each_epoch(n, block):
    orders = [BlockOrder(n, block, seed=3, epoch=e).full() for e in range(3)]
    for order in orders:
        assert np.array_equal(np.sort(order), np.arange(n))
        # rows of one block stay together: consecutive positions inside a block belong to one block
        assert len(set(np.asarray(order[:min(block, n)]) // block)) == 1
    if n > 8:
        assert not np.array_equal(orders[0], orders[1])
    order = BlockOrder(n, block, seed=3, epoch=0)
    full = order.full()
    for lo, hi in [(0, 10), (60, 70), (n - 5, n)]:
        np.testing.assert_array_equal(order.rows(lo, hi), np.sort(full[lo:hi]))
    assert np.array_equal(BlockOrder(n, block, seed=3, epoch=1).full(), orders[1])  # reproducible


def test_batches_visit_every_row_once_per_epoch(sines_file):
    x, y, _ = _memory_rows(sines_file, 16)
    ds = window_batches(x, y, 50, seed=4, shuffle_block=300)
    for _ in range(2):
        seen = np.concatenate([ds._rows(i) for i in range(len(ds))])
        assert np.array_equal(np.sort(seen), np.arange(x.shape[0]))
        ds.on_epoch_end()


# -- the model ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["dnn", "cnn"])
def test_model_trained_from_the_file_equals_the_in_memory_one(sines_file, name):
    x, y, _ = _memory_rows(sines_file, 16)
    fit = 2000
    opts = {"epochs": 2, "batch_size": 32, "seed": 7, "shuffle_block": 333, "patience": None}
    if name == "dnn":
        opts["units"] = (8,)
    else:
        opts.update(filters=2, kernel_sizes=(3, 5), dense_units=(4,))
    mem = sb.get_processor(name)(**opts).fit(x[:fit], y[:fit])
    with sb.FileWindows(sines_file, window=16, stop=fit, block_rows=333) as fw:
        disk = sb.get_processor(name)(**opts).fit(fw)
        assert fw.reads < 6 * (-(-fit // 333)) + 20  # batches come from cached blocks, not one read per row
    np.testing.assert_array_equal(disk.predict(x[fit:]), mem.predict(x[fit:]))
    assert disk.describe()["loss_history"] == mem.describe()["loss_history"]
    assert disk.describe()["shuffle"] == "blocks of 333 rows"


def test_file_rows_default_to_shuffling_by_their_blocks(sines_file):
    x, y, _ = _memory_rows(sines_file, 16)
    opts = {"units": (4,), "epochs": 1, "seed": 1, "patience": None}
    with sb.FileWindows(sines_file, window=16, stop=1500, block_rows=250) as fw:
        disk = sb.get_processor("dnn")(**opts).fit(fw)
    mem = sb.get_processor("dnn")(**opts, shuffle_block=250).fit(x[:1500], y[:1500])
    np.testing.assert_array_equal(disk.predict(x[1500:1600]), mem.predict(x[1500:1600]))
    assert sb.get_processor("dnn")(**opts).fit(x[:1500], y[:1500]).describe()["shuffle"] == "global"


def _fit_peak(path):
    with sb.FileWindows(path, window=32, block_rows=4096) as fw:
        proc = sb.get_processor("dnn")(units=(4,), epochs=1, batch_size=2048, patience=None,
                                       validation_fraction=0.0)
        tracemalloc.start()
        proc.fit(fw)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def test_training_from_a_file_holds_blocks_not_the_signal(tmp_path):
    peaks = []
    for n in (100_000, 400_000):
        path = tmp_path / f"long{n}.h5"
        sb.save_signal(sb.generate("sines", n=n, seed=0), path)
        peaks.append(_fit_peak(path))
    # four times the signal, the same memory: blocks, batches and one entry per shuffle block
    assert peaks[1] < 1.2 * peaks[0] + 2**19, [p / 2**20 for p in peaks]
    assert peaks[1] < 400_000 * 32 * 8 / 10, [p / 2**20 for p in peaks]  # a tenth of the rows × window array


def test_a_nan_in_the_file_is_refused_before_training(tmp_path):
    path = tmp_path / "nan.h5"
    sb.save_signal(sb.generate("sines", n=800, seed=0), path)
    with h5py.File(path, "r+") as f:  # a damaged recording (sigbench never writes one)
        f["signals/sines/data"][500] = np.nan
    with pytest.raises(ValidationError, match="finite"), sb.FileWindows(path, window=8, target="observed") as fw:
        sb.get_processor("dnn")(units=(2,), epochs=1).fit(fw)


def test_a_dsp_processor_gets_the_rows_loaded(sines_file):
    x, y, _ = _memory_rows(sines_file, 16)
    with sb.FileWindows(sines_file, window=16, stop=2000) as fw:
        w_file = sb.get_processor("wiener")().fit(fw)
    w_mem = sb.get_processor("wiener")().fit(x[:2000], y[:2000])
    np.testing.assert_array_equal(w_file.predict(x[2000:]), w_mem.predict(x[2000:]))
