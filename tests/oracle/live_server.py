"""The tests serve apps the way the demo and the benchmarks do."""

from oracle.ingest.server import free_port, serving

__all__ = ["free_port", "serving"]
