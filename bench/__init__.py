"""Benchmarks of the webhook path (not part of the installed package)."""
