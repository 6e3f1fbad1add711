"""Powertools set up once per process: JSON logs, X-Ray tracing, CloudWatch metrics (EMF).

Service name, log level and the metrics namespace come from the POWERTOOLS_* environment
variables that deploy sets, so the same module serves every function.
"""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
