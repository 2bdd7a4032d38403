"""The service desk's screens: queues, the ticket page, the requester's pages, problems."""
