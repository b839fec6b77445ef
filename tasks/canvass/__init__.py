"""The annual canvass beyond the store: ``reports`` (its steps, as plain functions: plan inputs,
import, after planning, the weekly report, the deferral decision), ``messages`` (what it tells
people) and ``chart`` (the weekly chart). The Prefect tasks that call them are in ``tasks.steps``."""
