"""The knowledge base: articles with their lifecycle, versions and feedback, known errors
published as articles, and the deflection of tickets in the portal."""
