"""One spider per source; the file name equals the spider's name."""
