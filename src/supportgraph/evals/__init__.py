"""Evaluation: datasets, metrics, runner, reports."""
