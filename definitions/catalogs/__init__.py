"""Content catalogs: the drops journeys choose from. Item ids are unique across every catalog."""
