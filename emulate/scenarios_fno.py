"""What F&O users do between syncs: enter, confirm, deliver and invoice orders; change product prices.

Orders go to the default company's customers, externally maintained ones first (those the
integration synced from Sales), so the F&O to Sales flows get work.
"""

import random
from decimal import Decimal

from emulate.catalog import DEFAULT_COMPANY, SELLABLE_PRODUCTS
from emulate.fno import sales_process


def create_fno_orders(tenant, count: int, seed: int) -> list[str]:
    """Orders entered in F&O (SO-######), 1-3 lines each; returns their numbers."""
    rng = random.Random(seed)
    customers = sorted((c["IsExternallyMaintained"] != "Yes", c["CustomerAccount"]) for c in tenant.fno.rows("CustomersV2")
                       if c["dataAreaId"] == DEFAULT_COMPANY)
    preferred = [account for other, account in customers if not other] or [account for _, account in customers]
    products = sorted(p["ProductNumber"] for p in tenant.fno.rows("SellableReleasedProducts")
                      if p["dataAreaId"] == DEFAULT_COMPANY and p["IsSalesStopped"] == "No")
    numbers = []
    for _ in range(count):
        lines = [{"ProductNumber": rng.choice(products), "OrderedSalesQuantity": Decimal(rng.randint(1, 10))}
                 for _ in range(rng.randint(1, 3))]
        numbers.append(sales_process.create_order(tenant.fno.store, DEFAULT_COMPANY, {
            "OrderingCustomerAccountNumber": rng.choice(preferred), "SalesOrderName": f"Phone order {rng.randrange(1000, 9999)}"},
            lines))
    return numbers


def _orders_in(tenant, statuses: tuple[str, ...], count: int, seed: int) -> list[str]:
    """Orders in ``statuses``, those of externally maintained customers first (they are the ones users
    process between syncs in the demo), chosen at random within each group."""
    external = {c["CustomerAccount"] for c in tenant.fno.rows("CustomersV2")
                if c["dataAreaId"] == DEFAULT_COMPANY and c["IsExternallyMaintained"] == "Yes"}
    orders = [o for o in tenant.fno.rows("CDSSalesOrderHeaders")
              if o["dataAreaId"] == DEFAULT_COMPANY and o["SalesOrderProcessingStatus"] in statuses]
    rng = random.Random(seed)
    chosen: list[str] = []
    for group in (True, False):
        candidates = sorted(o["SalesOrderNumber"] for o in orders if (o["OrderingCustomerAccountNumber"] in external) == group)
        chosen += rng.sample(candidates, min(count - len(chosen), len(candidates)))
    return chosen


def confirm_fno_orders(tenant, count: int, seed: int) -> list[str]:
    chosen = _orders_in(tenant, ("Active",), count, seed)
    for number in chosen:
        sales_process.confirm_order(tenant.fno.store, DEFAULT_COMPANY, number)
    return chosen


def deliver_fno_orders(tenant, count: int, seed: int) -> list[str]:
    chosen = _orders_in(tenant, ("Confirmed",), count, seed)
    for number in chosen:
        sales_process.deliver_order(tenant.fno.store, DEFAULT_COMPANY, number)
    return chosen


def invoice_fno_orders(tenant, count: int, seed: int) -> list[str]:
    """Invoice delivered orders; returns the invoice numbers."""
    return [sales_process.invoice_order(tenant.fno.store, DEFAULT_COMPANY, number)
            for number in _orders_in(tenant, ("Delivered",), count, seed)]


def calculate_totals(tenant) -> int:
    """The "Calculate sales totals" batch job; returns how many orders it updated."""
    return sales_process.calculate_sales_totals(tenant.fno.store)


def edit_fno_products(tenant, count: int, seed: int) -> list[str]:
    """A product manager changes sales prices in F&O; returns the product numbers."""
    rng = random.Random(seed)
    products = sorted((p["ProductNumber"], p["SalesPrice"]) for p in tenant.fno.rows("SellableReleasedProducts")
                      if p["dataAreaId"] == DEFAULT_COMPANY)
    chosen = rng.sample(products, min(count, len(products)))
    with tenant.fno.store.writing() as cur:
        for number, price in chosen:
            new_price = (Decimal(str(price)) * Decimal(rng.choice(("1.05", "0.95", "1.10")))).quantize(Decimal("0.01"))
            sales_process.change(cur, SELLABLE_PRODUCTS, {"dataAreaId": DEFAULT_COMPANY, "ProductNumber": number},
                                 {"SalesPrice": new_price})
    return sorted(number for number, _ in chosen)
