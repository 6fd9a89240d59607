"""Neural processors on Keras 3 (family ``neural``). Keras is imported only when a model is built."""
