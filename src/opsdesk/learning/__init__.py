"""Support learning: training records and certifications with expiry, learning paths of
articles assigned to agents and teams, and the team skills matrix."""
