"""The common ground of every layer: the project's vocabularies and SAMHSA's code reference, places
(cities, ZIP codes, states), pure value normalizers, file locations, the crawl log's format and
terminal progress. It imports nothing from crawler/, pipelines/, exports/ or plugins/."""
