"""Stacks: deployable units that compose the constructs, make the grants and the outputs."""
