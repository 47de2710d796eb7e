"""Figures and reports."""

from nolabel.report.embedding import embed_2d, plot_embedding
from nolabel.report.figures import embedding_scatter, reconstruction_grid, sample_grid

__all__ = ["embed_2d", "embedding_scatter", "plot_embedding", "reconstruction_grid", "sample_grid"]
