"""Consultations: a body's draft put to neighbourhoods, answered by their assemblies."""
