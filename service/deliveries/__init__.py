"""The daily delivery loop: scheduling, manifests, confirmations, the cut-off, statements, coverage."""
