"""Stillframe: frame-accurate, wire-compatible Kinesis Video Streams GetImages for stored video."""

__version__ = "0.1.0"
