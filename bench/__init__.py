"""Benchmarks (run by hand; performance is never asserted in tests)."""
