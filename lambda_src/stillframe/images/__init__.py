"""GetImages: the hot path from samples to encoded stills."""
