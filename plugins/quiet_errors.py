"""A client's mistake is not logged as a crash. Datasette 0.65 prints every exception it answers,
4xx included, as a rich traceback with every local variable (tens of KB each): a few bad URLs then
fill a log, or block a server whose output is a pipe nobody reads. Without rich, a 4xx is logged
by its access line only and a 500 as a plain traceback (datasette/handle_exception.py)."""
import datasette.handle_exception as datasette_errors

datasette_errors.rich = None
