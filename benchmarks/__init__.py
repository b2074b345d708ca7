"""ModelHub benchmarks: run `python benchmarks/run.py`."""
