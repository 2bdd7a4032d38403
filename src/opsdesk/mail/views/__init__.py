"""The e-mail intake screens: mailboxes (administrators keep them, managers read them) and the
inbound messages with their outcome, retry and raw download."""
