"""medlofte-analysis: does a medborgarlöfte's focus area show effect? Honest numbers for small municipalities."""

__version__ = "0.1.0"
