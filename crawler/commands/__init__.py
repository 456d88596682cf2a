"""The project's Scrapy commands (COMMANDS_MODULE in crawler/settings.py): `scrapy safecrawl`."""
