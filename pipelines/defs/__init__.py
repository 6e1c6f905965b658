"""Dagster definitions of funnelpact: assets, checks, partitions, schedules, resources."""
