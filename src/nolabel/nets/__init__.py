"""Reusable network blocks."""

from nolabel.nets.conv import ConvDecoder, ConvEncoder
from nolabel.nets.mlp import activation, mlp, run_with_hidden

__all__ = ["ConvDecoder", "ConvEncoder", "activation", "mlp", "run_with_hidden"]
