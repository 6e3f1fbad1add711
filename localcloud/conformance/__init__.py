"""Conformance of the local cloud with executions recorded on AWS (see runner.py)."""
