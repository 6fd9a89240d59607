"""sigbench-example-plugin: an example third-party sigbench plugin.

* ``van-der-pol`` (source): the Van der Pol oscillator integrated with :func:`scipy.integrate.solve_ivp`,
  plus white observation noise (:mod:`sigbench_example.vanderpol`);
* ``kalman-level`` (DSP processor): the Kalman filter of the local-level model, noise variances
  estimated from the training data (:mod:`sigbench_example.kalman`);
* ``gru`` (neural processor): stacked Keras GRU layers over the window (:mod:`sigbench_example.gru`);
  Keras is imported only when a model is built.

Each module is a plugin of its own (one entry point each in ``pyproject.toml``).
"""

from __future__ import annotations

__all__ = ["__version__"]
__version__ = "0.1.0"
