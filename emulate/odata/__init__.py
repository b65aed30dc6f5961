"""OData query translation shared by the emulated services."""
