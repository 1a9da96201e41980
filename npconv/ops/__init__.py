"""Primitive Functions on raw arrays, one family per file. The Tensor methods call these."""
