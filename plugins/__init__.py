"""Built-in processors: ``dsp`` baselines and ``neural`` models.

They register through the same hooks as third-party plugins.
"""
