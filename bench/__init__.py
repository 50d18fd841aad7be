"""Stillframe benchmarks: the GetImages engine against the ffmpeg CLI, a naive PyAV loop and the decode limit.

Run with ``python -m bench.run`` (``make bench``). Fixtures are generated once and cached under
``bench/fixtures/``; results are written as JSON under ``bench/results/``.
"""
