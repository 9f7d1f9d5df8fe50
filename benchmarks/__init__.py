"""The benchmark suite: `python -m benchmarks [--quick] [--out DIR] [NAME ...]` (or `make bench`).

Each benchmark runs in a process of its own, prints a table and writes
`<out>/<name>.json` with its figures, the machine and the versions. Figures that
depend on the machine are compared with a baseline measured in the same run.
"""
