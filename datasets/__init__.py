"""Built-in signal sources: synthetic generators, system-identification sources and file importers."""
