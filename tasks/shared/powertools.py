"""Powertools set up once per process: JSON logs, X-Ray tracing, CloudWatch metrics (EMF).

Service name, log level and the metrics namespace come from the POWERTOOLS_* environment
variables that deploy sets, so the same module serves every function.
"""

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
# A namespace is mandatory for EMF; the app name stands in where deploy did not set one.
metrics = Metrics(namespace=os.getenv("POWERTOOLS_METRICS_NAMESPACE", "pyflows"))
