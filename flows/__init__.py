"""Prefect flows, tasks, CLI and all I/O of okr-report."""
