"""Media layer: split uploads into fragments, demux and decode fragments, render stills, synthesize test video.

Importing this package is cheap on purpose: PyAV and Pillow load only when a submodule
(``split``, ``fragment``, ``render``, ``synth``) is imported.
"""
