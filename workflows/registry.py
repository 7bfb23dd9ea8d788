"""Every workflow class the worker registers."""

from workflows.journey_workflow import JourneyWorkflow

WORKFLOWS: list[type] = [JourneyWorkflow]
