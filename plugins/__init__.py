"""Built-in processors: ``dsp`` baselines and ``neural`` models, registered through the same hooks as third-party plugins."""
