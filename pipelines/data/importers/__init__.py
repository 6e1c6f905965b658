"""Converters from CRM exports (HubSpot, Salesforce, any CSV by a mapping) into canonical CSV."""
