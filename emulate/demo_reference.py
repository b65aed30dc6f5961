"""Reference data of the demo tenants: currencies, users, units, price lists (Sales) and names for parties.

Everything here is fixed data drawn through the tenant's seeded random source, so a seed
always yields the same ids.
"""

import datetime as dt
import random
import uuid

BASE_CREATED = dt.datetime(2024, 1, 2, 8, 0, 0)
BASE_MODIFIED = dt.datetime(2026, 1, 5, 10, 0, 0)

CURRENCIES = (  # iso, name, symbol, rate against the base currency USD
    ("USD", "US Dollar", "$", 1.0), ("EUR", "Euro", "€", 0.92),
    ("CAD", "Canadian Dollar", "CA$", 1.36), ("GBP", "Pound Sterling", "£", 0.79),
)
# (country as Sales users type it, ISO code, currency, weight, [(city, state, county, postal code prefix)])
COUNTRIES = (
    ("United States", "US", "USD", 55, [("Seattle", "WA", "King", "981"), ("Redmond", "WA", "King", "980"),
                                        ("Chicago", "IL", "Cook", "606"), ("Austin", "TX", "Travis", "787"),
                                        ("Boston", "MA", "Suffolk", "021"), ("Denver", "CO", "Denver", "802")]),
    ("Germany", "DE", "EUR", 12, [("Berlin", "BE", "", "101"), ("München", "BY", "", "803"), ("Hamburg", "HH", "", "204")]),
    ("Canada", "CA", "CAD", 10, [("Toronto", "ON", "", "M5V"), ("Vancouver", "BC", "", "V6B")]),
    ("United Kingdom", "GB", "GBP", 10, [("London", "", "Greater London", "EC1"), ("Leeds", "", "West Yorkshire", "LS1")]),
    ("France", "FR", "EUR", 5, [("Paris", "", "", "750"), ("Lyon", "", "", "690")]),
    (None, "US", "USD", 8, [("Portland", "OR", "Multnomah", "972"), ("Miami", "FL", "Miami-Dade", "331")]),
)
NAME_HEADS = ("Contoso", "Fabrikam", "Adventure Works", "Northwind", "Litware", "Proseware", "Tailspin", "Wingtip",
              "Alpine Ski", "Blue Yonder", "Coho", "Fourth Coffee", "Lucerne", "Margie's", "Trey Research",
              "Woodgrove", "Humongous", "Relecloud", "O'Neil", "Datum", "Graphic Design", "Southridge")
NAME_TAILS = ("Ltd", "Inc", "GmbH", "Corporation", "Partners", "Group", "Supplies", "Logistics", "Pharmaceuticals",
              "Bikes", "Traders", "Systems", "& Sons", "Holdings")
STREETS = ("Main St", "Oak Avenue", "Market Street", "Hauptstraße", "King Street", "Rue de Rivoli", "Pine Road", "Elm Way")
FIRST_NAMES = ("Anna", "Ben", "Chloé", "Dmitri", "Elif", "Farah", "Günter", "Hiro", "Ines", "Jamal", "Kerstin", "Liam",
               "Maya", "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Vera", "Wei", "Yusuf", "Zoë")
LAST_NAMES = ("Andersen", "Brown", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Hughes", "Ito", "Jansen", "Kowalski",
              "López", "Müller", "Nakamura", "O'Brien", "Patel", "Rossi", "Schmidt", "Tanaka", "Urban", "Vogel", "Wong")
JOB_TITLES = ("Purchasing Manager", "Buyer", "CFO", "Operations Lead", "Owner", "Account Manager", None)
DEPARTMENTS = ("Purchasing", "Finance", "Operations", "Sales", None)
PRODUCT_WORDS = ("Bike", "Helmet", "Pump", "Saddle", "Chain", "Light", "Lock", "Bottle", "Glove", "Jersey", "Tyre", "Frame",
                 "Pedal", "Bell", "Basket", "Mirror")
PRODUCT_STYLES = ("Pro", "Sport", "City", "Trail", "Urban", "Classic", "Carbon", "Lite")
VARIANT_COLORS = ("Black", "Red", "Blue")
UNITS = (("ea", 1), ("pcs", 1), ("box", 12), ("set", 4), ("hr", 1))  # Sales unit name = F&O symbol; quantity of base unit
USERS = ("# P2C Integration", "Alex Wilber", "Megan Bowen", "Lynne Robbins", "Diego Siciliani")
INTEGRATION_USER = USERS[0]
PRICE_LISTS = (  # name, currency, active
    ("CRM Service USA (sample)", "USD", True), ("standard", "USD", True), ("Retail EUR", "EUR", True),
    ("Retail CAD", "CAD", True), ("Retail GBP", "GBP", True), ("Old USD 2023", "USD", False),
)


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def stamp(version: int = 0) -> dict:
    return {"createdon": BASE_CREATED, "modifiedon": BASE_CREATED, "versionnumber": version}


def currency_rows(rng: random.Random) -> list[dict]:
    return [{"transactioncurrencyid": guid(rng), "isocurrencycode": iso, "currencyname": name, "currencysymbol": symbol,
             "exchangerate": rate, "statecode": 0, "modifiedon": BASE_CREATED, "versionnumber": 0}
            for iso, name, symbol, rate in CURRENCIES]


def user_rows(rng: random.Random) -> list[dict]:
    return [{"systemuserid": guid(rng), "fullname": name, "applicationid": None, "isdisabled": False,
             "domainname": "" if name == INTEGRATION_USER else name.lower().replace(" ", ".") + "@contoso.example",
             "internalemailaddress": None if name == INTEGRATION_USER else name.lower().replace(" ", ".") + "@contoso.example",
             "modifiedon": BASE_CREATED, "versionnumber": 0} for name in USERS]


def unit_rows(rng: random.Random) -> tuple[dict, list[dict]]:
    """The "Default unit" group and its units; the first unit is the group's base."""
    schedule = {"uomscheduleid": guid(rng), "name": "Default unit", "baseuomname": UNITS[0][0], "description": None,
                "statecode": 0, "statuscode": 1, **stamp()}
    units = [{"uomid": guid(rng), "name": name, "_uomscheduleid_value": schedule["uomscheduleid"], "_baseuom_value": None,
              "quantity": float(quantity), "isschedulebaseuom": index == 0, **stamp()} for index, (name, quantity) in enumerate(UNITS)]
    for unit in units:
        unit["_baseuom_value"] = units[0]["uomid"]
    return schedule, units


def price_list_rows(rng: random.Random, currency_ids: dict[str, str]) -> list[dict]:
    return [{"pricelevelid": guid(rng), "name": name, "_transactioncurrencyid_value": currency_ids[iso],
             "begindate": dt.date(2024, 1, 1), "enddate": None if active else dt.date(2023, 12, 31), "description": None,
             "statecode": 0 if active else 1, "statuscode": 100001 if active else 100002, **stamp()}
            for name, iso, active in PRICE_LISTS]
