"""Rantang's domain: models, rules, jobs and CLI. Knows nothing of HTTP."""
