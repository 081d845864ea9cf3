"""The benchmark suite: `python -m bench` measures imgopt against references timed in the same run."""
