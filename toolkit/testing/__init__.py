"""Conformance harness for processors and sources (also a pytest plugin)."""
