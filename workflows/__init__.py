"""Deterministic machinery: the journey runtime, the broadcast fan-out, and the API journeys are written in."""
