"""Points through the API (issue 3). Money is in fen, points are ints."""
