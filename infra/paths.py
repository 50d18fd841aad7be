"""Where the deployable sources live in the repository (absolute, so synth works from any cwd)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LAMBDA_SRC = REPO_ROOT / "lambda_src"
DOCKERFILE = LAMBDA_SRC / "Dockerfile"
CONTROL_PLANE_LAYER_DIR = REPO_ROOT / "layers" / "control_plane"
