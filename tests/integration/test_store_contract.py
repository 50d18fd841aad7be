"""The ObjectStore contract: every adapter (local directory, S3 via LocalStack) must pass all of it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from stillframe.errors import ObjectChanged, ObjectExists, ObjectNotFound
from stillframe.storage.port import ObjectInfo, ObjectStore


def keys(store: ObjectStore, prefix: str = "", start_after: str = "", limit: int | None = None) -> list[str]:
    return [info.key for info in store.list(prefix, start_after=start_after, limit=limit)]


def byte_order(items: list[str]) -> list[str]:
    return sorted(items, key=lambda k: k.encode("utf-8"))


# Keys whose order differs between naive orders and S3's UTF-8 byte order:
# "a.b" < "a/b" < "a0" (the "/" of a "directory" is just a byte), digits compare as text, "Z" < "a".
TRICKY_KEYS = [
    "a/b",
    "a.b",
    "a-",
    "a0",
    "a/c/d",
    "n/9",
    "n/10",
    "n/100",
    "n/2",
    "Z",
    "z",
]
# Keys that URL-encoding changes: "a b" < "z" < "é" < "～" (U+FF5E) < "😀" (U+1F600) in UTF-8,
# although UTF-16 puts "😀" before "～".
ENCODED_KEYS = ["z", "a b", "é", "～", "😀", "streams/é/x", "streams/e/x", "streams/～"]
# LocalStack 4.9.2 compares StartAfter and ContinuationToken with URL-encoded keys ("é" as "%C3%A9"), so it
# misplaces such keys around them (localstack/localstack#13745; 4.14 still gets the order wrong).
# Real S3 and the local adapter use byte order. strict: this starts failing once LocalStack is fixed.
LOCALSTACK_ENCODED_ORDER = pytest.mark.xfail(
    strict=True, reason="LocalStack S3 orders StartAfter against URL-encoded keys (localstack#13745)"
)


def put_all(store: ObjectStore, names: list[str]) -> None:
    for name in names:
        store.put(name, name.encode("utf-8"))


# -- whole-object reads and writes ----------------------------------------------------------


def test_put_then_get_returns_the_bytes(store: ObjectStore) -> None:
    # Given an object written with put
    store.put("streams/cam/stream.json", b'{"name": "cam"}')
    # When it is read back
    # Then the same bytes come back
    assert store.get("streams/cam/stream.json") == b'{"name": "cam"}'


def test_put_overwrites_the_previous_object(store: ObjectStore) -> None:
    # Given an object that exists
    store.put("k", b"first version, longer")
    # When put writes the key again
    store.put("k", b"second")
    # Then only the new bytes are read and listed
    assert store.get("k") == b"second"
    assert list(store.list("")) == [ObjectInfo("k", 6)]


def test_missing_key_raises_object_not_found_everywhere(store: ObjectStore) -> None:
    # Given an empty store
    # When a missing key is read in any way
    # Then ObjectNotFound is raised
    with pytest.raises(ObjectNotFound):
        store.get("nope")
    with pytest.raises(ObjectNotFound):
        store.get_range("nope", 0, 10)
    with pytest.raises(ObjectNotFound):
        store.head("nope")


def test_empty_object_round_trips(store: ObjectStore) -> None:
    # Given an empty object (index markers are empty)
    store.put("streams/cam/index/server/0000000001000.2000.1", b"")
    # When it is read, sized and ranged
    # Then it exists with size 0 and every read is empty
    assert store.get("streams/cam/index/server/0000000001000.2000.1") == b""
    assert store.head("streams/cam/index/server/0000000001000.2000.1") == ObjectInfo(
        "streams/cam/index/server/0000000001000.2000.1", 0
    )
    assert store.get_range("streams/cam/index/server/0000000001000.2000.1", 0, 99) == b""
    assert keys(store) == ["streams/cam/index/server/0000000001000.2000.1"]


# -- create-if-absent -----------------------------------------------------------------------


def test_create_writes_an_absent_key(store: ObjectStore) -> None:
    # Given an absent key
    # When it is created
    store.create("streams/cam/fragments/1.mkv", b"fragment")
    # Then it reads back
    assert store.get("streams/cam/fragments/1.mkv") == b"fragment"


def test_create_twice_raises_object_exists_and_keeps_the_first(store: ObjectStore) -> None:
    # Given a key written by create
    store.create("streams/cam/stream.json", b"first")
    # When create is called again for the same key
    with pytest.raises(ObjectExists):
        store.create("streams/cam/stream.json", b"second")
    # Then the first object is untouched
    assert store.get("streams/cam/stream.json") == b"first"


def test_create_after_delete_succeeds(store: ObjectStore) -> None:
    # Given a key that was created and deleted
    store.create("k", b"one")
    store.delete("k")
    # When it is created again
    store.create("k", b"two")
    # Then the new object is there
    assert store.get("k") == b"two"


def test_concurrent_creates_let_exactly_one_win(store: ObjectStore) -> None:
    # Given 6 threads racing to create the same key with different bytes
    payloads = [bytes([i]) * 1000 for i in range(6)]

    def attempt(data: bytes) -> bool:
        try:
            store.create("race", data)
        except ObjectExists:
            return False
        return True

    # When they all run
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(attempt, payloads))
    # Then exactly one succeeded and its bytes are stored
    assert results.count(True) == 1
    assert store.get("race") == payloads[results.index(True)]


# -- ranged reads ---------------------------------------------------------------------------


def test_get_range_is_inclusive(store: ObjectStore) -> None:
    # Given a 10-byte object
    store.put("r", b"0123456789")
    # When ranges are read
    # Then both ends are included
    assert store.get_range("r", 2, 5) == b"2345"
    assert store.get_range("r", 0, 0) == b"0"
    assert store.get_range("r", 9, 9) == b"9"
    assert store.get_range("r", 0, 9) == b"0123456789"


def test_get_range_clips_at_the_end(store: ObjectStore) -> None:
    # Given a 10-byte object
    store.put("r", b"0123456789")
    # When a range runs past the end, or starts past it
    # Then the read is clipped (or empty)
    assert store.get_range("r", 7, 1_000_000) == b"789"
    assert store.get_range("r", 10, 20) == b""
    assert store.get_range("r", 50, 60) == b""


def test_get_range_rejects_an_inverted_range(store: ObjectStore) -> None:
    # Given an object
    store.put("r", b"0123456789")
    # When the range ends before it starts
    # Then it is a programming error
    with pytest.raises(ValueError, match="byte range"):
        store.get_range("r", 5, 4)


# -- head and delete ------------------------------------------------------------------------


def test_head_reports_the_size(store: ObjectStore) -> None:
    # Given an object of 1234 bytes
    store.put("streams/cam/fragments/7.mkv", b"x" * 1234)
    # When head is asked
    # Then it reports the key and size
    assert store.head("streams/cam/fragments/7.mkv") == ObjectInfo("streams/cam/fragments/7.mkv", 1234)


def test_delete_removes_only_that_object(store: ObjectStore) -> None:
    # Given two objects side by side
    store.put("d/one", b"1")
    store.put("d/two", b"2")
    # When one is deleted
    store.delete("d/one")
    # Then it is gone and its neighbour stays
    with pytest.raises(ObjectNotFound):
        store.get("d/one")
    assert store.get("d/two") == b"2"
    assert keys(store) == ["d/two"]


def test_delete_of_an_absent_key_is_fine(store: ObjectStore) -> None:
    # Given an empty store
    # When absent keys are deleted (also under missing "directories")
    store.delete("nope")
    store.delete("no/such/dir/key")
    # Then nothing happens and nothing is listed
    assert keys(store) == []


def test_a_deleted_prefix_can_become_a_key(store: ObjectStore) -> None:
    # Given "x/y" was written and deleted
    store.put("x/y", b"1")
    store.delete("x/y")
    # When "x" itself is written
    store.put("x", b"2")
    # Then it is an ordinary object
    assert store.get("x") == b"2"
    assert keys(store) == ["x"]


# -- listing --------------------------------------------------------------------------------


def test_replace_writes_only_the_version_it_was_given(store: ObjectStore) -> None:
    # Given an object read with its tag, which a listing shows too
    store.put("streams/a.json", b"one")
    data, tag = store.get_tagged("streams/a.json")
    assert data == b"one" and [info.tag for info in store.list("streams/")] == [tag]
    # When it is replaced at that tag
    store.replace("streams/a.json", b"two", tag)
    # Then the new bytes are there, and the old tag no longer matches
    data, newer = store.get_tagged("streams/a.json")
    assert data == b"two" and newer != tag
    with pytest.raises(ObjectChanged):
        store.replace("streams/a.json", b"three", tag)
    assert store.get("streams/a.json") == b"two"


def test_replace_refuses_an_object_deleted_since_it_was_read(store: ObjectStore) -> None:
    # Given an object read with its tag, then deleted by another writer
    store.put("streams/a.json", b"one")
    _, tag = store.get_tagged("streams/a.json")
    store.delete("streams/a.json")
    # When it is replaced at the old tag, Then the write is refused and nothing comes back
    with pytest.raises(ObjectChanged):
        store.replace("streams/a.json", b"two", tag)
    with pytest.raises(ObjectNotFound):
        store.get("streams/a.json")


def test_concurrent_replaces_of_one_version_let_exactly_one_win(store: ObjectStore) -> None:
    # Given an object that eight writers read at the same version
    store.put("streams/a.json", b"start")
    _, tag = store.get_tagged("streams/a.json")
    barrier = threading.Barrier(8)

    def write(n: int) -> bool:
        barrier.wait()
        try:
            store.replace("streams/a.json", f"writer {n}".encode(), tag)
            return True
        except ObjectChanged:
            return False

    # When they all write it back at once
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(write, range(8)))
    # Then exactly one write took effect, and it is the one stored
    assert won.count(True) == 1
    assert store.get("streams/a.json") == f"writer {won.index(True)}".encode()


def test_list_tags_change_exactly_when_an_object_is_written_again(store: ObjectStore) -> None:
    # Given two objects, listed once
    store.put("streams/a.json", b"one")
    store.put("streams/b.json", b"two")
    before = {info.key: info.tag for info in store.list("streams/")}
    # When one is written again (same size, other bytes) and the other is left alone
    store.put("streams/a.json", b"uno")
    after = {info.key: info.tag for info in store.list("streams/")}
    # Then only the rewritten one lists with a new tag: a cached copy of b is still current, of a it is not
    assert all(before.values())
    assert after["streams/b.json"] == before["streams/b.json"]
    assert after["streams/a.json"] != before["streams/a.json"]


def test_list_is_in_utf8_byte_order(store: ObjectStore) -> None:
    # Given keys whose order is easy to get wrong, ASCII and not
    put_all(store, TRICKY_KEYS + ENCODED_KEYS[1:])
    # When everything is listed
    # Then the keys come in S3's UTF-8 byte order, each with its size
    assert keys(store) == byte_order(TRICKY_KEYS + ENCODED_KEYS[1:])
    assert keys(store)[:4] == ["Z", "a b", "a-", "a.b"]
    assert keys(store)[-3:] == ["é", "～", "😀"]
    assert {info.key: info.size for info in store.list("")} == {
        k: len(k.encode()) for k in TRICKY_KEYS + ENCODED_KEYS[1:]
    }


def test_list_start_after_among_url_encoded_keys(store: ObjectStore, request: pytest.FixtureRequest) -> None:
    if request.node.callspec.params["store"] == "s3":
        request.applymarker(LOCALSTACK_ENCODED_ORDER)
    # Given keys with spaces and non-ASCII characters
    put_all(store, ENCODED_KEYS)
    ordered = byte_order(ENCODED_KEYS)
    # When listing resumes after each key, and after an ASCII key that sorts before them all
    # Then the rest follow in UTF-8 byte order
    for i, key in enumerate(ordered):
        assert keys(store, start_after=key) == ordered[i + 1 :], key
    assert keys(store, start_after="y") == ["z", "é", "～", "😀"]
    assert keys(store, "streams/", start_after="streams/e/x") == ["streams/é/x", "streams/～"]


def test_list_start_after_between_keys(store: ObjectStore) -> None:
    # Given the tricky keys
    put_all(store, TRICKY_KEYS)
    ordered = byte_order(TRICKY_KEYS)
    # When listing starts after a key that does not exist ("a/bz" sorts between "a/b" and "a/c/d")
    # Then the listing resumes at the next existing key
    assert keys(store, start_after="a/bz") == ordered[ordered.index("a/c/d") :]
    assert keys(store, start_after="a/") == ordered[ordered.index("a/b") :]
    assert keys(store, start_after="a.c") == ordered[ordered.index("a/b") :]


def test_list_start_after_is_exclusive(store: ObjectStore) -> None:
    # Given the tricky keys
    put_all(store, TRICKY_KEYS)
    ordered = byte_order(TRICKY_KEYS)
    # When listing starts after each existing key
    # Then that key is not repeated and the rest follow in order
    for i, key in enumerate(ordered):
        assert keys(store, start_after=key) == ordered[i + 1 :], key


def test_list_start_after_before_all_and_after_all(store: ObjectStore) -> None:
    # Given the tricky keys
    put_all(store, TRICKY_KEYS)
    # When start_after is before every key, or after every key
    # Then all keys, or none, are listed
    assert keys(store, start_after="!") == byte_order(TRICKY_KEYS)
    assert keys(store, start_after="\U0010ffff") == []


def test_list_limit(store: ObjectStore) -> None:
    # Given the tricky keys
    put_all(store, TRICKY_KEYS)
    ordered = byte_order(TRICKY_KEYS)
    # When a limit is given, alone or with start_after and a prefix
    # Then at most that many keys come, from the right place
    assert keys(store, limit=3) == ordered[:3]
    assert keys(store, start_after="a/b", limit=2) == ["a/c/d", "a0"]
    assert keys(store, "n/", start_after="n/10", limit=2) == ["n/100", "n/2"]
    assert keys(store, limit=0) == []
    assert keys(store, limit=1000) == ordered


def test_list_prefix_is_a_plain_string_prefix(store: ObjectStore) -> None:
    # Given keys where a prefix does not end on a "directory" boundary
    put_all(store, ["streams/abc/x", "streams/ab", "streams/abd", "streams/a/x", "streams/b", "streams2/q", "s"])
    # When listing by prefix
    # Then every key that starts with the prefix string matches, whatever "directory" it is in
    assert keys(store, "streams/ab") == ["streams/ab", "streams/abc/x", "streams/abd"]
    assert keys(store, "streams/") == ["streams/a/x", "streams/ab", "streams/abc/x", "streams/abd", "streams/b"]
    assert keys(store, "streams") == [
        "streams/a/x",
        "streams/ab",
        "streams/abc/x",
        "streams/abd",
        "streams/b",
        "streams2/q",
    ]
    assert keys(store, "streams/abc/x") == ["streams/abc/x"]
    assert keys(store, "streams/zz") == []
    assert keys(store, "nothing/here/") == []


def test_list_prefix_with_start_after_outside_it(store: ObjectStore) -> None:
    # Given keys in two "directories"
    put_all(store, ["m/1", "m/2", "p/1", "p/2"])
    # When start_after sorts before, or after, the prefix
    # Then it either changes nothing or leaves nothing
    assert keys(store, "p/", start_after="m/9") == ["p/1", "p/2"]
    assert keys(store, "m/", start_after="p/") == []


def test_list_an_index_in_time_order(store: ObjectStore) -> None:
    # Given index markers with zero-padded start times, written out of order
    markers = [f"streams/cam/index/server/{ms:013d}.2000.{n}" for n, ms in enumerate([4000, 0, 2000, 10000, 8000])]
    for marker in markers:
        store.put(marker, b"")
    # When the markers after 2000 ms are listed (the time-range lookup)
    found = keys(store, "streams/cam/index/server/", start_after="streams/cam/index/server/0000000002000")
    # Then they come in time order starting at the first one after 2000 ms
    assert found == [markers[2], markers[0], markers[4], markers[3]]


# -- awkward keys ---------------------------------------------------------------------------


def test_unicode_keys_round_trip(store: ObjectStore) -> None:
    # Given keys in several scripts and an emoji
    names = ["ストリーム/カメラ/stream.json", "streams/café/x", "😀/🎥"]
    put_all(store, names)
    # When read and listed
    # Then the keys are preserved exactly
    for name in names:
        assert store.get(name) == name.encode()
    assert keys(store) == byte_order(names)
    assert keys(store, "streams/caf") == ["streams/café/x"]


def test_dot_segments_are_ordinary_keys(store: ObjectStore) -> None:
    # Given keys with "." and ".." segments (stream names may be "..")
    names = ["streams/../stream.json", "streams/./stream.json", "../up", "./.", "a/.../b", ".hidden"]
    put_all(store, names)
    # When they are read, listed and deleted
    # Then each is its own object, nothing collapses into another path
    for name in names:
        assert store.get(name) == name.encode()
    assert keys(store) == byte_order(names)
    assert keys(store, "streams/..") == ["streams/../stream.json"]
    store.delete("streams/../stream.json")
    assert keys(store, "streams/") == ["streams/./stream.json"]


def test_percent_signs_do_not_collide_with_encoded_names(store: ObjectStore) -> None:
    # Given keys that look like percent-escapes next to the characters they would encode
    names = [".", "..", "%2E", "%2E%2E", "%25", "%", "a%00b"]
    put_all(store, ["d/" + n for n in names])
    # When read and listed
    # Then all are distinct objects
    for name in names:
        assert store.get("d/" + name) == ("d/" + name).encode()
    assert keys(store, "d/") == byte_order(["d/" + n for n in names])


@pytest.mark.parametrize("bad", ["", "/leading", "trailing/", "double//slash"])
def test_keys_with_empty_segments_are_rejected(store: ObjectStore, bad: str) -> None:
    # Given a key with an empty segment
    # When it is written
    # Then the adapter refuses it the same way on every backend
    with pytest.raises(ValueError):
        store.put(bad, b"x")


# -- concurrency ----------------------------------------------------------------------------


def test_concurrent_writes_and_reads_of_one_key_are_always_whole(store: ObjectStore) -> None:
    # Given one key that writers keep replacing with whole, distinct payloads
    size = 256 * 1024
    payloads = {bytes([i]) * size for i in range(4)}
    store.put("hot", bytes([0]) * size)
    stop = threading.Event()
    seen: list[bytes] = []

    def writer(i: int) -> None:
        for _ in range(10):
            store.put("hot", bytes([i]) * size)

    def reader() -> None:
        while not stop.is_set():
            seen.append(store.get("hot"))

    # When 3 writers and 2 readers run at once
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers:
        t.start()
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(writer, [1, 2, 3]))
    stop.set()
    for t in readers:
        t.join()
    # Then every read saw one complete payload, never a mix or a partial object
    assert seen
    assert all(data in payloads for data in seen)
    assert store.get("hot") in payloads


def test_delete_objects_removes_many_keys_and_ignores_absent_ones(store: ObjectStore) -> None:
    from stillframe.storage import delete_objects

    # Given some objects
    put_all(store, ["m/a", "m/b", "m/c", "keep"])
    # When they and an absent key are deleted in one call
    delete_objects(store, ["m/a", "m/b", "m/c", "m/absent"])
    # Then only the other object is left
    assert keys(store) == ["keep"]
