process p
explore all
