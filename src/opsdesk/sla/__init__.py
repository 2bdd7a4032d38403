"""Service levels: SLA, OLA and UC policies, their targets, and the clock on every ticket."""
