"""Notifications: what the desk tells people about their tickets, by e-mail, from editable
templates, sent in the background with retries, as each person prefers."""
