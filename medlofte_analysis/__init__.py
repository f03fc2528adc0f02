"""medlofte-analysis: does a medborgarlöfte's focus area show effect? Honest numbers.

Built for small municipalities, where counts are small and intervals wide.
"""

__version__ = "0.1.0"
