"""Portfolio screens, one module per area: the catalogue of services, strategy (objectives,
alignment, costs, calendars, policies) and sourcing (providers, contracts, evaluations)."""
