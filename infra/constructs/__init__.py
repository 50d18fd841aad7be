"""One construct per capability; each takes keyword-only arguments and exposes its resources as attributes."""
