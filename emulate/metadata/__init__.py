"""Service metadata derived from the catalog: Dataverse EntityDefinitions and CSDL for both services."""
