"""Series composition: a chain of processors is itself a processor.

``"fir-bank:bands=8 | dnn:units=32,8"`` fits the first stage on the training rows, then fits the next
stage on **windows of the previous stage's outputs**: stage *k+1* sees, for each row, the last
``window`` outputs of stage *k* (the same window length as the task). The first ``window − 1`` rows of
any block, which have fewer previous outputs, repeat the block's first output (causal edge padding,
no look-ahead). The chain's cost is the sum of its stages' parameters and MACs per sample.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sigbench._json import dumps
from sigbench.errors import ConfigError
from sigbench.params import coerce_params, parse_method_spec
from sigbench.processor import Processor
from sigbench.windows import sliding_windows

__all__ = ["Chain", "chain", "is_chain_spec", "resolve_chain"]


def is_chain_spec(text: str) -> bool:
    """True for ``"a | b"``."""
    return "|" in text


def _stage_specs(stages: str) -> list[str]:
    parts = [p.strip() for p in stages.split("|")]
    if len(parts) < 2 or not all(parts):
        raise ConfigError(f"expected a chain 'A | B [| C …]'; received: {stages!r}")
    return parts


def _rewindow(out: np.ndarray, window: int) -> np.ndarray:
    padded = np.concatenate([np.full(window - 1, out[0]), out])
    return sliding_windows(padded, window)


class Chain(Processor):
    """Processors in series, each fitted on the previous one's outputs.

    Parameters
    ----------
    stages : str
        ``"fir-bank:bands=8 | dnn:units=32,8"``.
    seed : int, default 0
        Passed to every stochastic stage.
    horizon : int, optional
        The task's horizon, passed to stages that take one (unless their spec sets it).
    validation_fraction : float, optional
        The protocol's validation share, passed to stages that take one (unless their spec sets it).

    Raises
    ------
    ConfigError
        Fewer than two stages, an unknown stage, or a bad stage option.
    """

    name = "chain"
    family = "dsp"
    is_chain = True

    def __init__(self, stages: str, seed: int = 0, horizon: int | None = None,
                 validation_fraction: float | None = None) -> None:
        super().__init__(stages=stages, seed=seed, horizon=horizon, validation_fraction=validation_fraction)
        from sigbench.host import get_host

        registry = get_host().registry
        self.stages: list[Processor] = []
        for text in _stage_specs(stages):
            spec = parse_method_spec(text)
            cls = registry.get("processors", spec.name).obj
            opts = coerce_params(cls.__init__, spec.options, what=f"option of method {spec.name!r}")
            names = cls.param_names()
            for key, value in (("seed", seed), ("horizon", horizon), ("validation_fraction", validation_fraction)):
                if value is not None and key in names and key not in opts:
                    opts[key] = value
            self.stages.append(cls(**opts))

    def _forward(self, inputs: np.ndarray, upto: int) -> np.ndarray:
        x = inputs
        for stage in self.stages[:upto]:
            x = _rewindow(stage.predict(x), inputs.shape[1])
        return x

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        if targets.ndim != 1:
            raise ConfigError("chains support tasks with one output per row (predict, denoise, identify)")
        x = inputs
        for stage in self.stages:
            stage.fit(x, targets, sample_rate=self.sample_rate, context=self.context)
            x = _rewindow(stage.predict(x), inputs.shape[1])

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        return self.stages[-1].predict(self._forward(inputs, len(self.stages) - 1))

    def trainable_params(self) -> int:
        """Sum over the stages."""
        return int(sum(s.describe().get("trainable_params") or 0 for s in self.stages))

    def macs_per_sample(self) -> float:
        """Sum over the stages."""
        return float(sum(s.describe().get("macs_per_sample") or 0.0 for s in self.stages))

    def memory_bytes(self) -> int:
        """Sum over the stages."""
        return int(sum(s.describe().get("memory_bytes") or 0 for s in self.stages))

    def extra_description(self) -> dict[str, Any]:
        """Each stage's own description."""
        return {"stages": [s.describe() for s in self.stages]}

    def _save_extra(self, path: Path) -> None:
        for i, stage in enumerate(self.stages):
            stage.save(path / f"stage_{i}")
        (path / "chain.json").write_text(dumps({"stages": self.get_params()["stages"]}))

    def _load_extra(self, path: Path) -> None:
        self.stages = [type(s).load(path / f"stage_{i}") for i, s in enumerate(self.stages)]


def resolve_chain(spec: str) -> tuple[type[Processor], dict[str, Any]]:
    """A ``Chain`` subclass tagged like its stages, and its constructor options, for ``spec``."""
    probe = Chain(spec)
    families = {s.family for s in probe.stages}
    attrs = {
        "family": "neural" if "neural" in families else "dsp",
        "deterministic": all(s.deterministic for s in probe.stages),
        "online": False,
    }
    cls = type("Chain", (Chain,), attrs)
    return cls, {"stages": spec}


def chain(*stages: Any, seed: int = 0) -> Chain:
    """Python API: ``sb.chain("fir-bank", "dnn")`` → an unfitted :class:`Chain`. A stage may also be a registered
    processor class or instance (``sb.chain(Wiener, LMS(mu=0.01))``), written as its spec."""
    from sigbench.params import processor_method

    return Chain(" | ".join(s if isinstance(s, str) else processor_method(s).spec.label for s in stages), seed=seed)
