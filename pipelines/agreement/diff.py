"""Placeholder until diff lands."""
