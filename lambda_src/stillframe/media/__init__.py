"""Media layer: split uploads into fragments, demux and decode fragments, render stills.

Importing this package is cheap on purpose: PyAV and Pillow load only when a submodule
(``split``, ``fragment``, ``render``) is imported. The test-video generator is ``tests/support/synth.py``,
shared by tests/, bench/ and scripts/demo.py, and is not part of the package.
"""
