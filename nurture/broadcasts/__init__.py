"""Broadcasts: a marketer's unscheduled drop into every matching running journey (one service, two doors)."""
