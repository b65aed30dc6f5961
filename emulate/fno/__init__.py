"""Emulated Finance & Operations OData service (`/data`)."""
