"""Stats of a crawl that several workers shared, combined once they have all stopped."""
from crawler.shared_crawl import combined_stats


class Spider:
    name = "findtreatment_api"
    crawl_wide_stats = ("pages_expected",)


def test_counts_add_up_and_crawl_wide_counts_are_taken_once():
    stats = combined_stats({
        "w1": {"item_scraped_count": 10, "findtreatment_api/pages_expected": 3, "worker/finish_reason": "finished"},
        "w2": {"item_scraped_count": 7, "findtreatment_api/pages_expected": 3, "worker/finish_reason": "finished"},
    }, Spider)
    assert stats["item_scraped_count"] == 17
    assert stats["findtreatment_api/pages_expected"] == 3
    assert stats["workers/finish_reasons"] == {"w1": "finished", "w2": "finished"}
    assert stats["workers/count"] == 2


def test_a_worker_that_left_a_count_empty_does_not_stop_the_crawl_being_judged():
    # A worker that stopped before it timed anything publishes None (seen in CI: 'NoneType' + float).
    stats = combined_stats({
        "w1": {"elapsed_time_seconds": None, "item_scraped_count": None},
        "w2": {"elapsed_time_seconds": 2.5, "item_scraped_count": 4},
        "w3": {"elapsed_time_seconds": 1.5, "item_scraped_count": 1},
    }, Spider)
    assert stats["elapsed_time_seconds"] == 4.0
    assert stats["item_scraped_count"] == 5
