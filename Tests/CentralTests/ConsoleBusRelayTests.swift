import Central
import Synchronization
import Testing

/// A cluster's consoles wake together: a change here is told to the other
/// nodes, a change heard from them is not told back (no echo).
@Suite struct ConsoleBusRelayTests {
    final class Count: Sendable {
        let value = Mutex(0)
    }

    @Test func localChangesAreRelayedAndChangesFromElsewhereAreNot() async {
        let bus = ConsoleBus()
        let relayed = Count()
        bus.relayChanges { relayed.value.withLock { $0 += 1 } }
        let (id, changes) = bus.subscribe()
        var wakes = changes.makeAsyncIterator()

        bus.changedElsewhere()
        #expect(await wakes.next() != nil)
        #expect(relayed.value.withLock { $0 } == 0)

        bus.changed()
        #expect(await wakes.next() != nil)
        #expect(relayed.value.withLock { $0 } == 1)
        bus.cancel(id)
    }
}
