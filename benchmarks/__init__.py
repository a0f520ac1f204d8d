"""Performance measurements (see benchmarks/README.md)."""
