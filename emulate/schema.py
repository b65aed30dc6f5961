"""Entity definitions as data: columns, keys, types. Services and the store read these."""

from dataclasses import dataclass, field, replace

EDM_TYPES = {
    "guid": "Edm.Guid", "string": "Edm.String", "int": "Edm.Int32", "bigint": "Edm.Int64",
    "decimal": "Edm.Decimal", "money": "Edm.Decimal", "real": "Edm.Double", "bool": "Edm.Boolean",
    "datetime": "Edm.DateTimeOffset", "date": "Edm.Date",
}
DUCKDB_TYPES = {
    "guid": "UUID", "string": "VARCHAR", "int": "INTEGER", "bigint": "BIGINT",
    "decimal": "DECIMAL(19,4)", "money": "DECIMAL(19,4)", "real": "DOUBLE", "bool": "BOOLEAN",
    "datetime": "TIMESTAMP", "date": "DATE", "enum": "VARCHAR",
}


@dataclass(frozen=True)
class Lookup:
    """A Dataverse lookup column: written through `<navigation>@odata.bind`."""

    navigation: str
    target: str  # entity set name


@dataclass(frozen=True)
class NavigationProperty:
    """An F&O navigation property: the rows of entity set `target` whose columns match this row's (`on`)."""

    name: str
    target: str  # entity set name
    on: tuple[tuple[str, str], ...]  # (column of this entity, column of the target)
    single: bool  # single-valued (line -> header) or a collection (header -> lines)
    partner: str = ""  # the target's navigation property back to this entity


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # one of DUCKDB_TYPES
    enum: str = ""  # enum type name when type == "enum"
    nullable: bool = True
    read_only: bool = False  # maintained by the service, ignored in payloads
    hidden: bool = False  # stored but never served (F&O RecId/RecVersion)
    lookup: Lookup | None = None
    max_length: int = 0
    label: str = ""  # the field's label in F&O infolog messages
    options: tuple[tuple[int, str], ...] = ()  # Dataverse choice (picklist/state/status) values and labels
    more_lookups: tuple[Lookup, ...] = ()  # further targets of a polymorphic lookup (customerid: account and contact)
    default: object = None  # Dataverse: the value stored when a create leaves the column out

    @property
    def edm_type(self) -> str:
        return f"Microsoft.Dynamics.DataEntities.{self.enum}" if self.type == "enum" else EDM_TYPES[self.type]


@dataclass(frozen=True)
class EntitySet:
    name: str  # collection name in URLs
    type_name: str  # qualified entity type, used in messages
    table: str  # DuckDB table
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    alternate_keys: tuple[tuple[str, ...], ...] = ()
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    required: tuple[str, ...] = ()  # F&O: fields that must be filled in on create
    entity_class: str = ""  # F&O: the X++ entity named in write errors
    table_label: str = ""  # F&O: "Customers (CustTable)" as infolog messages name it
    change_tracking: bool = False  # Dataverse: ChangeTrackingEnabled (odata.track-changes allowed)
    navigations: tuple[NavigationProperty, ...] = ()  # F&O: declared navigation properties ($expand, $metadata)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})

    def column(self, name: str) -> Column | None:
        """The served column called `name`, or None."""
        column = self._by_name.get(name)  # type: ignore[attr-defined]
        return None if column is None or column.hidden else column

    def stored_column(self, name: str) -> Column:
        """Any stored column, hidden ones included."""
        return self._by_name[name]  # type: ignore[attr-defined]

    @property
    def served(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.hidden)

    @property
    def lookups(self) -> dict[str, Column]:
        """Lookup columns by navigation property name.

        A polymorphic lookup appears once per navigation (`customerid_account`, `customerid_contact`),
        each time as its column with `lookup` set to that navigation's target.
        """
        found = {c.lookup.navigation: c for c in self.columns if c.lookup}
        found.update({more.navigation: replace(c, lookup=more) for c in self.columns for more in c.more_lookups})
        return found
