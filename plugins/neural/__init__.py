"""Neural processors on Keras 3 (family ``neural``). Keras is imported only when a model is built.

Third-party neural processors subclass :class:`NeuralProcessor` (the shared training loop, batch
pipeline, seeding, progress and safe persistence) and override ``_build``/``_architecture``; see
``docs/plugins.md``.
"""

from sigbench.plugins.neural._base import NeuralProcessor

__all__ = ["NeuralProcessor"]
