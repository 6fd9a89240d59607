"""A well-behaved sigbench plugin used by sigbench's own tests (entry point ``fixture-good``)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from sigbench import Processor, hookimpl


class Echo(Processor):
    """Predicts the last sample of the window (a fixture, not a method)."""

    name = "fixture-echo"
    family = "dsp"

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        pass

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        return inputs[:, -1:]


def _zero(y_true: Any, y_pred: Any, context: Any) -> float:
    return 0.0


@hookimpl
def register_processors(register):
    register(Echo)


@hookimpl
def register_metrics(register):
    register("fixture-zero", _zero, higher_is_better=False, description="always 0")


@hookimpl
def register_commands(app):
    @app.command("fixture-hello")
    def hello() -> None:
        """Print a greeting on stdout."""
        print("hello from fixture-good")

    @app.command("fixture-click-error")
    def click_error() -> None:
        """Raise a real click.ClickException (not typer's vendored copy)."""
        import click

        raise click.ClickException("fixture click failure")

    @app.command("fixture-crash")
    def crash() -> None:
        """Raise an unexpected RuntimeError; a local holds a value that must not be printed."""
        secret_local = "-".join(["SECRET", "LOCAL", "VALUE", str(6 * 7)])  # noqa: F841  (built at run time)
        raise RuntimeError("fixture crash")

    @app.command("fixture-sleep")
    def sleep() -> None:
        """Sleep for a minute (tests interrupt it with SIGINT)."""
        print("sleeping", flush=True)
        time.sleep(60)
