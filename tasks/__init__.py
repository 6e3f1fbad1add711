"""Task Lambdas: one module per function, grouped by workflow; `tasks.shared` for what they share."""
