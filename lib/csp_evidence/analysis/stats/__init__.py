"""Statistics for the evidence pack: change and significance, rates, ranks, time series, proportions."""
