"""Pure computation: functions take adapters or arrays and return result dataclasses.

Nothing in this package imports ipywidgets; everything here is testable without a notebook.
"""
