"""The Signal model: validation with the field and the received value named (RELIABILITY 5, 6; STYLE 8)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sigbench import Signal, ValidationError


@pytest.mark.parametrize(("data", "match"), [
    (np.array(["a", "b"]), r"received: data\.dtype=<U1"),  # strings
    (np.array([object(), object()], dtype=object), r"received: data\.dtype=object"),  # objects
    (np.zeros(3, dtype=[("a", "f8"), ("b", "f8")]), r"received: data\.dtype=\["),  # compound
    (np.zeros(3, dtype=complex), r"received: data\.dtype=complex128"),  # complex is not real
    (np.zeros((2, 2, 2)), r"received: data\.shape=\(2, 2, 2\)"),  # 3-D
    (np.float64(1.0), r"received: data\.shape=\(\)"),  # a scalar
    (np.zeros(0), r"at least one sample; received: data\.shape=\(0,\)"),  # zero samples
    (np.zeros((4, 0)), r"at least one channel; received: data\.shape=\(4, 0\)"),  # zero channels
])
def test_bad_data_is_rejected_naming_field_and_value(data: np.ndarray, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        Signal(data, sample_rate_hz=1.0)


@pytest.mark.parametrize("rate", [0, -1.0, math.nan, math.inf, -math.inf, "fast", None, True])
def test_bad_sample_rate(rate: object) -> None:
    with pytest.raises(ValidationError, match=r"sample_rate_hz") as info:
        Signal(np.zeros(4), sample_rate_hz=rate)  # type: ignore[arg-type]
    assert f"received: sample_rate_hz={rate!r}" in str(info.value)


def test_clean_shape_mismatch() -> None:
    with pytest.raises(ValidationError, match=r"received: clean\.shape=\(3,\)"):
        Signal(np.zeros(4), sample_rate_hz=1.0, clean=np.zeros(3))


def test_clean_must_be_finite() -> None:
    with pytest.raises(ValidationError, match="finite samples in clean"):
        Signal(np.zeros(4), sample_rate_hz=1.0, clean=np.array([0, np.nan, 0, 0]))


def test_aux_length_mismatch() -> None:
    with pytest.raises(ValidationError, match=r"aux\[input\]"):
        Signal(np.zeros(4), sample_rate_hz=1.0, aux={"input": np.zeros(5)})


@pytest.mark.parametrize("name", ["", "a/b", ".", ".."])
def test_bad_names(name: str) -> None:
    with pytest.raises(ValidationError, match="signal name"):
        Signal(np.zeros(4), sample_rate_hz=1.0, name=name)


def test_t0_must_be_finite() -> None:
    with pytest.raises(ValidationError, match="t0_s"):
        Signal(np.zeros(4), sample_rate_hz=1.0, t0_s=math.nan)


def test_channel_names_count() -> None:
    with pytest.raises(ValidationError, match="channel names"):
        Signal(np.zeros((4, 2)), sample_rate_hz=1.0, channel_names=("a",))


def test_nonfinite_samples_rejected_by_default() -> None:
    """RELIABILITY 6, policy "error": count and first position in the message, and the way out."""
    x = np.arange(10.0)
    x[3] = np.nan
    x[7] = np.inf
    with pytest.raises(ValidationError, match=r"2 NaN/inf values, first at sample 3.*nonfinite='interpolate'"):
        Signal(x, sample_rate_hz=1.0)


def test_nonfinite_interpolate_policy_repairs_and_records() -> None:
    """RELIABILITY 6, policy "interpolate": linear interpolation, recorded in metadata."""
    x = np.arange(10.0)
    x[[0, 3, 4, 9]] = [np.nan, np.inf, -np.inf, np.nan]
    s = Signal(x, sample_rate_hz=1.0, nonfinite="interpolate")
    assert np.isfinite(s.data).all()
    np.testing.assert_allclose(s.data[1:9], np.arange(1.0, 9.0))  # interior points on the line
    assert s.data[0] == 1.0 and s.data[9] == 8.0  # ends held at the nearest finite value
    assert s.metadata["repaired_nonfinite"] == 4


def test_nonfinite_interpolate_needs_one_finite_sample_per_channel() -> None:
    x = np.ones((5, 2))
    x[:, 1] = np.nan
    with pytest.raises(ValidationError, match="channel 1 all NaN/inf"):
        Signal(x, sample_rate_hz=1.0, nonfinite="interpolate")


def test_unknown_nonfinite_policy() -> None:
    with pytest.raises(ValidationError, match="received: nonfinite='drop'"):
        Signal(np.zeros(3), sample_rate_hz=1.0, nonfinite="drop")


def test_facts_and_snr(rng: np.random.Generator) -> None:
    clean = np.sin(np.arange(1000) * 0.1)
    noise = rng.standard_normal(1000) * 0.1
    s = Signal(clean + noise, sample_rate_hz=10.0, clean=clean)
    assert s.n_samples == 1000 and s.n_channels == 1 and s.duration_s == 100.0
    expected = 10 * np.log10(np.mean(clean**2) / np.mean(noise**2))
    assert s.snr_db() == pytest.approx(expected)
    assert Signal(clean, sample_rate_hz=1.0).snr_db() is None
    assert s.time_s[1] == pytest.approx(0.1)


def test_integers_become_float64_and_float32_is_kept() -> None:
    assert Signal(np.arange(3), sample_rate_hz=1.0).data.dtype == np.float64
    assert Signal(np.zeros(3, np.float32), sample_rate_hz=1.0).data.dtype == np.float32


def test_channel_selection() -> None:
    s = Signal(np.arange(8.0).reshape(4, 2), sample_rate_hz=1.0, channel_names=("l", "r"),
               clean=np.zeros((4, 2)))
    r = s.channel("r")
    assert r.data.tolist() == [1.0, 3.0, 5.0, 7.0] and r.channel_names == ("r",) and r.clean is not None
    with pytest.raises(ValidationError, match="received: channel='x'"):
        s.channel("x")
    with pytest.raises(ValidationError, match="received: channel=2"):
        s.channel(2)
