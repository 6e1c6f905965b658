"""CRM data in: the canonical tables, the loader with quarantine, the generator, importers."""
