"""Writes of the request catalogue: items and their definitions, orders, approvals and
fulfilment. Each function takes the acting user and checks what they may do."""
