"""Jinja templates and the print CSS of the scorecards (package data)."""
