"""Does nurturing work? Funnels (`funnel`) and, from the measure work, experiments and uplift."""
