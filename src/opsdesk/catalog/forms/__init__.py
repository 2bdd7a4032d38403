"""Django forms of the request catalogue: the order form built from an item's definition
(order.py), the staff's editors (staff.py) and the approvers' forms (approvals.py)."""
