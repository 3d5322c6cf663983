"""What answers are made of: hybrid retrieval, the hub search, the location advisor and the gazetteer."""
