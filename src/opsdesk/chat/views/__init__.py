"""Pages of the live chat: the requester's widget (portal and embeds) and the agents' queue."""
