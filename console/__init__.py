"""The web console, the HTTP API and the execution graphs of the workflows.

`console.service` talks to Step Functions (any environment), `console.graph` turns a definition and
an execution history into a coloured graph, `console.app` serves both over HTTP.
"""
