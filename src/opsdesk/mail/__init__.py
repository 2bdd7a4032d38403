"""E-mail in: mailboxes (IMAP polling and the built-in SMTP/LMTP receiver), parsing, threading
into tickets, loop and noise protection, and the quarantine."""
