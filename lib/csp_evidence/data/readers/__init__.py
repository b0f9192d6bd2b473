"""One reader per official source family: parse, tidy and validate into long tables."""
