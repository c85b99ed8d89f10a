"""Texts and keyboards, one module per journey plus `common`. Views import nothing from the
journeys; any journey may import any view (a payment screen shows a wallet's texts)."""
