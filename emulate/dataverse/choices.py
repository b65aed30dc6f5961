"""Choice values and state/status pairs of Sales writes, refused the way the platform refuses them.

A choice (picklist) column takes only its options; the platform answers 0x8004431A
(PicklistValueOutOfRange) with "A validation error occurred. The value 999 of 'customertypecode'
on record of type 'account' is outside the valid range. Accepted Values: 1,2,..." (the message
as live orgs report it). A status reason must belong to the record's state, the one written or
the one stored; the platform's StatusCodeValidator answers 0x80048408 (InvalidStateCodeStatusCode)
with "<status> is not a valid status code for state code <Schema>State.<label> on <entity> with
Id <id>." A write that sets the state alone gets that state's default status.
"""

from emulate.catalog.sales_states import STATE_ENUMS, STATUS_STATES, default_status
from emulate.dataverse.reads import logical_name
from emulate.errors import BadRequest
from emulate.schema import EntitySet

PICKLIST_OUT_OF_RANGE = "0x8004431A"
INVALID_STATE_STATUS = "0x80048408"
_STATE_COLUMNS = ("statecode", "statuscode")


def check_choice(entity: EntitySet, name: str, value: object) -> None:
    """Refuse a value outside a choice column's options (state and status are checked with the row, below)."""
    column = entity.column(name)
    if value is None or not column.options or name in _STATE_COLUMNS or any(value == option for option, _ in column.options):
        return
    accepted = ",".join(str(option) for option, _ in column.options)
    raise BadRequest(f"A validation error occurred. The value {value} of '{name}' on record of type '{logical_name(entity)}' "
                     f"is outside the valid range. Accepted Values: {accepted}", code=PICKLIST_OUT_OF_RANGE)


def fill_default_status(entity: EntitySet, values: dict) -> None:
    """A write that sets `statecode` without `statuscode` gets the new state's default status."""
    if "statecode" in values and "statuscode" not in values and entity.column("statuscode"):
        status = default_status(entity.name, values["statecode"])
        if status is not None:
            values["statuscode"] = status


def check_state_and_status(entity: EntitySet, row_id: str, values: dict, stored_state: int | None) -> None:
    """The state written must exist; the status written must belong to the state written, or else the stored one."""
    name = logical_name(entity)
    state_column = entity.column("statecode")
    if state_column is None:
        return
    labels = dict(state_column.options)
    if "statecode" in values and values["statecode"] not in labels:
        raise BadRequest(f"{values['statecode']} is not a valid state code on {name} with Id {row_id}.", code=INVALID_STATE_STATUS)
    status = values.get("statuscode")
    if status is None or entity.name not in STATUS_STATES:
        return
    owner = STATUS_STATES[entity.name].get(status)
    if owner is None:
        raise BadRequest(f"{status} is not a valid status code on {name} with Id {row_id}.", code=INVALID_STATE_STATUS)
    state = values.get("statecode", stored_state)
    if owner != state:
        raise BadRequest(f"{status} is not a valid status code for state code {STATE_ENUMS[entity.name]}.{labels.get(state)} "
                         f"on {name} with Id {row_id}.", code=INVALID_STATE_STATUS)
