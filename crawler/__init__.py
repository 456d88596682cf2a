"""Scrapy project: one spider per source, all yielding the same ListingItem."""
