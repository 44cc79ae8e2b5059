"""Widgets that draw analysis results (one module per view). Imported lazily by results."""
