"""The 3D face: landmark sets, pose fitting, identity/expression split, projection, rasterisation."""
