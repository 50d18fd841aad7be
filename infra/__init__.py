"""Stillframe's AWS deployment: CDK constructs (one capability each) composed into one stack.

Nothing in this package calls AWS while synthesizing; every setting comes from CDK context.
"""
