"""Figures and reports."""

from nolabel.report.figures import embedding_scatter, reconstruction_grid

__all__ = ["embedding_scatter", "reconstruction_grid"]
