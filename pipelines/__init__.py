"""funnelpact: the marketing <-> sales agreement as code."""

__version__ = "0.1.0"
