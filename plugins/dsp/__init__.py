"""Classical DSP baselines (family ``dsp``)."""
