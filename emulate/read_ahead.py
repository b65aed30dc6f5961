"""Read-ahead on sequential scans: the next page's row texts are built while the client parses this one.

A client reading a collection page by page asks for the next page only after it has parsed
the current one; a database reading a table in order fetches the next blocks meanwhile. So,
after a page of cached rows (emulate/json_cache.py) is served with a next link, the service
hands one background worker the building of the next page's texts: the same query the next
request will run, on the worker's own cursor, in its own read transaction (never under the
store's write lock). The texts are cached under each row's version (a page read by key: its
body under its rows' versions), as a request's are, so a row written before the next request
is picked at its new version and rebuilt: read-ahead can make a page cheaper, never
different. (With no write committed meanwhile, the request finds the page kept as built and
runs no query at all.)

A page built ahead schedules the one after it, up to `AHEAD` pages beyond the page served:
building a page costs about what parsing one does, so one page ahead would keep the client
waiting for the rest of each build. A scan read by key (Dataverse without `$orderby`) is kept
2 x `RUN` pages ahead instead, built `RUN` pages at a time (emulate/odata/pages.py
`key_pages`: one query builds them all, a third cheaper than one query a page), after a ramp
of one page, then two: the client asks for the second page about one parse after the first,
and a request for a page of a run waits for the whole run. Bounded: at most one page waits
per request shape (a newer page of the shape replaces it), at most `depth` pages wait in all
(more are not read ahead), one is built at a time.

The same worker warms the tenant at start (emulate/warm_up.py): it builds the first pages of
the scans served before (`first_pages`, at most `SCANS`), after any page read ahead for a
request. A request for a page being warmed waits for it; one still queued it builds itself.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

Job = Callable[[], object]
DEPTH = 2  # pages waiting for the worker, over every request shape
AHEAD = 2  # pages of one scan built ahead of the page served (each built one schedules the next)
RUN = 4  # pages of a scan read by key built at a time (and twice as many kept built ahead of the page served)
SETTLE_S = 5.0  # longest a request waits for the worker to finish its page (then it builds the page itself)
STOP_S = 10.0  # longest stop() waits for the page being built
SCANS = 32  # first pages remembered for the next start's warm-up


class ReadAhead:
    """One service's read-ahead worker; `enabled()` is asked at each page (settings may change while serving)."""

    def __init__(self, enabled: Callable[[], bool], depth: int = DEPTH) -> None:
        self._enabled = enabled
        self._depth = depth
        self._waiting: OrderedDict[Hashable, tuple[Hashable, Job]] = OrderedDict()  # shape -> (page, job)
        self._warming: OrderedDict[tuple[Hashable, Hashable], Job] = OrderedDict()  # (shape, page) -> job, after _waiting
        self.first_pages: OrderedDict[Hashable, None] = OrderedDict()  # scans served from their first page, most recent last
        self._running: tuple[Hashable, Hashable] | None = None  # (shape, page) being built
        self._job = 0  # jobs started: tells one running job from the next
        self._changed = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.built = 0  # pages built ahead (tests, benchmarks)
        self.warmed = 0  # pages built by the start-up warm-up

    def schedule(self, shape: Hashable, page: Hashable, job: Job) -> bool:
        """Have `job` build `page` of `shape` in the background; False when off, stopped or full."""
        if not self._enabled():
            return False
        with self._changed:
            if self._stopped or self._running == (shape, page):
                return False
            if shape not in self._waiting and len(self._waiting) >= self._depth:
                return False  # busy: this scan's next page is built when asked for
            self._waiting[shape] = (page, job)
            self._waiting.move_to_end(shape)
            self._wake()
            return True

    def warm(self, shape: Hashable, page: Hashable, job: Job) -> bool:
        """Have `job` build `page` of `shape` when no read-ahead page waits; False when off or stopped."""
        if not self._enabled():
            return False
        with self._changed:
            if self._stopped or len(self._warming) >= SCANS:
                return False
            self._warming[(shape, page)] = job
            self._wake()
            return True

    def warmed_up(self, timeout: float) -> bool:
        """Wait until no page of the start-up warm-up is queued or being built (at most `timeout` seconds)."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._warming and (self._running is None or self._stopped), timeout=timeout)

    def remember(self, scan: Hashable) -> None:
        """Note a scan served from its first page (the next start warms the most recent `SCANS`)."""
        with self._changed:
            self.first_pages[scan] = None
            self.first_pages.move_to_end(scan)
            while len(self.first_pages) > SCANS:
                self.first_pages.popitem(last=False)

    def _wake(self) -> None:
        """Start the worker if need be and tell it there is work (holding `_changed`)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="emulate-read-ahead", daemon=True)
            self._thread.start()
        self._changed.notify_all()

    def settle(self, shape: Hashable, page: Hashable, built: Callable[[], bool] | None = None) -> None:
        """Before serving `page` of `shape`: wait while the worker builds it; drop it if it is still waiting (the
        request builds it now rather than after the worker's other pages). With `built` (whether the page is built
        now), wait while the job running now builds a page of `shape`, until the page is built or that job ends:
        a run of pages read by key builds pages after its first (the jobs after it are not waited for)."""
        with self._changed:
            waiting = self._waiting.get(shape)
            if waiting is not None and waiting[0] == page:
                del self._waiting[shape]
            self._warming.pop((shape, page), None)
            running = self._running
            if built is None:
                self._changed.wait_for(lambda: self._running != (shape, page), timeout=SETTLE_S)
            elif running is not None and running[0] == shape:
                job = self._job
                self._changed.wait_for(lambda: self._running is None or self._job != job or built(), timeout=SETTLE_S)

    @property
    def pending(self) -> int:
        """Pages waiting or being built."""
        with self._changed:
            return len(self._waiting) + len(self._warming) + (self._running is not None)

    def stop(self) -> None:
        """Drop the waiting pages and wait for the one being built (call before the store closes)."""
        with self._changed:
            self._stopped = True
            self._waiting.clear()
            self._warming.clear()
            self._changed.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=STOP_S)

    def _work(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._waiting or self._warming or self._stopped)
                if self._stopped:
                    return
                warming = not self._waiting
                if warming:
                    (shape, page), job = self._warming.popitem(last=False)
                else:
                    shape, (page, job) = self._waiting.popitem(last=False)
                self._running = (shape, page)
                self._job += 1
            try:
                job()
                if warming:
                    self.warmed += 1
                else:
                    self.built += 1
            except Exception:  # noqa: BLE001 - a page not read ahead is built by its request, which reports any error
                pass
            finally:
                with self._changed:
                    self._running = None
                    self._changed.notify_all()
