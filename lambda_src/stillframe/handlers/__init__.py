"""Every Lambda entry point, composition only: Powertools decorators, the process's services, one call into them.

``api`` (API Gateway proxy events, also ``stillframe serve``'s handler), ``dropzone`` (S3 ObjectCreated) and
``delivery`` (SQS jobs and the scheduled sweep); infra/constructs/runtime.py names each one.
"""
