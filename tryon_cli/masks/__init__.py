"""Masks: where pixels may change (face swap, try-on), occlusion, feathering, temporal smoothing."""
