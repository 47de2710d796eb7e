"""Reusable network blocks."""

from nolabel.nets.mlp import activation, mlp

__all__ = ["activation", "mlp"]
