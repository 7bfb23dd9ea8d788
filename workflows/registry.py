"""Every workflow class the worker registers."""

from workflows.broadcast_workflow import BroadcastWorkflow
from workflows.journey_workflow import JourneyWorkflow

WORKFLOWS: list[type] = [JourneyWorkflow, BroadcastWorkflow]
